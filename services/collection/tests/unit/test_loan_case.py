"""A defaulted loan's case: its letters by the BE pack's days, payments never above what is
owed, and a pack whose days are out of order refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from collection.domain import collection_rules
from collection.domain.loan_case import next_loan_step, payment_problem
from collection.domain.rules import LoanCaseRules
from pydantic import ValidationError

DEFAULTED = date(2026, 5, 5)


def test_the_member_is_written_to_on_the_default_after_two_weeks_and_staff_asked_at_60_days(
) -> None:
    rules = collection_rules("BE", DEFAULTED).loans
    assert rules is not None
    assert next_loan_step(DEFAULTED, 0, rules) == ("default_notice", date(2026, 5, 5))
    assert next_loan_step(DEFAULTED, 1, rules) == ("reminder", date(2026, 5, 19))
    assert next_loan_step(DEFAULTED, 2, rules) == ("write_off_proposed", date(2026, 7, 4))
    assert next_loan_step(DEFAULTED, 3, rules) is None


def test_a_payment_above_what_the_member_owes_is_refused() -> None:
    assert payment_problem(Decimal("612.40"), Decimal("612.40")) is None
    assert payment_problem(Decimal("612.41"), Decimal("612.40")) is not None


def test_a_loan_case_schedule_out_of_order_is_refused() -> None:
    def day(value: int) -> dict[str, object]:
        return {"value": value, "source": "test"}

    with pytest.raises(ValidationError, match="strictly increasing"):
        LoanCaseRules.model_validate({"default_notice": day(0), "reminder": day(60),
                                      "write_off_proposed": day(14)})


def test_a_branch_that_does_not_lend_has_no_loan_case_schedule() -> None:
    assert collection_rules("FR", DEFAULTED).loans is None
