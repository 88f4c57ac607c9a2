"""The payslip of a salary as a PDF (fpdf2, core fonts)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fpdf import FPDF
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.mongo import Document

from payroll.domain import salary_rules
from payroll.store import MEMBERS, SALARIES

LINES = (
    ("Amount invoiced excl. VAT", "amount_excl_vat", ""),
    ("SMart operating fee", "fee", "-"),
    ("Expenses repaid", "expenses", "-"),
    ("Salary budget", "budget", "="),
    ("Employer social contributions", "employer_contributions", "-"),
    ("Gross salary", "gross", "="),
    ("Employee social contributions", "employee_contributions", "-"),
    ("Taxable salary", "taxable", "="),
    ("Withholding tax", "withholding_tax", "-"),
    ("Net salary", "net", "="),
    ("Expenses repaid", "expenses", "+"),
    ("Paid to you", "paid", "="),
)


def _latin1(text: str) -> str:
    return text.encode("latin-1", errors="replace").decode("latin-1")


def payslip_pdf(salary: Document, employer: str, holder_name: str | None) -> bytes:
    """A one-page payslip of ``salary`` (a stored salary document)."""
    breakdown: dict[str, Any] = salary["breakdown"]
    pdf = FPDF(format="A4")
    pdf.set_title(f"Payslip {salary['_id']}")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(f"Payslip - {employer}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    facts = [
        ("Salary", salary["_id"]),
        ("Member", salary["member_id"] + (f" ({holder_name})" if holder_name else "")),
        ("Contract", salary["contract_id"]),
        ("Last work day", salary["last_work_day"]),
        ("Pay date", salary["pay_date"]),
        ("Guaranteed", "yes" if salary["guaranteed"] else "no (paid after the client)"),
        ("Rule pack", breakdown["rule_pack"]),
        ("Status", salary["status"]),
    ]
    for label, value in facts:
        pdf.cell(45, 6, _latin1(label))
        pdf.cell(0, 6, _latin1(str(value)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for label, field, sign in LINES:
        money = breakdown[field]
        bold = sign == "=" and field in ("gross", "net", "paid")
        pdf.set_font("helvetica", "B" if bold else "", 11)
        pdf.cell(8, 7, sign)
        pdf.cell(110, 7, _latin1(label))
        pdf.cell(50, 7, f"{money['amount']} {money['currency']}", align="R",
                 new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


async def payslip_of(db: AsyncDatabase[Document], salary: Document) -> bytes:
    """The payslip of ``salary`` as the API serves it and the "salary paid" mail attaches it."""
    member = await db[MEMBERS].find_one({"_id": salary["member_id"]})
    holder = (member or {}).get("payout") or {}
    last_work_day = date.fromisoformat(salary["last_work_day"])
    employer = salary_rules(salary["branch"], last_work_day).payroll.payer.name.value
    return payslip_pdf(salary, employer, holder.get("holder_name"))


async def payslip_of_salary(db: AsyncDatabase[Document], salary_id: str) -> bytes:
    salary = await db[SALARIES].find_one({"_id": salary_id})
    if salary is None:
        raise LookupError(f"no salary {salary_id}")
    return await payslip_of(db, salary)
