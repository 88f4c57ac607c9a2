"""A share payment is dated between its subscription and today, by the platform clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from members_samples import applicant
from smart_shared.clock import SharedClock

pytestmark = pytest.mark.integration


async def subscribed_applicant(http, staff):
    """A new applicant with one unpaid share: their id and the share's payment URL."""
    member_id = (await http.post("/v1/members", json=applicant("BE"))).json()["member_id"]
    share = (await http.post(f"/v1/members/{member_id}/shares", json={"count": 1},
                             headers=staff)).json()
    return member_id, f"/v1/members/{member_id}/shares/{share['share_id']}/payment"


async def test_a_share_paid_before_its_subscription_or_in_1900_is_refused_and_changes_nothing(
        members):
    clock, staff = members.service.platform.clock, members.token("staff")
    assert isinstance(clock, SharedClock)
    async with members.http() as http:
        member_id, url = await subscribed_applicant(http, staff)
        total = {"amount": "30.00", "currency": "EUR"}
        answers = [await http.post(url, json={"amount": total, "paid_on": paid_on}, headers=staff)
                   for paid_on in ("1900-01-01", (clock.today() - timedelta(days=1)).isoformat())]
        after = (await http.get(f"/v1/members/{member_id}", headers=staff)).json()

    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"] == [{
            "field": "paid_on",
            "message": f"must not be before the shares were subscribed, on {clock.today()}"}]
    assert after["status"] == "applicant" and after["shares"][0]["paid_on"] is None


async def test_a_share_payment_is_dated_by_the_platform_clock_not_the_wall_clock(members):
    clock, staff = members.service.platform.clock, members.token("staff")
    assert isinstance(clock, SharedClock)
    async with members.http() as http:
        _, url = await subscribed_applicant(http, staff)
        next_week = (clock.today() + timedelta(days=7)).isoformat()
        body = {"amount": {"amount": "30.00", "currency": "EUR"}, "paid_on": next_week}
        too_soon = await http.post(url, json=body, headers=staff)
        await clock.advance(timedelta(days=7))
        recorded = await http.post(url, json=body, headers=staff)

    assert too_soon.status_code == 400
    assert too_soon.json()["errors"][0]["field"] == "paid_on"
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["share"]["paid_on"] == next_week
    assert recorded.json()["activated"] is True
