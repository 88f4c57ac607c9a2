"""The EPC QR code ("scan to pay") of an invoice's balance, drawn as an SVG image."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from segno import helpers


def invoice_qr(invoice: dict[str, Any]) -> str | None:
    """A ``data:`` URI of the EPC QR code for what remains due (none when nothing is)."""
    balance = Decimal(str(invoice.get("balance_due", "0")))
    seller = invoice.get("seller") or {}
    if balance <= 0 or invoice.get("currency", "EUR") != "EUR" or not seller.get("iban"):
        return None
    reference = invoice.get("structured_reference")
    pay: dict[str, Any] = {"name": seller["name"], "iban": seller["iban"], "amount": balance,
                           "bic": seller.get("bic")}
    if reference:
        pay["reference"] = "".join(c for c in reference if c.isdigit())
    else:
        pay["text"] = invoice["number"]
    return str(helpers.make_epc_qr(**pay).svg_data_uri(scale=4, title="EPC QR"))
