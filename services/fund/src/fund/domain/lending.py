"""Lending to members: microcredit and equipment leasing, as arithmetic. No I/O.

A loan is repaid by monthly annuities: equal instalments of interest on the balance plus capital,
each rounded half-up to the cent, the last one taking whatever the rounding left so the capital
repaid is exactly what was lent. A lease is the same annuity over the equipment's price, down to
its residual value (the price of the purchase option at the end). The annual percentage rate is
the one of Directive 2008/48/EC, Annex I (Book VII of the Belgian Code of Economic Law takes it
over): the rate at which what the member receives and what they repay, discounted, are equal.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

from smart_shared.events.catalogue import Financing
from smart_shared.events.catalogue import LoanRefusal as Refusal
from smart_shared.money import round2
from smart_shared.withholding import withholdable as withholdable  # payroll applies it

ZERO = Decimal("0.00")
MONTHS_A_YEAR = Decimal(12)


@dataclass(frozen=True)
class LendingTerms:
    """What a branch's pack fixes for one kind of financing."""

    financing: Financing
    min_amount: Decimal
    max_amount: Decimal
    min_months: int
    max_months: int
    annual_rate: Decimal               # nominal yearly debit rate, 0.05 for 5 %
    fee: Decimal                       # paid once, when the money is paid out
    max_apr: Decimal                   # the legal ceiling on the annual percentage rate
    min_months_active: int             # membership age before a member may borrow
    min_turnover: Decimal              # invoiced excl. VAT over the last twelve months
    write_off_free_days: int           # no debt of the member written off in this many days
    max_withholding_share: Decimal     # of a salary's net that payroll may withhold
    default_after_missed: int          # instalments missed in a row before the loan defaults
    early_repayment_indemnity: Decimal  # on the capital repaid early
    min_residual_share: Decimal = ZERO  # leasing: residual value bounds, share of the price
    max_residual_share: Decimal = ZERO


@dataclass(frozen=True)
class Application:
    financing: Financing
    amount: Decimal                    # microcredit: the principal; leasing: the item's price
    months: int
    residual: Decimal = ZERO           # leasing only


@dataclass(frozen=True)
class Standing:
    """What the cooperative knows of the applicant when it decides."""

    member_since: date
    turnover_last_year: Decimal
    last_write_off: date | None
    loans_outstanding: int


@dataclass(frozen=True)
class Instalment:
    number: int
    due: date
    capital: Decimal
    interest: Decimal
    balance_after: Decimal

    @property
    def amount(self) -> Decimal:
        return self.capital + self.interest


def monthly_rate(annual_rate: Decimal) -> Decimal:
    return annual_rate / MONTHS_A_YEAR


def annuity(principal: Decimal, annual_rate: Decimal, months: int,
            residual: Decimal = ZERO) -> Decimal:
    """The monthly instalment that repays ``principal`` down to ``residual`` in ``months``."""
    if months < 1:
        raise ValueError("a loan lasts at least one month")
    rate = monthly_rate(annual_rate)
    if rate == 0:
        return round2((principal - residual) / months)
    with localcontext() as context:
        context.prec = 34
        discount = (1 + rate) ** -months
        return round2((principal - residual * discount) * rate / (1 - discount))


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def schedule(principal: Decimal, annual_rate: Decimal, months: int, first_due: date,
             residual: Decimal = ZERO) -> tuple[Instalment, ...]:
    """The repayment plan: equal instalments, interest on the balance to the cent, the last
    instalment adjusted so the balance ends at exactly ``residual``."""
    payment = annuity(principal, annual_rate, months, residual)
    rate = monthly_rate(annual_rate)
    balance = principal
    plan = []
    for number in range(1, months + 1):
        interest = round2(balance * rate)
        capital = payment - interest if number < months else balance - residual
        balance -= capital
        plan.append(Instalment(number, add_months(first_due, number - 1), capital, interest,
                               balance))
    return tuple(plan)


def annual_percentage_rate(received: Sequence[tuple[int, Decimal]],
                           repaid: Sequence[tuple[int, Decimal]]) -> Decimal:
    """The APR of Directive 2008/48/EC, Annex I: X solving Σ C_k (1+X)^-t_k = Σ D_l (1+X)^-s_l,
    times counted in equal months from the first payment out (t = months / 12), the result
    rounded half-up to two decimals of a percent (the Annex asks for at least one)."""
    def gap(rate: Decimal) -> Decimal:
        a_month = (1 + rate) ** (-1 / MONTHS_A_YEAR)  # discount of one equal month

        def present(flows: Sequence[tuple[int, Decimal]]) -> Decimal:
            return sum((amount * a_month ** month for month, amount in flows), Decimal(0))
        return present(received) - present(repaid)

    with localcontext() as context:
        context.prec = 34
        low, high = Decimal(0), Decimal(10)
        if gap(low) > 0:
            raise ValueError("the member repays less than they receive")
        for _ in range(50):  # 10 / 2^50: far below the 0.0001 reported
            middle = (low + high) / 2
            if gap(middle) < 0:
                low = middle
            else:
                high = middle
        return ((low + high) / 2).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def apr_of(terms: LendingTerms, principal: Decimal, plan: Sequence[Instalment]) -> Decimal:
    """The APR of a plan: the principal paid out less the fee at month 0, then the instalments
    (and a lease's residual with the last one, as the purchase option is part of the cost)."""
    repaid = [(i.number, i.amount) for i in plan]
    if plan and plan[-1].balance_after:
        repaid.append((plan[-1].number, plan[-1].balance_after))
    return annual_percentage_rate([(0, principal - terms.fee)], repaid)


def refusals(application: Application, standing: Standing, terms: LendingTerms,
             today: date) -> list[Refusal]:
    """Every reason the pack gives to decline the application (empty: staff may approve)."""
    found: list[Refusal] = []
    if application.amount < terms.min_amount:
        found.append("amount_below_minimum")
    if application.amount > terms.max_amount:
        found.append("amount_above_maximum")
    if application.months > terms.max_months:
        found.append("term_too_long")
    if application.months < terms.min_months:
        found.append("term_too_short")
    if add_months(standing.member_since, terms.min_months_active) > today:
        found.append("not_active_long_enough")
    if standing.turnover_last_year < terms.min_turnover:
        found.append("turnover_too_low")
    if (standing.last_write_off is not None
            and (today - standing.last_write_off).days < terms.write_off_free_days):
        found.append("recent_write_off")
    if standing.loans_outstanding:
        found.append("loan_outstanding")
    if application.financing == "leasing" and not (
            round2(application.amount * terms.min_residual_share) <= application.residual
            <= round2(application.amount * terms.max_residual_share)):
        found.append("residual_out_of_range")
    if not found:
        plan = schedule(application.amount, terms.annual_rate, application.months, today,
                        application.residual)
        if apr_of(terms, application.amount, plan) > terms.max_apr:
            found.append("apr_above_legal_maximum")
    return found


def early_repayment(balance: Decimal, indemnity_rate: Decimal) -> Decimal:
    """What repaying the whole balance today costs: the balance and the pack's indemnity on it."""
    return balance + round2(balance * indemnity_rate)
