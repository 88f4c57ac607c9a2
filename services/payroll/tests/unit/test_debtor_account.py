"""The account salaries leave from comes from the deployment's configuration, never from an
example account outside a developer's machine."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from payroll.domain import salary_rules
from payroll.payment_file import NoDebtorAccount, Transfer, credit_transfer_file, debtor_account
from smart_shared.rulepacks import cooperative_accounts
from smart_shared.settings import DebtorAccount, Settings

PAYER = salary_rules("BE", date(2026, 4, 1)).payroll.payer
REAL = {"BE": {"iban": "BE71096123456769", "bic": "GKCCBEBB"}}


def settings(env: str, **values: object) -> Settings:
    return Settings.model_validate({"SMART_ENV": env, "SMART_SERVICE": "payroll", **values})


def test_the_configured_account_is_the_debtor_of_the_payment_file() -> None:
    configured = settings("production", SMART_DEBTOR_ACCOUNTS=REAL)
    debtor = debtor_account(configured, "BE", PAYER)
    transfer = Transfer("E2E1", "Zoe Dupont", "BE68539007547034", Decimal("10.00"), "salary")

    content = credit_transfer_file(PAYER, debtor, date(2026, 4, 1), [transfer])

    assert debtor == DebtorAccount(iban="BE71096123456769", bic="GKCCBEBB")
    assert b"<IBAN>BE71096123456769</IBAN>" in content


def test_a_local_machine_pays_from_the_packs_example_account() -> None:
    debtor = debtor_account(settings("local"), "BE", PAYER)

    assert debtor.iban == PAYER.iban.value and PAYER.iban.placeholder


def test_outside_local_a_missing_account_is_never_replaced_by_the_example() -> None:
    with pytest.raises(NoDebtorAccount):
        debtor_account(settings("production"), "BE", PAYER)


def test_payroll_refuses_to_start_outside_local_without_a_salary_account_per_branch() -> None:
    missing = settings("production", SMART_BRANCHES="BE,FR", SMART_DEBTOR_ACCOUNTS=REAL)

    reasons = missing.unsafe_for_production()

    assert "SMART_DEBTOR_ACCOUNTS has no salary account for branch FR" in reasons
    assert not any("branch BE" in reason for reason in reasons)
    assert not any("payer.iban" in reason for reason in reasons)


def test_a_malformed_account_is_refused_when_the_settings_are_read() -> None:
    with pytest.raises(ValueError, match="iban"):
        settings("production", SMART_DEBTOR_ACCOUNTS={"BE": {"iban": "not an iban",
                                                             "bic": "GKCCBEBB"}})


def test_a_configured_salary_account_counts_as_one_of_the_cooperatives_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMART_DEBTOR_ACCOUNTS", '{"BE": {"iban": "BE71 0961 2345 6769", '
                                                '"bic": "GKCCBEBB"}}')
    cooperative_accounts.cache_clear()
    try:
        assert "BE71096123456769" in cooperative_accounts()
    finally:
        monkeypatch.delenv("SMART_DEBTOR_ACCOUNTS")
        cooperative_accounts.cache_clear()
