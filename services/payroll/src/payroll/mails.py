"""The mail payroll sends: "your salary is paid", with the payslip attached; "the bank returned
your salary" to the member; and to the branch's staff mailbox, "a payment file is ready" and
"the bank rejected transfers".

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


def salary_rejected_mail(salary: Document, member: Document | None, rejection: Document,
                         on: date) -> Mail | None:
    """The member's alert that the bank returned their salary, and why; None without an
    address."""
    if not member or not member.get("contact"):
        return None
    contact = MemberContact.model_validate(member["contact"])
    return Mail(
        cause=f"salary-rejected:{rejection['payment_run_id']}:{salary['_id']}", to=contact.email,
        to_name=contact.name, branch=salary["branch"], template="salary_rejected",
        person_id=salary["member_id"],
        language=contact.language or default_language(salary["branch"], on),
        data={"name": contact.name, "amount": salary["breakdown"]["paid"],
              "last_work_day": salary["last_work_day"], "code": rejection["code"],
              "reason": rejection["reason"], "account_unusable": rejection["account_unusable"],
              "iban_end": rejection["iban"][-4:]},
    )


def staff_address(mailbox: str | None, branch: str) -> str | None:
    """The branch's staff mailbox (``SMART_STAFF_MAILBOX``, e.g. ``staff-{branch}@smart.coop``)."""
    return mailbox.format(branch=branch.lower()) if mailbox else None


def payment_run_ready_mail(run: Document, mailbox: str | None, on: date) -> Mail | None:
    """Staff: the pain.001 file of a run opened by the scheduler is ready for the bank."""
    address = staff_address(mailbox, run["branch"])
    if address is None:
        return None
    return Mail(
        cause=f"payment-run-ready:{run['_id']}", to=address, branch=run["branch"],
        language=default_language(run["branch"], on), template="payment_run_ready",
        data={"payment_run_id": run["_id"], "pay_date": run["pay_date"],
              "execution_date": run["execution_date"], "count": run["count"],
              "total": run["total"], "excluded": len(run["excluded"])},
    )


def payments_rejected_mail(run: Document, report_id: str, rejected: list[Document],
                           mailbox: str | None, on: date) -> Mail | None:
    """Staff: the transfers a pain.002 report rejected, each with its reason."""
    address = staff_address(mailbox, run["branch"])
    if address is None or not rejected:
        return None
    return Mail(
        cause=f"payments-rejected:{run['_id']}:{report_id}", to=address, branch=run["branch"],
        language=default_language(run["branch"], on), template="payments_rejected",
        data={"payment_run_id": run["_id"], "report_id": report_id, "rejected": rejected},
    )


ATTACHMENTS: dict[str, AttachmentSource] = {"payslip": payslip_of_salary}
