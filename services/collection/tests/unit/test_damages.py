"""Book XIX consumer damages at every boundary of the law's tiers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from collection.domain import book_xix_damages, collection_rules
from hypothesis import given
from hypothesis import strategies as st

TIERS = collection_rules("BE", date(2026, 1, 1)).consumer.damages
assert TIERS is not None


@pytest.mark.parametrize(("balance", "damages"), [
    ("0.01", "20.00"),
    ("100.00", "20.00"),
    ("150.00", "20.00"),
    ("150.01", "30.00"),
    ("150.05", "30.01"),
    ("300.00", "45.00"),
    ("500.00", "65.00"),
    ("500.01", "65.00"),
    ("500.10", "65.01"),
    ("1000.00", "90.00"),
    ("39199.80", "1999.99"),
    ("39200.00", "2000.00"),
    ("39200.01", "2000.00"),
    ("1000000.00", "2000.00"),
])
def test_damages_follow_the_tiers(balance: str, damages: str) -> None:
    assert book_xix_damages(Decimal(balance), TIERS) == Decimal(damages)  # type: ignore[arg-type]


def test_nothing_is_claimed_on_a_settled_balance() -> None:
    assert book_xix_damages(Decimal("0.00"), TIERS) == Decimal("0.00")  # type: ignore[arg-type]


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000000"), places=2),
       st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000"), places=2))
def test_damages_never_fall_when_the_balance_grows_and_never_pass_2000(
        balance: Decimal, more: Decimal) -> None:
    low = book_xix_damages(balance, TIERS)  # type: ignore[arg-type]
    high = book_xix_damages(balance + more, TIERS)  # type: ignore[arg-type]
    assert Decimal("20.00") <= low <= high <= Decimal("2000.00")
