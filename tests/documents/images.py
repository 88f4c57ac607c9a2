"""Renders the sample documents as images under docs/documents/ and prints what rendering one
invoice PDF costs: ``python -m tests.documents.images``."""

from __future__ import annotations

import time
from pathlib import Path

from billing.documents import credit_note_pdf, invoice_pdf

from tests.documents.reading import first_page_png
from tests.documents.samples import (
    MOMENT,
    sample_credit_note,
    sample_invoice,
    sample_letter_pdf,
)
from tests.documents.test_payslip import a_salary

DOCS = Path(__file__).resolve().parents[2] / "docs" / "documents"


def render_cost(times: int = 20) -> tuple[float, float]:
    """Seconds for the first invoice PDF of a process (font loaded) and then for each one."""
    invoice = sample_invoice("be-business")
    start = time.perf_counter()
    invoice_pdf(invoice, MOMENT)
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(times):
        invoice_pdf(invoice, MOMENT)
    return first, (time.perf_counter() - start) / times


def main() -> None:
    from payroll.payslip import payslip_pdf

    first, each = render_cost()
    print(f"invoice PDF: first of the process {first * 1000:.0f} ms, "
          f"then {each * 1000:.0f} ms each")
    DOCS.mkdir(parents=True, exist_ok=True)
    french, dutch = sample_invoice("be-business"), sample_invoice("be-consumer")
    documents = {
        "invoice-fr.png": invoice_pdf(french, MOMENT),
        "invoice-nl.png": invoice_pdf(dutch, MOMENT),
        "invoice-france.png": invoice_pdf(sample_invoice("fr-business"), MOMENT),
        "credit-note-fr.png": credit_note_pdf(sample_credit_note(french), french, MOMENT),
        "payslip-fr.png": payslip_pdf(*a_salary(), "fr"),
        "reminder-fr.png": sample_letter_pdf("reminder_1", "consumer", "fr"),
        "reminder-nl.png": sample_letter_pdf("reminder_1", "consumer", "nl"),
    }
    for name, content in documents.items():
        print(first_page_png(content, DOCS / name, dpi=80))


if __name__ == "__main__":
    main()
