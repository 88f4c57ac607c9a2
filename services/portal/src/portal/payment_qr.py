"""The EPC QR code ("scan to pay") of an invoice's balance, drawn as an SVG image."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from smart_shared.qr import make_epc_qr


def invoice_qr(invoice: dict[str, Any]) -> str | None:
    """A ``data:`` URI of the EPC QR code for what remains due (none when nothing is)."""
    balance = Decimal(str(invoice.get("balance_due", "0")))
    seller = invoice.get("seller") or {}
    if balance <= 0 or invoice.get("currency", "EUR") != "EUR" or not seller.get("iban"):
        return None
    return str(make_epc_qr(name=seller["name"], iban=seller["iban"], amount=balance,
                           communication=invoice.get("structured_reference")
                           or invoice["number"], bic=seller.get("bic"))
               .svg_data_uri(scale=4, title="EPC QR"))
