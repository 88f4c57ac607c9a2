"""Late interest: actual/365, split across half-year rate changes, reduced by partial payments."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from collection.domain import BalanceChange, NoRateKnown, collection_rules, late_interest, rate_on
from collection.domain.rules import RatePeriod
from hypothesis import given
from hypothesis import strategies as st

BE_BUSINESS = collection_rules("BE", date(2026, 1, 1)).business.interest_rates
FR_BUSINESS = collection_rules("FR", date(2026, 1, 1)).business.interest_rates
BE_CONSUMER = collection_rules("BE", date(2026, 1, 1)).consumer.interest_rates


def test_rates_of_the_packs() -> None:
    assert rate_on(date(2026, 3, 1), BE_BUSINESS) == Decimal("0.105")
    assert rate_on(date(2025, 3, 1), BE_BUSINESS) == Decimal("0.115")
    assert rate_on(date(2026, 3, 1), BE_CONSUMER) == Decimal("0.045")
    assert rate_on(date(2026, 3, 1), FR_BUSINESS) == Decimal("0.1215")


def test_the_last_known_rate_stays_in_force_until_a_newer_pack() -> None:
    assert rate_on(date(2027, 2, 1), BE_BUSINESS) == Decimal("0.105")


def test_no_rate_before_the_first_period() -> None:
    with pytest.raises(NoRateKnown):
        rate_on(date(2020, 1, 1), BE_BUSINESS)


def test_interest_runs_from_the_day_after_the_due_date_on_actual_365() -> None:
    due = date(2026, 1, 31)
    # 35 days * 1,000 * 10.5 % / 365 = 10.0685
    assert late_interest(Decimal("1000.00"), [], due + timedelta(days=1),
                         due + timedelta(days=35), BE_BUSINESS) == Decimal("10.07")


def test_interest_is_split_where_the_half_year_rate_changes() -> None:
    # 16-30 June 2025: 15 days at 11.5 %; 1-20 July 2025: 20 days at 10.5 %
    expected = Decimal("1000") * (Decimal("0.115") * 15 + Decimal("0.105") * 20) / 365
    assert expected.quantize(Decimal("0.01")) == Decimal("10.48")
    assert late_interest(Decimal("1000.00"), [], date(2025, 6, 16), date(2025, 7, 20),
                         BE_BUSINESS) == Decimal("10.48")


def test_french_penalties_change_with_the_ecb_rate_on_1_july() -> None:
    # 10 days at 13.15 % and 10 days at 12.15 % on 2,000
    expected = Decimal("2000") * (Decimal("0.1315") * 10 + Decimal("0.1215") * 10) / 365
    assert late_interest(Decimal("2000.00"), [], date(2025, 6, 21), date(2025, 7, 10),
                         FR_BUSINESS) == expected.quantize(Decimal("0.01"))


def test_a_rate_change_in_a_made_up_table_is_applied_from_its_first_day() -> None:
    rates = [
        RatePeriod.model_validate({"starts_on": "2026-01-01", "ends_on": "2026-06-30",
                                   "rate": {"value": "0.10", "source": "test"}}),
        RatePeriod.model_validate({"starts_on": "2026-07-01", "ends_on": "2026-12-31",
                                   "rate": {"value": "0.20", "source": "test"}}),
    ]
    # 30 June at 10 % and 1 July at 20 % on 365.00: 0.10 + 0.20
    assert late_interest(Decimal("365.00"), [], date(2026, 6, 30), date(2026, 7, 1),
                         rates) == Decimal("0.30")


def test_a_partial_payment_reduces_the_interest_base_from_its_date() -> None:
    due = date(2026, 1, 31)
    paid = [BalanceChange(date(2026, 2, 20), Decimal("600.00"))]
    # 19 days on 1,000 then 16 days on 600, at 10.5 %: 28,600 * 0.105 / 365 = 8.2274
    assert late_interest(Decimal("1000.00"), paid, due + timedelta(days=1),
                         due + timedelta(days=35), BE_BUSINESS) == Decimal("8.23")


def test_a_payment_before_interest_starts_sets_the_base_from_the_first_day() -> None:
    paid = [BalanceChange(date(2026, 1, 10), Decimal("500.00"))]
    assert late_interest(Decimal("1000.00"), paid, date(2026, 2, 1), date(2026, 2, 7),
                         BE_BUSINESS) == late_interest(Decimal("500.00"), [], date(2026, 2, 1),
                                                       date(2026, 2, 7), BE_BUSINESS)


def test_no_interest_once_everything_is_paid() -> None:
    paid = [BalanceChange(date(2026, 2, 1), Decimal("0.00"))]
    assert late_interest(Decimal("1000.00"), paid, date(2026, 2, 1), date(2026, 5, 1),
                         BE_BUSINESS) == Decimal("0.00")


def test_no_interest_for_an_empty_period() -> None:
    assert late_interest(Decimal("1000.00"), [], date(2026, 2, 2), date(2026, 2, 1),
                         BE_BUSINESS) == Decimal("0.00")


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)


@given(amounts, st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=400))
def test_a_payment_never_increases_the_interest(opening: Decimal, paid_after: int,
                                                 days: int) -> None:
    start = date(2025, 3, 1)
    until = start + timedelta(days=days)
    change = [BalanceChange(start + timedelta(days=paid_after), (opening / 2).quantize(
        Decimal("0.01")))]
    with_payment = late_interest(opening, change, start, until, BE_BUSINESS)
    without = late_interest(opening, [], start, until, BE_BUSINESS)
    assert Decimal(0) <= with_payment <= without


@given(amounts, st.integers(min_value=0, max_value=700))
def test_interest_stays_within_the_highest_rate(opening: Decimal, days: int) -> None:
    start = date(2024, 6, 1)
    interest = late_interest(opening, [], start, start + timedelta(days=days), BE_BUSINESS)
    ceiling = opening * Decimal("0.125") * (days + 1) / 365
    assert interest.as_tuple().exponent == -2
    assert Decimal(0) <= interest <= ceiling + Decimal("0.005")
