"""The salary a contract pays: DESIGN.md §4.4 with the rule pack's sourced contributions, a pure
function of the rules and the contract."""

from __future__ import annotations

from decimal import Decimal

from smart_shared.events import ActivityKind, ContributionLine, SalaryBreakdown
from smart_shared.money import Money, round2

from payroll.domain.rules import Contribution, PayrollSection, SalaryRules

CENT = Decimal("0.01")


class SalaryNotPayable(ValueError):
    """The amount cannot carry a salary (the fee and expenses exceed it); ``field`` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def contribution_base(payroll: PayrollSection, contribution: Contribution, gross: Decimal,
                      kind: ActivityKind) -> Decimal:
    """What ``contribution``'s rate applies to for this gross (before rounding the amount)."""
    if contribution.base == "social":
        base = gross * payroll.activities[kind].social_base_rate.value
    elif contribution.base == "csg":
        assert payroll.csg_base_rate is not None
        base = gross * payroll.csg_base_rate.value
    else:
        base = gross
    if contribution.from_ceilings is None and contribution.up_to_ceilings is None:
        return base
    assert payroll.social_security_ceiling is not None
    ceiling = payroll.social_security_ceiling.value
    low = ceiling * (contribution.from_ceilings or 0)
    if contribution.up_to_ceilings is not None:
        base = min(base, ceiling * contribution.up_to_ceilings)
    return max(base - low, Decimal(0))


def contribution_lines(payroll: PayrollSection, contributions: list[Contribution],
                       gross: Decimal, kind: ActivityKind) -> list[tuple[Contribution, Decimal,
                                                                           Decimal]]:
    """Each contribution that applies to ``kind``: (contribution, base, amount to the cent)."""
    lines = []
    for contribution in contributions:
        if contribution.applies_to(kind):
            base = contribution_base(payroll, contribution, gross, kind)
            lines.append((contribution, base, round2(base * contribution.rate.value)))
    return lines


def employer_cost(payroll: PayrollSection, gross: Decimal, kind: ActivityKind) -> Decimal:
    """Gross plus every employer contribution on it: what a gross costs the budget."""
    lines = contribution_lines(payroll, payroll.employer_contributions, gross, kind)
    return gross + sum((amount for _, _, amount in lines), Decimal(0))


def largest_gross(payroll: PayrollSection, budget: Decimal, kind: ActivityKind) -> Decimal:
    """The largest gross, to the cent, whose employer cost fits ``budget`` (exact: the cost
    grows by at least a cent with each cent of gross, so a search over cents finds it).

    The cost is nearly proportional to the gross, so the search starts from the gross that the
    cost of the whole budget points at and widens from there until it brackets the answer
    (four costs computed on average instead of seventeen for halving the whole range)."""
    most = int(budget / CENT)  # cost(g) >= g: no gross above the budget fits

    def fits(cents: int) -> bool:
        return employer_cost(payroll, cents * CENT, kind) <= budget

    whole = employer_cost(payroll, most * CENT, kind)
    if whole <= budget:
        return most * CENT
    guess = min(most - 1, most * most // int(whole / CENT))
    step = 1
    if fits(guess):
        low, high = guess, most  # widen upwards until a gross does not fit (most does not)
        while low + step < most:
            if not fits(low + step):
                high = low + step
                break
            low, step = low + step, step * 2
    else:
        low, high = 0, guess  # widen downwards until a gross fits (0 always does)
        while high - step > 0:
            if fits(high - step):
                low = high - step
                break
            high, step = high - step, step * 2
    while high - low > 1:  # cost(low) fits, cost(high) does not
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low * CENT


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
    gross = largest_gross(payroll, budget, activity)
    employer_lines = contribution_lines(payroll, payroll.employer_contributions, gross, activity)
    employer_total = sum((line[2] for line in employer_lines), Decimal(0))
    remainder = budget - gross - employer_total
    employee_lines = contribution_lines(payroll, payroll.employee_contributions, gross, activity)
    employee = sum((line[2] for line in employee_lines), Decimal(0))
    deductible = sum((line[2] for line in employee_lines if line[0].deductible), Decimal(0))
    taxable = gross - deductible
    withholding = rules.withholding_tax(activity, taxable)
    net = gross - employee - withholding

    def money(value: Decimal) -> Money:
        return Money(amount=value, currency=currency)

    def shown(lines: list[tuple[Contribution, Decimal, Decimal]]) -> list[ContributionLine]:
        return [ContributionLine(name=c.name, label=c.label, rate=c.rate.value,
                                 base=money(round2(base)), amount=money(value),
                                 approximation=c.rate.approximation)
                for c, base, value in lines]

    return SalaryBreakdown(
        rule_pack=rules.pack_id,
        amount_excl_vat=amount_excl_vat,
        fee=money(fee),
        expenses=expenses,
        budget=money(budget),
        gross=money(gross),
        employer_contributions=money(budget - gross),
        employee_contributions=money(employee),
        taxable=money(taxable),
        withholding_tax=money(withholding),
        net=money(net),
        paid=money(net + expenses.amount),
        employer_lines=shown(employer_lines),
        employee_lines=shown(employee_lines),
        budget_remainder=money(remainder),
    )
