from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from payroll.domain import SalaryNotPayable, compute_salary, salary_rules
from payroll.domain.salary import employer_cost, largest_gross
from smart_shared.events import ActivityKind, SalaryBreakdown
from smart_shared.money import Money

BE = salary_rules("BE", date(2026, 4, 1))
FR = salary_rules("FR", date(2026, 4, 1))


def lines(salary: SalaryBreakdown, side: str) -> dict[str, Money]:
    return {line.name: line.amount for line in getattr(salary, f"{side}_lines")}


def test_the_worked_example_follows_the_sourced_be_2026_pack_to_the_cent() -> None:
    salary = compute_salary(BE, Money.of("1000.00"), Money.zero(), "artistic")

    assert salary.rule_pack == "BE-2026"
    assert salary.fee == Money.of("65.00")
    assert salary.budget == Money.of("935.00")
    assert salary.gross == Money.of("643.01")
    assert salary.employer_contributions == Money.of("291.99")
    assert salary.budget_remainder == Money.zero()
    assert salary.employee_contributions == Money.of("90.76")
    assert salary.taxable == Money.of("552.25")
    assert salary.withholding_tax == Money.of("61.35")
    assert salary.net == Money.of("490.90")
    assert salary.paid == Money.of("490.90")


def test_an_artists_employer_cost_is_the_onss_lines_on_108_percent_of_gross() -> None:
    # socialsecurity.be DmfA instructions 'Pécule de vacances': 108 % base, 5.57 % + 10.27 %;
    # Law of 26 December 2015: 19.88 % basic + 5.12 % wage moderation (category 1)
    salary = compute_salary(BE, Money.of("1000.00"), Money.zero(), "artistic")

    assert lines(salary, "employer") == {
        "basic_employer_contribution": Money.of("138.06"),  # 694.45 x 19.88 %
        "wage_moderation": Money.of("35.56"),  # 694.45 x 5.12 %
        "holiday_pay_quarterly": Money.of("38.68"),  # 694.45 x 5.57 %
        "holiday_pay_yearly": Money.of("71.32"),  # 694.45 x 10.27 %
        "closure_fund": Money.of("1.25"),
        "temporary_unemployment": Money.of("0.69"),
        "work_accident_insurance": Money.of("6.43"),  # 1 % of the plain gross
    }
    assert {line.base for line in salary.employer_lines} == {
        Money.of("694.45"), Money.of("643.01")}


def test_estimated_rates_are_marked_as_approximations_never_as_law() -> None:
    salary = compute_salary(BE, Money.of("1000.00"), Money.zero(), "artistic")

    marked = {line.name for line in salary.employer_lines if line.approximation}
    assert marked == {"closure_fund", "temporary_unemployment", "work_accident_insurance"}


def test_non_manual_employees_pay_no_holiday_fund_contributions_and_on_the_plain_gross() -> None:
    salary = compute_salary(BE, Money.of("1000.00"), Money.zero(), "other")

    assert "holiday_pay_quarterly" not in lines(salary, "employer")
    assert salary.gross == Money.of("740.42")
    assert salary.employee_contributions == Money.of("96.77")  # 740.42 x 13.07 %


def test_expenses_are_repaid_untaxed_on_top_of_the_net() -> None:
    salary = compute_salary(BE, Money.of("1000.00"), Money.of("100.00"), "artistic")

    assert salary.budget == Money.of("835.00")
    assert salary.gross == Money.of("574.25")
    assert salary.paid == salary.net + Money.of("100.00")


def test_annex_iii_key_formula_withholds_nothing_below_the_tax_free_sum() -> None:
    # AR/CIR 92 Annex III key formula: 643.65 x 12 = 7,723.80, less 30 % lump-sum expenses
    # = 5,406.66, taxed below the tax on the tax-free sum (10,910 x 26.75 %): nothing withheld
    salary = compute_salary(BE, Money.of("1000.00"), Money.zero(), "other")

    assert salary.withholding_tax == Money.zero()


def test_annex_iii_key_formula_on_a_large_monthly_pay_to_the_cent() -> None:
    # AR/CIR 92 Annex III key formula: 5,149.17 x 12 = 61,790.04; expenses capped at 5,930;
    # base scale on 55,860.04 = 23,267.17; less 2,918.43 on the tax-free sum; / 12
    salary = compute_salary(BE, Money.of("8000.00"), Money.zero(), "other")

    assert salary.taxable == Money.of("5149.17")
    assert salary.withholding_tax == Money.of("1695.73")


def test_the_key_formula_by_itself_pins_each_step_of_annex_iii() -> None:
    scale = BE.payroll.withholding_scale
    assert scale is not None

    assert scale.scale_tax(Decimal("15820")) == Decimal("4231.85")  # 26.75 % bracket
    assert scale.scale_tax(Decimal("27920")) == Decimal("9410.65")  # + 42.80 %
    # 2,000 x 12 = 24,000; expenses 30 % capped at 5,930; 18,070 taxed 5,194.85; less
    # 2,918.425 on the tax-free sum; 2,276.425 / 12
    assert scale.withholding(Decimal("2000.00")) == Decimal("189.70")


