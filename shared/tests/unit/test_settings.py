"""Every setting is read by ``Settings``, those named per branch too."""

from __future__ import annotations

from decimal import Decimal

import pytest
from smart_shared.settings import DebtorAccount, Settings


def test_the_funds_initial_capital_comes_from_one_variable_per_served_branch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMART_FUND_INITIAL_CAPITAL_FR", "300000.00")
    monkeypatch.setenv("SMART_FUND_INITIAL_CAPITAL_DE", "not read: DE is not served")

    settings = Settings(SMART_SERVICE="fund", SMART_BRANCHES="BE,FR",
                        SMART_FUND_INITIAL_CAPITAL_BE="500000.00")

    assert settings.fund_initial_capital == {"BE": Decimal("500000.00"),
                                             "FR": Decimal("300000.00")}


def test_without_the_variables_the_fund_starts_with_no_capital(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for branch in ("BE", "FR"):
        monkeypatch.delenv(f"SMART_FUND_INITIAL_CAPITAL_{branch}", raising=False)

    assert Settings(SMART_SERVICE="fund").fund_initial_capital == {}


@pytest.mark.parametrize("text", ["0.00", "-5.00", "100.001", "1e5", "a lot"])
def test_an_initial_capital_that_is_not_a_positive_amount_in_cents_stops_the_start(
    text: str,
) -> None:
    with pytest.raises(ValueError, match="SMART_FUND_INITIAL_CAPITAL_BE must be a positive"):
        Settings(SMART_SERVICE="fund", SMART_FUND_INITIAL_CAPITAL_BE=text)


def test_a_salary_account_written_in_groups_of_four_is_the_same_account() -> None:
    account = DebtorAccount(iban="be71 0961 2345 6769", bic="GKCCBEBB")

    assert account.iban == "BE71096123456769"
