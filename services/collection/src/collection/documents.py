"""The letters of a dunning case as PDF documents: composed when the step is taken, printed the
first time anyone needs them (the mail, a download) and kept from then on with their SHA-256."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.documents import PrintedDocument, kept_document
from smart_shared.mongo import Document

from collection.domain import Letter
from collection.store import read_case


def letter_pdf(letter: Letter, author: str, created: datetime) -> bytes:
    """One letter on A4 in the embedded font: the creditor, the debtor, the date, the text, the
    invoice claimed, the amounts one by one, how to pay."""
    pdf = PrintedDocument(letter.subject, author, created)
    for index, line in enumerate(letter.sender):
        pdf.paragraph(line, 13 if index == 0 else 9, bold=index == 0, height=6 if index else 7)
    pdf.ln(8)
    for line in letter.recipient:
        pdf.paragraph(line, 10)
    pdf.ln(6)
    if letter.dated:
        pdf.paragraph(letter.dated, 10)
        pdf.ln(4)
    pdf.paragraph(letter.subject, 14, bold=True, height=8)
    pdf.ln(2)
    pdf.paragraph(letter.salutation)
    pdf.ln(2)
    for paragraph in letter.paragraphs:
        pdf.paragraph(paragraph)
        pdf.ln(2)
    pdf.ln(2)
    for index, line in enumerate(letter.invoice):
        pdf.paragraph(line, bold=index == 0)
    pdf.ln(2)
    for label, value in letter.amounts:
        pdf.pair(label, value)
    pdf.pair(*letter.total, bold=True)
    pdf.ln(4)
    for note in letter.notes:
        pdf.paragraph(note, 9)
    return pdf.content()


def sent_letter(case: Document, level: str) -> Document:
    """The timeline entry of the letter of ``level`` (LookupError when none was sent)."""
    entry = next((e for e in case.get("timeline", [])
                  if e.get("kind") == "reminder_sent" and e.get("level") == level), None)
    if entry is None or "letter" not in entry:
        raise LookupError(f"no {level} letter in case {case['_id']}")
    return entry  # type: ignore[no-any-return]


async def kept_letter_pdf(db: AsyncDatabase[Document], case: Document, level: str) -> Document:
    """The PDF of the case's letter of ``level`` as kept for good, dated on the day it was sent."""
    entry = sent_letter(case, level)
    letter = Letter.from_document(entry["letter"])
    created = datetime.combine(date.fromisoformat(entry["on"]), time(), tzinfo=UTC)
    author = letter.sender[0] if letter.sender else "SMart"
    return await kept_document(db, "letter", f"{case['_id']}:{level}", case["branch"],
                               case["member_id"], "application/pdf", created,
                               lambda: letter_pdf(letter, author, created))


async def letter_of(db: AsyncDatabase[Document], key: str) -> bytes:
    """The kept PDF bytes of ``{case_id}:{level}`` (the mail relay's attachment source)."""
    case_id, _, level = key.rpartition(":")
    case = await read_case(db, case_id)
    if case is None:
        raise LookupError(f"no case {case_id}")
    return bytes((await kept_letter_pdf(db, case, level))["content"])
