"""The salary a contract pays: DESIGN.md §4.4, a pure function of the rules and the contract."""

from __future__ import annotations

from decimal import Decimal

from smart_shared.events import ActivityKind, SalaryBreakdown
from smart_shared.money import Money, round2

from payroll.domain.rules import SalaryRules


class SalaryNotPayable(ValueError):
    """The amount cannot carry a salary (the fee and expenses exceed it); ``field`` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def compute_salary(
    rules: SalaryRules,
    amount_excl_vat: Money,
    expenses: Money,
    activity: ActivityKind,
) -> SalaryBreakdown:
    """Split the amount invoiced into fee, expenses, employer and employee contributions,
    withholding tax and net pay; every part rounded half-up to the cent, all adding back."""
    currency = rules.currency
    for name, given in (("amount_excl_vat", amount_excl_vat), ("expenses", expenses)):
        if given.currency != currency:
            raise SalaryNotPayable(name, f"must be in {currency}")
    if amount_excl_vat.amount <= 0:
        raise SalaryNotPayable("amount_excl_vat", "must be greater than zero")
    if expenses.amount < 0:
        raise SalaryNotPayable("expenses", "must not be negative")
    payroll = rules.payroll
    amount = amount_excl_vat.amount
    fee = round2(amount * rules.fee_rate)
    budget = amount - fee - expenses.amount
    if budget < 0:
        raise SalaryNotPayable(
            "expenses", f"{expenses.amount} exceed the amount less the fee ({amount - fee})"
        )
    gross = round2(budget / (1 + payroll.employer_contribution_rate.value))
    employer = budget - gross
    base_rate = payroll.activities[activity].social_base_rate.value
    employee = round2(gross * base_rate * payroll.employee_contribution_rate.value)
    taxable = gross - employee
    withholding = round2(taxable * rules.withholding_rate(activity, taxable))
    net = taxable - withholding

    def money(value: Decimal) -> Money:
        return Money(amount=value, currency=currency)

    return SalaryBreakdown(
        rule_pack=rules.pack_id,
        amount_excl_vat=amount_excl_vat,
        fee=money(fee),
        expenses=expenses,
        budget=money(budget),
        gross=money(gross),
        employer_contributions=money(employer),
        employee_contributions=money(employee),
        taxable=money(taxable),
        withholding_tax=money(withholding),
        net=money(net),
        paid=money(net + expenses.amount),
    )
