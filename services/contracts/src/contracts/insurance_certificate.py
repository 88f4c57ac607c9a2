"""The certificate of insurance cover of a signed contract, as a PDF in its reader's language:
the policies that cover the member on the contract's work days, each with its insurer, number,
what it covers and up to what; a cancelled contract's certificate says the cover ended."""

from __future__ import annotations

from smart_shared.documents import PrintedDocument, Wording
from smart_shared.events import InsurancePolicy
from smart_shared.mail.render import default_language

from contracts.contract_pdf import MESSAGES, cooperative_document
from contracts.domain import Contract, covered_days
from contracts.domain.members import KnownMember

POLICY_TITLES = {
    "work_accident": "Work accident insurance",
    "civil_liability": "Civil liability insurance",
    "accident_in_life": "Accident insurance of the member's life",
}


def member_language(contract: Contract, member: KnownMember | None) -> str:
    """The member's language, else the branch's (the member reads their own certificate)."""
    chosen = member.contact.language if member and member.contact else None
    return chosen or default_language(contract.branch, contract.first_work_day)


def insurance_certificate_pdf(contract: Contract, member: KnownMember | None,
                              language: str) -> bytes:
    """The certificate of cover in ``language``; the same state of the contract always gives
    the same bytes (it is dated on the validation, or on the cancellation that ended it)."""
    cover = contract.insurance
    if cover is None or contract.signed_at is None:
        raise ValueError(f"contract {contract.contract_id} is not covered: not validated yet")
    wording = Wording(MESSAGES, language, contract.branch)
    text = wording.text
    dated = contract.cancelled_at if cover.ended_on and contract.cancelled_at else \
        contract.signed_at
    title = text("Certificate of insurance cover")
    pdf = cooperative_document(wording, contract, title, dated)
    pdf.paragraph(title, 16, bold=True, height=8)
    pdf.paragraph(text("Contract {contract}", contract=contract.contract_id), bold=True)
    pdf.ln(2)

    contact = member.contact if member else None
    pdf.paragraph(text("The cooperative certifies that it employs {member} for the work of this "
                       "contract for {client}, and that the insurances below cover it.",
                       member=contact.name if contact else text("its member"),
                       client=contract.client.name))
    pdf.paragraph(text("Activity: {activity}", activity=contract.activity.name))
    pdf.paragraph(text("Insurance the law requires: {law}.", law=text(cover.obligation)))
    pdf.ln(2)

    pdf.paragraph(text("Period of cover"), bold=True)
    pdf.paragraph(text("From {first} to {last}, on the work days of the contract ({count}): "
                       "{days}", first=wording.day(cover.covered_from),
                       last=wording.day(cover.covered_until), count=len(contract.work_days),
                       days=", ".join(wording.day(day) for day in contract.work_days)))
    if cover.ended_on is not None:
        pdf.paragraph(text("The cover ended on {day}: the contract was cancelled.",
                           day=wording.day(cover.ended_on)), bold=True)
        kept = covered_days(cover, contract.work_days)
        pdf.paragraph(text("Work days covered: {days}",
                           days=", ".join(wording.day(day) for day in kept)) if kept
                      else text("No work day was covered."))
    pdf.ln(2)

    for policy in cover.policies:
        _policy(pdf, wording, policy)
    if any(policy.placeholder for policy in cover.policies):
        pdf.paragraph(text("Example values: this deployment's rule pack holds placeholders for "
                           "the insurers, policy numbers or limits marked so, not the "
                           "branch's real policies."), size=8)
    pdf.paragraph(text("Issued on {day}.", day=wording.day(dated.date())), size=8)
    return pdf.content()


def _policy(pdf: PrintedDocument, wording: Wording, policy: InsurancePolicy) -> None:
    text = wording.text
    stand_in = f" ({text('placeholder')})" if policy.placeholder else ""
    pdf.paragraph(text(POLICY_TITLES[policy.kind]), bold=True)
    pdf.paragraph(text("Insurer: {insurer}", insurer=text(policy.insurer)))
    pdf.paragraph(text("Policy number: {number}", number=policy.policy_number) + stand_in)
    pdf.paragraph(text("Covers: {what}", what=text(policy.covers)))
    limit = policy.limit_per_claim
    pdf.paragraph(text("Limit per claim: {amount}",
                       amount=wording.money(limit.amount, limit.currency)) + stand_in
                  if limit is not None else text("Compensation: as the law sets it"))
    if policy.during == "from_first_contract":
        pdf.paragraph(text("Covers the member beyond the work days, from their first contract."))
    pdf.ln(2)
