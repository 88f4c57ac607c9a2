"""The mail payroll sends: "your salary is paid", with the payslip attached.

The member's address comes from members' events (``contact`` of ``MemberActivated`` and
``MemberUpdated``), kept in payroll's member projection beside the payout account and purged
with it on erasure.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from smart_shared.events.catalogue import MemberContact
from smart_shared.mail import Attachment, AttachmentSource, Mail
from smart_shared.mail.render import default_language
from smart_shared.mongo import Document

from payroll.payslip import payslip_of_salary


def salary_paid_mail(salary: Document, member: Document | None, amount: Any,
                     paid_on: date) -> Mail | None:
    """None when payroll has no address for the member (erased, or not told yet)."""
    if not member or not member.get("contact"):
        return None
    contact = MemberContact.model_validate(member["contact"])
    return Mail(
        cause=f"salary-paid:{salary['_id']}", to=contact.email, to_name=contact.name,
        branch=salary["branch"], template="salary_paid", person_id=salary["member_id"],
        language=contact.language or default_language(salary["branch"], paid_on),
        data={"name": contact.name, "amount": amount, "paid_on": paid_on,
              "last_work_day": salary["last_work_day"]},
        attachments=(Attachment("payslip", salary["_id"], f"payslip-{salary['_id']}.pdf",
                                "application/pdf"),),
    )


ATTACHMENTS: dict[str, AttachmentSource] = {"payslip": payslip_of_salary}
