"""The mails collection sends the client: each step's letter (reminders, formal notice, …) as a
PDF attached to a short cover mail in the client's language.

The letter is composed when the step is taken and kept in the case's timeline; its PDF is
printed from it the first time the mail is sent or the letter downloaded, and kept from then on.
"""

from __future__ import annotations

from datetime import date

from smart_shared.events.catalogue import Language, ReminderLevel
from smart_shared.mail import Attachment, AttachmentSource, CapabilityLink, Mail
from smart_shared.money import Money
from smart_shared.mongo import Document

from collection.documents import letter_of
from collection.domain.letters import SUBJECTS


def letter_mail(case: Document, level: ReminderLevel, total_claimed: Money,
                pay_by: date | None = None) -> Mail:
    client = case["client"]
    language: Language = "fr" if case["branch"] == "FR" else client["language"]
    subject = SUBJECTS[language][level]
    return Mail(
        cause=f"letter:{case['_id']}:{level}", to=client["email"], to_name=client["name"],
        language=language, branch=case["branch"], template="collection_letter",
        data={"client_name": client["name"], "letter": subject,
              "number": case["invoice_number"], "total": total_claimed, "pay_by": pay_by},
        # the invoice page, where the client may ask for a payment plan
        links=(CapabilityLink("link", "invoice", case["invoice_id"]),),
        attachments=(Attachment("letter", f"{case['_id']}:{level}",
                                f"{case['invoice_number']}-{level}.pdf", "application/pdf"),),
    )


ATTACHMENTS: dict[str, AttachmentSource] = {"letter": letter_of}
