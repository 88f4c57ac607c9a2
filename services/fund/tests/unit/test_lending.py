"""Loans and leases to members: the annuity to the cent, the APR of Directive 2008/48/EC Annex I,
the pack's conditions and what payroll may withhold."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from fund.domain.lending import (
    Application,
    LendingTerms,
    Standing,
    add_months,
    annual_percentage_rate,
    annuity,
    apr_of,
    early_repayment,
    refusals,
    schedule,
    withholdable,
)
from fund.domain.rules import lending_rules, lending_terms
from hypothesis import given
from hypothesis import strategies as st
from smart_shared.rulepacks import UnknownRulePack

D = Decimal
FIRST_DUE = date(2026, 1, 31)
TERMS = LendingTerms(
    financing="microcredit", min_amount=D("500"), max_amount=D("10000"), min_months=3,
    max_months=36, annual_rate=D("0.05"), fee=D("0.00"), max_apr=D("0.1199"),
    min_months_active=6, min_turnover=D("3000"), write_off_free_days=365,
    max_withholding_share=D("0.20"), default_after_missed=3, early_repayment_indemnity=D("0.01"))
LEASE = LendingTerms(**{**TERMS.__dict__, "financing": "leasing", "annual_rate": D("0.06"),
                        "max_apr": D("0.10"), "min_residual_share": D("0.01"),
                        "max_residual_share": D("0.15")})
GOOD = Standing(member_since=date(2024, 3, 1), turnover_last_year=D("18000"),
                last_write_off=None, loans_outstanding=0)
TODAY = date(2026, 12, 2)

principals = st.decimals(min_value=D("100"), max_value=D("25000"), places=2)
rates = st.decimals(min_value=D("0"), max_value=D("0.20"), places=4)
terms_in_months = st.integers(min_value=1, max_value=84)


def test_ten_thousand_at_five_percent_over_a_year_is_the_textbook_856_07_a_month() -> None:
    # the standard annuity formula P·r / (1 - (1 + r)^-n), r = 5 % / 12
    assert annuity(D("10000"), D("0.05"), 12) == D("856.07")
    plan = schedule(D("10000"), D("0.05"), 12, FIRST_DUE)
    assert plan[0].interest == D("41.67") and plan[0].capital == D("814.40")
    assert plan[-1].balance_after == 0
    # unrounded, twelve payments of 856.0748 repay 10,272.90; rounding each month costs a cent
    assert abs(sum(i.amount for i in plan) - D("10272.90")) <= D("0.01")


def test_instalments_fall_on_the_same_day_each_month_or_the_last_day_of_a_shorter_one() -> None:
    assert [i.due for i in schedule(D("900"), D("0.05"), 3, FIRST_DUE)] == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


@given(principals, rates, terms_in_months)
def test_the_instalments_repay_the_principal_and_its_interest_to_the_cent(
        principal: Decimal, rate: Decimal, months: int) -> None:
    plan = schedule(principal, rate, months, FIRST_DUE)
    assert len(plan) == months
    assert sum(i.capital for i in plan) == principal
    assert sum(i.amount for i in plan) == principal + sum(i.interest for i in plan)
    assert all(i.amount == plan[0].amount for i in plan[:-1])
    assert all(i.balance_after >= 0 for i in plan) and plan[-1].balance_after == 0
    assert all(i.capital.as_tuple().exponent == -2 and i.interest.as_tuple().exponent == -2
               for i in plan)


@given(principals, rates, st.integers(min_value=12, max_value=60),
       st.decimals(min_value=D("0"), max_value=D("0.15"), places=2))
def test_a_lease_amortises_the_price_down_to_exactly_its_residual_value(
        price: Decimal, rate: Decimal, months: int, residual_share: Decimal) -> None:
    residual = (price * residual_share).quantize(D("0.01"))
    plan = schedule(price, rate, months, FIRST_DUE, residual)
    assert plan[-1].balance_after == residual
    assert sum(i.capital for i in plan) == price - residual


@given(st.decimals(min_value=D("1000"), max_value=D("25000"), places=2),
       st.decimals(min_value=D("0.01"), max_value=D("0.20"), places=4),
       st.integers(min_value=6, max_value=60))
def test_without_fees_the_apr_is_the_effective_yearly_rate_of_the_debit_rate(
        principal: Decimal, rate: Decimal, months: int) -> None:
    # Annex I with equal months: (1 + r/12)^12 - 1, within the cents the instalments round away
    plan = schedule(principal, rate, months, FIRST_DUE)
    effective = (1 + rate / 12) ** 12 - 1
    assert abs(apr_of(TERMS, principal, plan) - effective) <= D("0.0002")


def test_a_fee_raises_the_apr_above_the_debit_rate() -> None:
    with_fee = LendingTerms(**{**TERMS.__dict__, "fee": D("100.00")})
    plan = schedule(D("5000"), D("0.05"), 24, FIRST_DUE)
    assert apr_of(with_fee, D("5000"), plan) > apr_of(TERMS, D("5000"), plan) > D("0.05")


def test_the_apr_solves_the_annex_equation_for_a_single_repayment_a_year_later() -> None:
    # Directive 2008/48/EC, Annex I: 1000 received, 1100 repaid twelve months later → 10 %
    assert annual_percentage_rate([(0, D("1000"))], [(12, D("1100"))]) == D("0.1000")


def test_an_application_within_the_pack_has_no_refusal() -> None:
    assert refusals(Application("microcredit", D("3000"), 24), GOOD, TERMS, TODAY) == []


def test_each_condition_of_the_pack_names_its_refusal() -> None:
    newcomer = Standing(member_since=date(2026, 9, 1), turnover_last_year=D("900"),
                        last_write_off=date(2026, 5, 1), loans_outstanding=1)
    assert refusals(Application("microcredit", D("12000"), 48), newcomer, TERMS, TODAY) == [
        "amount_above_maximum", "term_too_long", "not_active_long_enough", "turnover_too_low",
        "recent_write_off", "loan_outstanding"]
    assert refusals(Application("microcredit", D("100"), 2), GOOD, TERMS, TODAY) == [
        "amount_below_minimum", "term_too_short"]


def test_a_write_off_older_than_the_pack_allows_no_longer_counts() -> None:
    old = Standing(GOOD.member_since, GOOD.turnover_last_year, date(2025, 11, 1), 0)
    assert refusals(Application("microcredit", D("3000"), 24), old, TERMS, TODAY) == []


def test_a_lease_needs_a_residual_value_inside_the_pack_bounds() -> None:
    assert refusals(Application("leasing", D("4000"), 36, D("200.00")), GOOD, LEASE, TODAY) == []
    assert refusals(Application("leasing", D("4000"), 36, D("0.00")), GOOD, LEASE, TODAY) == [
        "residual_out_of_range"]
    assert refusals(Application("leasing", D("4000"), 36, D("800.00")), GOOD, LEASE, TODAY) == [
        "residual_out_of_range"]


def test_a_price_whose_apr_exceeds_the_legal_maximum_is_refused() -> None:
    dear = LendingTerms(**{**TERMS.__dict__, "fee": D("400.00")})
    assert refusals(Application("microcredit", D("1000"), 6), GOOD, dear, TODAY) == [
        "apr_above_legal_maximum"]


@given(st.decimals(min_value=D("0"), max_value=D("2000"), places=2),
       st.decimals(min_value=D("-500"), max_value=D("5000"), places=2),
       st.decimals(min_value=D("0"), max_value=D("1"), places=2))
def test_payroll_never_withholds_more_than_due_nor_the_allowed_share_of_the_net(
        due: Decimal, net: Decimal, share: Decimal) -> None:
    withheld = withholdable(due, net, share)
    assert D("0") <= withheld <= due
    assert withheld <= max(net, D("0")) * share
    assert net - withheld >= 0 or net < 0


def test_repaying_early_costs_the_balance_and_the_indemnity() -> None:
    assert early_repayment(D("2500.00"), D("0.01")) == D("2525.00")


def test_the_belgian_pack_applies_the_legal_apr_ceiling_of_the_amount_bracket() -> None:
    # Royal Decree of 21 June 2011, maxima in force from 1 December 2025 (lending.toml)
    assert lending_terms("BE", TODAY, "microcredit", D("1000")).max_apr == D("0.2050")
    assert lending_terms("BE", TODAY, "microcredit", D("5000")).max_apr == D("0.1550")
    assert lending_terms("BE", TODAY, "microcredit", D("5000.01")).max_apr == D("0.1199")
    assert lending_terms("BE", TODAY, "leasing", D("8000")).max_apr == D("0.1000")


def test_the_belgian_pack_prices_its_own_offer_within_the_legal_ceilings() -> None:
    for financing, amount, months, residual in (("microcredit", D("10000"), 36, D("0")),
                                                ("leasing", D("15000"), 48, D("150.00"))):
        terms = lending_terms("BE", TODAY, financing, amount)
        plan = schedule(amount, terms.annual_rate, months, FIRST_DUE, residual)
        assert apr_of(terms, amount, plan) <= terms.max_apr


def test_a_branch_without_a_lending_section_does_not_lend() -> None:
    with pytest.raises(UnknownRulePack):
        lending_rules("FR", TODAY)
