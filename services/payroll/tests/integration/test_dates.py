"""Dates that cannot be true are refused: payment runs and simulations, by the platform clock."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from smart_shared.clock import SharedClock

from .harness import Payroll

pytestmark = pytest.mark.integration


def refused_for(answer: httpx.Response, field: str) -> bool:
    return (answer.status_code == 400
            and answer.headers["content-type"].startswith("application/problem+json")
            and [e["field"] for e in answer.json()["errors"]] == [field])


async def test_a_payment_run_dated_beyond_a_month_by_the_platform_clock_is_refused_until_time_moves(
    payroll: Payroll,
) -> None:
    clock = payroll.service.platform.clock  # type: ignore[union-attr]
    assert isinstance(clock, SharedClock)
    too_far = clock.today() + timedelta(days=32)

    async with payroll.client("staff", "BE") as staff:
        refused = await staff.post("/v1/payment-runs", json={"pay_date": too_far.isoformat()})
        await clock.advance(timedelta(days=2))
        accepted = await staff.post("/v1/payment-runs", json={"pay_date": too_far.isoformat()})

    assert refused_for(refused, "pay_date"), refused.text
    assert "31 days ahead" in refused.json()["detail"]
    assert accepted.status_code == 409  # a plausible date; nothing is due in this module


async def test_a_payment_run_dated_before_the_branch_had_payroll_rules_is_refused(
    payroll: Payroll,
) -> None:
    async with payroll.client("staff", "BE") as staff:
        refused = await staff.post("/v1/payment-runs", json={"pay_date": "1900-01-31"})

    assert refused_for(refused, "pay_date"), refused.text
    assert payroll.service.platform is not None
    assert await payroll.service.platform.db["payment_runs"].count_documents({}) == 0


async def test_a_salary_simulated_more_than_two_years_ahead_is_refused(payroll: Payroll) -> None:
    clock = payroll.service.platform.clock  # type: ignore[union-attr]
    body = {"branch": "BE", "activity_kind": "artistic", "amount_excl_vat": {
        "amount": "1000.00", "currency": "EUR"}}

    async with payroll.client("member", "BE", member_id="m-1") as member:
        far = await member.post("/v1/simulations", json={
            **body, "on": (clock.today() + timedelta(days=800)).isoformat()})
        near = await member.post("/v1/simulations", json={
            **body, "on": (clock.today() + timedelta(days=300)).isoformat()})
        before = await member.post("/v1/simulations", json={**body, "on": "1900-01-01"})

    assert refused_for(far, "on"), far.text
    assert near.status_code == 200, near.text
    assert refused_for(before, "on"), before.text  # no rule pack of BE in force then
