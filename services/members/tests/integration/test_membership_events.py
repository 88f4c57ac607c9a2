"""Registration, shares, updates and staff transitions, seen through the API and on Kafka."""

from __future__ import annotations

import asyncio

import pytest
from members_samples import IBANS, OTHER_IBAN, applicant
from smart_shared.events import MemberActivated, MemberRegistered, MemberUpdated

pytestmark = pytest.mark.integration


async def register(members, branch: str = "BE", **overrides) -> dict:
    async with members.http() as http:
        answer = await http.post("/v1/members", json=applicant(branch, **overrides))
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_a_paid_share_activates_the_member_once_on_kafka_with_cloudevents_headers(members):
    member = await register(members)
    member_id = member["member_id"]
    assert member["status"] == "applicant" and member["version"] == 1
    staff = members.token("staff")
    async with members.http() as http:
        own = members.token("member", member_id=member_id)
        subscribed = await http.post(f"/v1/members/{member_id}/shares", json={"count": 1},
                                     headers=own)
        assert subscribed.status_code == 201, subscribed.text
        share = subscribed.json()
        assert share["total"] == {"amount": "30.00", "currency": "EUR"}
        assert share["paid_on"] is None

        url = f"/v1/members/{member_id}/shares/{share['share_id']}/payment"
        body = {"amount": {"amount": "30.00", "currency": "EUR"}}
        key = {"Idempotency-Key": f"pay-{member_id}"}
        first = await http.post(url, json=body, headers=staff | key)
        replay = await http.post(url, json=body, headers=staff | key)
        again = await http.post(url, json=body, headers=staff)
        # a later event of the same member: once it is on Kafka, everything before it is too
        touched = await http.patch(f"/v1/members/{member_id}", json={"email": "new@example.be"},
                                   headers=own)
    assert first.status_code == 200, first.text
    assert first.json()["activated"] is True and first.json()["status"] == "active"
    assert replay.json() == first.json()
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert touched.status_code == 200 and touched.json()["version"] == 3

    events = await members.wait_for(member_id, count=3)
    assert [type(e) for e in events] == [MemberRegistered, MemberActivated, MemberUpdated]
    assert [e.version for e in events] == [1, 2, 3]
    activated = events[1]
    assert isinstance(activated, MemberActivated)
    assert activated.payout.iban == IBANS["BE"] and activated.branch == "BE"
    assert [a.name for a in activated.activities] == ["musician", "graphic designer"]
    headers = members.headers_of(member_id, MemberActivated)
    assert len(headers) == 1
    assert headers[0]["ce_type"] == "coop.smart.members.MemberActivated.v1"
    assert headers[0]["ce_source"] == "/smart/BE/members"
    assert headers[0]["ce_subject"] == member_id
    assert headers[0]["ce_specversion"] == "1.0"
    assert headers[0]["content-type"] == "application/json"
    assert events[2].changed == ["email"]  # type: ignore[attr-defined]


async def test_a_changed_iban_reaches_subscribers_in_member_updated(members):
    member_id = (await register(members))["member_id"]
    async with members.http() as http:
        answer = await http.patch(f"/v1/members/{member_id}",
                                  json={"iban": "NL91 ABNA 0417 1643 00",
                                        "account_holder": "Anna Peeters"},
                                  headers=members.token("member", member_id=member_id))
        unchanged = await http.patch(f"/v1/members/{member_id}", json={"iban": OTHER_IBAN},
                                     headers=members.token("staff"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["payout"] == {"iban": OTHER_IBAN, "holder_name": "Anna Peeters"}
    assert unchanged.json()["version"] == 2

    [event] = await members.wait_for(member_id, MemberUpdated)
    assert event.payout.iban == OTHER_IBAN and event.changed == ["payout"]
    assert event.version == 2 and event.status == "applicant"


async def test_staff_suspend_reinstate_and_record_leaving_and_refuse_the_impossible(members):
    member_id = (await register(members))["member_id"]
    staff = members.token("staff")
    async with members.http() as http:
        too_early = await http.post(f"/v1/members/{member_id}/suspend", headers=staff)
        share = (await http.post(f"/v1/members/{member_id}/shares", json={"count": 2},
                                 headers=staff)).json()
        await http.post(f"/v1/members/{member_id}/shares/{share['share_id']}/payment",
                        json={"amount": {"amount": "60.00", "currency": "EUR"}}, headers=staff)
        by_member = await http.post(f"/v1/members/{member_id}/suspend",
                                    headers=members.token("member", member_id=member_id))
        statuses = [(await http.post(f"/v1/members/{member_id}/{action}", headers=staff))
                    for action in ("suspend", "reinstate", "leave")]
        after_leaving = await http.post(f"/v1/members/{member_id}/reinstate", headers=staff)
    assert too_early.status_code == 409
    assert by_member.status_code == 403
    assert [s.json()["status"] for s in statuses] == ["suspended", "active", "left"]
    assert after_leaving.status_code == 409

    events = await members.wait_for(member_id, count=5)
    assert [e.version for e in events] == [1, 2, 3, 4, 5]
    assert [getattr(e, "status", None) for e in events[2:]] == ["suspended", "active", "left"]


async def test_the_same_national_id_cannot_register_twice_in_a_branch(members):
    body = applicant("BE")
    async with members.http() as http:
        first = await http.post("/v1/members", json=body)
        second = await http.post("/v1/members", json=body | {"email": "other@example.be"})
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["title"] == "Already a member"
    assert first.json()["member_id"] not in second.text
    assert await members.db.members.count_documents({"national_id": body["national_id"]}) == 1


async def test_two_registrations_of_one_person_at_once_make_one_member(members):
    body = applicant("BE")
    async with members.http() as http:
        answers = await asyncio.gather(*(http.post("/v1/members", json=body) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    assert await members.db.members.count_documents({"national_id": body["national_id"]}) == 1


async def test_staff_list_their_branch_members_by_status_and_activity_page_by_page(members):
    ids = [(await register(members, activities=[{"name": "Luthier", "kind": "manual"}]))
           ["member_id"] for _ in range(3)]
    await register(members, "FR", activities=[{"name": "Luthier", "kind": "manual"}])
    seen: list[str] = []
    cursor = None
    async with members.http() as http:
        while True:
            params = {"activity": "LUTHIER", "status": "applicant", "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await http.get("/v1/members", params=params,
                                   headers=members.token("staff"))).json()
            seen += [m["member_id"] for m in page["items"]]
            assert all(m["branch"] == "BE" for m in page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        by_member = await http.get("/v1/members",
                                   headers=members.token("member", member_id=ids[0]))
        bad_status = await http.get("/v1/members", params={"status": "dead"},
                                    headers=members.token("staff"))
    assert seen == ids
    assert by_member.status_code == 403
    assert bad_status.status_code == 400
