"""Every kind of invoice and credit note passes the official Peppol BIS Billing 3.0 rules."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from billing.documents import credit_note_ubl, invoice_ubl

from tests.documents.samples import (
    CLIENTS,
    WORK_NATURES,
    sample_credit_note,
    sample_invoice,
    sample_prepaid_invoice,
)
from tests.peppol.validator import RULE_SETS, validate


def test_every_invoice_and_credit_note_passes_peppol_with_no_error_and_no_warning(
    tmp_path: Path,
) -> None:
    files = []
    for kind in CLIENTS:
        invoice = sample_invoice(kind)
        files.append(tmp_path / f"invoice-{kind}.xml")
        files[-1].write_bytes(invoice_ubl(invoice))
        for part, amount in (("full", None), ("part", Decimal("100.00"))):
            files.append(tmp_path / f"credit-note-{part}-{kind}.xml")
            files[-1].write_bytes(credit_note_ubl(sample_credit_note(invoice, amount), invoice))
    for nature in WORK_NATURES[1:]:  # each VAT category, for a Belgian business and consumer
        for kind in ("be-business", "be-consumer", "fr-business"):
            invoice = sample_invoice(kind, work_nature=nature)
            files.append(tmp_path / f"invoice-{kind}-{nature}.xml")
            files[-1].write_bytes(invoice_ubl(invoice))
            files.append(tmp_path / f"credit-note-{kind}-{nature}.xml")
            files[-1].write_bytes(credit_note_ubl(sample_credit_note(invoice), invoice))
    for kind in ("be-business", "be-consumer"):  # a client's credit deducted as prepaid
        files.append(tmp_path / f"invoice-prepaid-{kind}.xml")
        files[-1].write_bytes(invoice_ubl(sample_prepaid_invoice(kind)))
    verdict = validate(files)
    assert verdict.clean, verdict.report
    for version in RULE_SETS:
        assert verdict.report.count(f":{version}") == len(files), verdict.report


def test_the_validator_reports_a_broken_invoice(tmp_path: Path) -> None:
    broken = invoice_ubl(sample_invoice("be-business")).replace(b'schemeID="9925"',
                                                                 b'schemeID="EM"', 1)
    file = tmp_path / "invoice-broken.xml"
    file.write_bytes(broken)
    verdict = validate([file])
    assert not verdict.clean
    assert "PEPPOL-EN16931-CL008" in verdict.report
