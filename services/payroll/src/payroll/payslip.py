"""The payslip of a salary as a PDF in the member's language: the employer and the worker as
payroll knows them, the contract's period, and every rate the salary was computed with."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.codec import stored_day
from smart_shared.documents import Messages, PrintedDocument, Wording
from smart_shared.mongo import Document

from payroll import store
from payroll.domain.rules import salary_rules

MESSAGES = Messages(Path(__file__).parent / "messages")
MINUS, UNTIL = "\u2212 ", " \u2013 "  # typographic minus sign and en dash


def payslip_pdf(salary: Document, contract: Document, member: Document, language: str) -> bytes:
    """A one-page payslip of ``salary`` (a stored salary), with its ``contract`` and ``member``
    as payroll's projections hold them."""
    branch = salary["branch"]
    wording = Wording(MESSAGES, language, branch)
    text = wording.text
    last_work_day = stored_day(salary["last_work_day"])
    rules = salary_rules(branch, last_work_day)
    payer, payroll = rules.payroll.payer, rules.payroll
    breakdown: dict[str, Any] = salary["breakdown"]

    def amount(field: str) -> str:
        value = breakdown[field]
        return wording.money(Decimal(value["amount"]), value["currency"])

    created = salary.get("due_at") or datetime.combine(last_work_day, datetime.min.time())
    pdf = PrintedDocument(text("Payslip"), payer.name.value, created)
    pdf.paragraph(text("Payslip"), 16, bold=True, height=8)
    pdf.paragraph(payer.name.value, bold=True)
    pdf.paragraph(text("Enterprise number {number}", number=payer.enterprise_number.value))
    pdf.paragraph(text("Social security employer number {number}",
                       number=payer.social_security_number.value))
    pdf.ln(3)
    payout = member.get("payout") or {}
    contact = member.get("contact") or {}
    address = contact.get("address")
    activity = contract.get("activity") or {}
    first = stored_day(contract.get("first_work_day") or salary["last_work_day"])
    days = contract.get("work_days") or []
    facts = [
        (text("Worker"), contact.get("name") or payout.get("holder_name")
         or text("not known to payroll")),
        *([(text("Address"), f"{address['street']}, {address['postal_code']} "
                             f"{address['city']}, {address['country']}")] if address else []),
        (text("Member number"), salary["member_id"]),
        (text("Activity"), str(activity.get("name", salary["activity_kind"]))),
        (text("Joint committee"), str(activity.get("joint_committee", "—"))),
        (text("Contract"), salary["contract_id"]),
        (text("Period"), f"{wording.day(first)}{UNTIL}{wording.day(last_work_day)}"),
        (text("Days worked"), str(len(days)) if days else "—"),
        (text("Pay date"), wording.day(stored_day(salary["pay_date"]))),
        (text("Paid to account"), payout.get("iban") or "—"),
        (text("Rule pack"), breakdown["rule_pack"]),
    ]
    for label, value in facts:
        pdf.pair(label, value, width=60)
    pdf.ln(4)
    kind = salary["activity_kind"]
    base_rate = payroll.activities[kind].social_base_rate.value
    gross = Decimal(breakdown["gross"]["amount"])
    taxable = Decimal(breakdown["taxable"]["amount"])
    currency = breakdown["gross"]["currency"]
    approximate = False

    def contribution(line: dict[str, Any]) -> tuple[str, str, bool]:
        nonlocal approximate
        approximate = approximate or bool(line.get("approximation"))
        marker = " *" if line.get("approximation") else ""
        label = text("{contribution} ({rate} of {base})", contribution=text(line["label"]),
                     rate=wording.percent(Decimal(line["rate"])),
                     base=wording.money(Decimal(line["base"]["amount"]), currency))
        return (f"    {label}{marker}", MINUS + wording.money(
            Decimal(line["amount"]["amount"]), currency), False)

    lines = [
        (text("Amount invoiced excl. VAT"), amount("amount_excl_vat"), False),
        (text("SMart operating fee ({rate})", rate=wording.percent(rules.fee_rate)),
         MINUS + amount("fee"), False),
        (text("Expenses repaid"), MINUS + amount("expenses"), False),
        (text("Salary budget"), amount("budget"), False),
        (text("Employer social contributions"), MINUS + amount("employer_contributions"), False),
        *[contribution(line) for line in breakdown.get("employer_lines", []) if _owed(line)],
    ]
    remainder = breakdown.get("budget_remainder")
    if remainder and Decimal(remainder["amount"]):
        lines.append((f"    {text('Remainder of the budget below one cent of gross')}",
                      MINUS + wording.money(Decimal(remainder["amount"]), currency), False))
    lines.append((text("Gross salary"), amount("gross"), True))
    if base_rate != 1:
        lines.append((text("Social security base ({rate} of gross)",
                           rate=wording.percent(base_rate)),
                      wording.money(gross * base_rate, currency), False))
    rate = rules.withholding_rate(kind, taxable)
    lines += [
        (text("Employee social contributions"), MINUS + amount("employee_contributions"), False),
        *[contribution(line) for line in breakdown.get("employee_lines", []) if _owed(line)],
        (text("Taxable salary"), amount("taxable"), False),
        (text("Withholding tax ({rate})", rate=wording.percent(rate)) if rate is not None
         else text("Withholding tax (progressive scale)"),
         MINUS + amount("withholding_tax"), False),
        (text("Net salary"), amount("net"), True),
        (text("Expenses repaid"), "+ " + amount("expenses"), False),
        *([(text("Loan instalment withheld for the fund"), MINUS + amount("loan_withheld"),
            False)] if breakdown.get("loan_withheld") else []),
        (text("Paid to you"), amount("paid"), True),
    ]
    for label, value, bold in lines:
        pdf.pair(label, value, bold=bold, width=120)
    if approximate:
        pdf.ln(2)
        pdf.paragraph(text("* Estimated rate: the rule pack gives its source and why it is "
                           "not the law's exact figure."))
    return pdf.content()


def _owed(line: dict[str, Any]) -> bool:
    """A line with something to pay (a French tranche above a pay below the ceiling is not)."""
    return bool(Decimal(line["amount"]["amount"]) or Decimal(line["base"]["amount"]))


def _payslip(salary: Document, member: Document, contract: Document) -> bytes:
    language = (member.get("contact") or {}).get("language") or member.get("language") or "fr"
    return payslip_pdf(salary, contract, member, language)


async def payslip_of(db: AsyncDatabase[Document], salary: Document) -> bytes:
    """The payslip of ``salary`` as the API serves it and the "salary paid" mail attaches it."""
    return _payslip(salary, *await store.payslip_facts(db, salary))


async def payslip_of_salary(db: AsyncDatabase[Document], salary_id: str) -> bytes:
    """The payslip of the salary ``salary_id`` (the mail's attachment): the salary, its member
    and its contract in one read."""
    found = await store.salary_with_facts(db, salary_id)
    if found is None:
        raise LookupError(f"no salary {salary_id}")
    return _payslip(*found)
