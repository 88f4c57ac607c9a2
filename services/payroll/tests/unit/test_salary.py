from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from payroll.domain import SalaryNotPayable, compute_salary, salary_rules
from smart_shared.events import ActivityKind
from smart_shared.money import Money

BE = salary_rules("BE", date(2026, 4, 1))
FR = salary_rules("FR", date(2026, 4, 1))


def test_the_worked_example_of_the_design_brief_is_reproduced_to_the_cent() -> None:
    salary = compute_salary(BE, Money.of("1000.00"), Money.zero(), "artistic")

    assert salary.rule_pack == "BE-2026"
    assert salary.fee == Money.of("65.00")
    assert salary.budget == Money.of("935.00")
    assert salary.gross == Money.of("748.00")
    assert salary.employer_contributions == Money.of("187.00")
    assert salary.employee_contributions == Money.of("105.58")
    assert salary.taxable == Money.of("642.42")
    assert salary.withholding_tax == Money.of("71.37")
    assert salary.net == Money.of("571.05")
    assert salary.paid == Money.of("571.05")


def test_expenses_are_repaid_untaxed_on_top_of_the_net() -> None:
    salary = compute_salary(BE, Money.of("1000.00"), Money.of("100.00"), "artistic")

    assert salary.budget == Money.of("835.00")
    assert salary.gross == Money.of("668.00")
    assert salary.paid == salary.net + Money.of("100.00")


def test_other_activities_pay_employee_contributions_on_the_plain_gross() -> None:
    salary = compute_salary(BE, Money.of("1000.00"), Money.zero(), "other")

    assert salary.employee_contributions == Money.of("97.76")  # 748.00 * 0.1307
    assert salary.withholding_tax == Money.of("114.77")  # 650.24 * 0.1765 from the pack


def test_manual_workers_pay_on_108_percent_like_artists_but_with_the_packs_withholding() -> None:
    salary = compute_salary(BE, Money.of("1000.00"), Money.zero(), "manual")

    assert salary.employee_contributions == Money.of("105.58")
    assert salary.withholding_tax == Money.of("113.39")  # 642.42 * 0.1765


def test_france_keeps_8_5_percent_and_withholds_by_the_neutral_rate_grid() -> None:
    salary = compute_salary(FR, Money.of("5000.00"), Money.of("100.00"), "other")

    assert salary.rule_pack == "FR-2026"
    assert salary.fee == Money.of("425.00")
    assert salary.gross == Money.of("3151.41")  # 4475.00 / 1.42
    assert salary.employee_contributions == Money.of("693.31")  # * 0.22
    assert salary.withholding_tax == Money.of("130.28")  # 2458.10 falls in the 5.3 % bracket


def test_a_small_french_salary_is_not_withheld() -> None:
    salary = compute_salary(FR, Money.of("500.00"), Money.zero(), "artistic")

    assert salary.withholding_tax == Money.zero()


def test_expenses_beyond_the_amount_less_the_fee_are_refused_naming_the_field() -> None:
    with pytest.raises(SalaryNotPayable) as refused:
        compute_salary(BE, Money.of("100.00"), Money.of("93.51"), "artistic")

    assert refused.value.field == "expenses"


def test_a_zero_amount_is_refused() -> None:
    with pytest.raises(SalaryNotPayable) as refused:
        compute_salary(BE, Money.zero(), Money.zero(), "artistic")

    assert refused.value.field == "amount_excl_vat"


def test_another_currency_is_refused() -> None:
    with pytest.raises(SalaryNotPayable) as refused:
        compute_salary(BE, Money.of("100.00", "USD"), Money.zero(), "artistic")

    assert refused.value.field == "amount_excl_vat"


cents = st.integers(min_value=1, max_value=100_000_000)
kinds = st.sampled_from(["artistic", "manual", "other"])
packs = st.sampled_from([BE, FR])


@st.composite
def contracts(draw: st.DrawFn) -> tuple[Money, Money]:
    amount = Decimal(draw(cents)) / 100
    fee = (amount * Decimal("0.085")).quantize(Decimal("0.01"))
    room = int((amount - fee) * 100)
    expenses = Decimal(draw(st.integers(min_value=0, max_value=max(room, 0)))) / 100
    return Money.of(amount), Money.of(expenses)


@given(contract=contracts(), kind=kinds, rules=packs)
def test_every_part_adds_back_to_the_amount_invoiced_exactly(
    contract: tuple[Money, Money], kind: ActivityKind, rules: object
) -> None:
    amount, expenses = contract
    salary = compute_salary(rules, amount, expenses, kind)  # type: ignore[arg-type]

    assert salary.fee + salary.budget + salary.expenses == amount
    assert salary.gross + salary.employer_contributions == salary.budget
    assert salary.net + salary.employee_contributions + salary.withholding_tax == salary.gross
    assert salary.taxable == salary.gross - salary.employee_contributions
    assert salary.paid == salary.net + salary.expenses
    assert (
        salary.fee + salary.employer_contributions + salary.employee_contributions
        + salary.withholding_tax + salary.net + salary.expenses
    ) == amount


@given(contract=contracts(), kind=kinds, rules=packs)
def test_no_part_is_ever_negative_or_finer_than_a_cent(
    contract: tuple[Money, Money], kind: ActivityKind, rules: object
) -> None:
    amount, expenses = contract
    salary = compute_salary(rules, amount, expenses, kind)  # type: ignore[arg-type]

    parts = [getattr(salary, name) for name in (
        "fee", "expenses", "budget", "gross", "employer_contributions", "employee_contributions",
        "taxable", "withholding_tax", "net", "paid",
    )]
    for part in parts:
        assert part.amount >= 0
        assert part.amount == part.amount.quantize(Decimal("0.01"))


@given(amount=cents, extra=st.integers(min_value=1, max_value=10_000), rules=packs)
def test_expenses_above_what_the_amount_can_carry_are_refused_never_paid_negative(
    amount: int, extra: int, rules: object
) -> None:
    total = Money.of(Decimal(amount) / 100)
    fee = total.times(rules.fee_rate)  # type: ignore[attr-defined]
    expenses = total - fee + Money.of(Decimal(extra) / 100)

    with pytest.raises(SalaryNotPayable):
        compute_salary(rules, total, expenses, "artistic")  # type: ignore[arg-type]