def test_manual_workers_pay_on_108_percent_like_artists_but_by_the_progressive_scale() -> None:
    salary = compute_salary(BE, Money.of("5000.00"), Money.zero(), "manual")
    artist = compute_salary(BE, Money.of("5000.00"), Money.zero(), "artistic")

    assert salary.employee_contributions == artist.employee_contributions
    assert artist.withholding_tax == Money.of("306.77")  # 2,761.23 x 11.11 % flat
    assert salary.withholding_tax == Money.of("515.51")  # Annex III key formula


def test_france_keeps_8_5_percent_and_withholds_by_the_neutral_rate_grid() -> None:
    salary = compute_salary(FR, Money.of("5000.00"), Money.of("100.00"), "other")

    assert salary.rule_pack == "FR-2026"
    assert salary.fee == Money.of("425.00")
    assert salary.gross == Money.of("3135.95")
    assert salary.employee_contributions == Money.of("653.54")
    assert salary.taxable == Money.of("2571.77")  # CSG 2.4 % and CRDS are not deductible
    assert salary.withholding_tax == Money.of("136.30")  # 2,571.77 falls in the 5.3 % bracket


def test_france_levies_csg_and_crds_on_98_25_percent_of_gross() -> None:
    # Code de la sécurité sociale art. L136-1-1 and L136-8; ordonnance 96-50 art. 14
    salary = compute_salary(FR, Money.of("5000.00"), Money.of("100.00"), "other")

    csg_base = Money.of("3081.07")  # 3,135.95 x 98.25 %
    by_name = {line.name: line for line in salary.employee_lines}
    assert by_name["csg_deductible"].base == csg_base
    assert by_name["csg_deductible"].amount == Money.of("209.51")
    assert by_name["csg_non_deductible"].amount == Money.of("73.95")
    assert by_name["crds"].amount == Money.of("15.41")


def test_france_caps_tranche_1_at_the_2026_monthly_ceiling() -> None:
    # Arrêté du 22 décembre 2025: PMSS 4,005 EUR; Agirc-Arrco circular 2025-16-SG-DRJ
    salary = compute_salary(FR, Money.of("12000.00"), Money.zero(), "other")
    by_name = {line.name: line for line in salary.employer_lines}

    assert by_name["old_age_capped"].base == Money.of("4005.00")
    assert by_name["supplementary_pension_t1"].base == Money.of("4005.00")
    assert by_name["supplementary_pension_t2"].base == salary.gross - Money.of("4005.00")
    assert by_name["health"].base == salary.gross


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
    # the highest fee of the packs, rounded as the platform rounds it (half-up: 1,117.00 €
    # pays 94.95, which leaves 1,022.05 of room, not the 1,022.06 of half-even rounding)
    fee = (amount * Decimal("0.085")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
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
    assert salary.taxable == salary.gross - sum(
        (line.amount for line in salary.employee_lines
         if line.name not in ("csg_non_deductible", "crds")), Money.zero())
    assert sum((line.amount for line in salary.employer_lines), Money.zero()) + (
        salary.budget_remainder or Money.zero()) == salary.employer_contributions
    assert sum((line.amount for line in salary.employee_lines), Money.zero()) == (
        salary.employee_contributions)
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


@given(contract=contracts(), kind=kinds, rules=packs)
@example(contract=(Money.of(Decimal("1117.00")), Money.of(Decimal("1022.05"))),  # all it can
         kind="artistic", rules=FR)                            # spend on expenses at 8.5 %
def test_the_gross_is_the_largest_whose_employer_cost_fits_the_budget(
    contract: tuple[Money, Money], kind: ActivityKind, rules: object
) -> None:
    amount, expenses = contract
    salary = compute_salary(rules, amount, expenses, kind)  # type: ignore[arg-type]
    payroll = rules.payroll  # type: ignore[attr-defined]
    gross, budget = salary.gross.amount, salary.budget.amount

    assert employer_cost(payroll, gross, kind) <= budget
    assert employer_cost(payroll, gross + Decimal("0.01"), kind) > budget


def halving(payroll: object, budget: Decimal, kind: ActivityKind) -> Decimal:
    """The plain search over every cent from 0 to the budget, for comparison."""
    low, high = 0, int(budget * 100) + 1
    while high - low > 1:
        middle = (low + high) // 2
        if employer_cost(payroll, Decimal(middle) / 100, kind) <= budget:  # type: ignore[arg-type]
            low = middle
        else:
            high = middle
    return Decimal(low) / 100


@given(budget=st.integers(min_value=0, max_value=100_000_000), kind=kinds, rules=packs)
@example(budget=0, kind="artistic", rules=BE)
@example(budget=1, kind="manual", rules=FR)
@example(budget=2, kind="other", rules=BE)
def test_the_search_from_a_guess_finds_the_gross_the_plain_halving_finds(
    budget: int, kind: ActivityKind, rules: object
) -> None:
    payroll = rules.payroll  # type: ignore[attr-defined]
    amount = Decimal(budget) / 100

    assert largest_gross(payroll, amount, kind) == halving(payroll, amount, kind)
