"""The mails collection sends the client: each step's letter (reminders, formal notice, …) as a
PDF attached to a short cover mail in the client's language.

The letter is the text the case's timeline keeps for the step; the PDF is made from it when the
mail is sent.
"""

from __future__ import annotations

from fpdf import FPDF
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.events.catalogue import ReminderLevel
from smart_shared.mail import Attachment, AttachmentSource, CapabilityLink, Mail
from smart_shared.money import Money
from smart_shared.mongo import Document

from collection.domain.letters import SUBJECTS
from collection.store import CASES


def letter_mail(case: Document, level: ReminderLevel, total_claimed: Money) -> Mail:
    client = case["client"]
    subject = SUBJECTS[client["language"]][level]
    return Mail(
        cause=f"letter:{case['_id']}:{level}", to=client["email"], to_name=client["name"],
        language=client["language"], branch=case["branch"], template="collection_letter",
        data={"client_name": client["name"], "letter": subject,
              "number": case["invoice_number"], "total": total_claimed},
        # the invoice page, where the client may ask for a payment plan
        links=(CapabilityLink("link", "invoice", case["invoice_id"]),),
        attachments=(Attachment("letter", f"{case['_id']}:{level}",
                                f"{case['invoice_number']}-{level}.pdf", "application/pdf"),),
    )


def letter_pdf(title: str, text: str) -> bytes:
    """A one-page letter (core fonts: Latin-1, with the euro sign spelt out)."""
    def latin1(value: str) -> str:
        return value.replace("€", "EUR").encode("latin-1", "replace").decode("latin-1")

    pdf = FPDF(format="A4")
    pdf.set_title(latin1(title))
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 6, latin1(text), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


async def _letter(db: AsyncDatabase[Document], key: str) -> bytes:
    case_id, _, level = key.rpartition(":")
    case = await db[CASES].find_one({"_id": case_id}, {"timeline": 1, "client": 1})
    entry = next((e for e in (case or {}).get("timeline", [])
                  if e.get("kind") == "reminder_sent" and e.get("level") == level), None)
    if case is None or entry is None:
        raise LookupError(f"no {level} letter in case {case_id}")
    return letter_pdf(SUBJECTS[case["client"]["language"]][level], entry["text"])  # type: ignore[index]


ATTACHMENTS: dict[str, AttachmentSource] = {"letter": _letter}
