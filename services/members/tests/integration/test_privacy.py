"""Who may see what, GDPR erasure, and bad input that changes nothing."""

from __future__ import annotations

import json

import pytest
from members_samples import IBANS, applicant
from smart_shared.events import MemberErased
from smart_testing import eventually

pytestmark = pytest.mark.integration


async def test_a_member_reads_only_themselves_and_staff_only_their_branch(members):
    """A member the caller may not see is answered like an unknown id (404), never 403."""
    async with members.http() as http:
        anna = (await http.post("/v1/members", json=applicant("BE"))).json()
        bert = (await http.post("/v1/members", json=applicant("BE"))).json()
        as_anna = members.token("member", member_id=anna["member_id"])
        own = await http.get(f"/v1/members/{anna['member_id']}", headers=as_anna)
        other = await http.get(f"/v1/members/{bert['member_id']}", headers=as_anna)
        edit_other = await http.patch(f"/v1/members/{bert['member_id']}",
                                      json={"email": "x@example.be"}, headers=as_anna)
        fr_staff = await http.get(f"/v1/members/{anna['member_id']}",
                                  headers=members.token("staff", "FR"))
        fr_list = await http.get("/v1/members", headers=members.token("staff", "FR"))
        be_staff = await http.get(f"/v1/members/{bert['member_id']}",
                                  headers=members.token("staff", "BE"))
        anonymous = await http.get(f"/v1/members/{anna['member_id']}")
        pay = await http.post(f"/v1/members/{anna['member_id']}/shares/x/payment",
                              json={"amount": {"amount": "30.00", "currency": "EUR"}},
                              headers=as_anna)
    assert own.status_code == 200 and own.json()["national_id"] == anna["national_id"]
    assert other.status_code == 404 and other.headers["content-type"] == "application/problem+json"
    assert edit_other.status_code == 404
    assert fr_staff.status_code == 404
    assert anna["member_id"] not in fr_list.text and bert["member_id"] not in fr_list.text
    assert be_staff.status_code == 200
    assert anonymous.status_code == 401
    assert pay.status_code == 403


async def test_erasure_leaves_no_personal_data_and_tells_every_subscriber(members):
    body = applicant("BE")
    async with members.http() as http:
        member = (await http.post("/v1/members", json=body)).json()
        member_id = member["member_id"]
        staff = members.token("staff")
        share = (await http.post(f"/v1/members/{member_id}/shares", json={"count": 1},
                                 headers=staff)).json()
        paid = await http.post(f"/v1/members/{member_id}/shares/{share['share_id']}/payment",
                               json={"amount": {"amount": "30.00", "currency": "EUR"}},
                               headers=staff | {"Idempotency-Key": f"k-{member_id}"})
        assert paid.status_code == 200
        await eventually(lambda: _sent(members, member_id, 2))
        as_member = members.token("member", member_id=member_id)
        erased = await http.post(f"/v1/members/{member_id}/erasure", headers=as_member)
        twice = await http.post(f"/v1/members/{member_id}/erasure", headers=staff)
        change = await http.patch(f"/v1/members/{member_id}", json={"email": "a@example.be"},
                                  headers=as_member)
        again = await http.post("/v1/members", json=body)
    assert erased.status_code == 200, erased.text
    assert erased.json()["status"] == "erased" and erased.json()["payout"] is None
    assert twice.status_code == 200 and twice.json()["version"] == erased.json()["version"] == 3
    assert change.status_code == 409
    # the person may come back: the erased number no longer blocks them
    assert again.status_code == 201

    [event] = await members.wait_for(member_id, MemberErased)
    assert event.version == 3 and event.branch == "BE"
    outbox = await members.db.outbox.find({"aggregate_id": member_id}).to_list(None)
    assert [row["ce_type"] for row in outbox] == [MemberErased.ce_type()]

    personal = [body["national_id"], body["email"], body["last_name"], IBANS["BE"],
                body["birth_date"], body["address"]["street"], "musician"]
    db = members.db
    raw = [json.dumps(doc, default=str) for name in ("members", "outbox", "idempotency_keys")
           for doc in await db[name].find({"$or": [{"_id": member_id},
                                                  {"aggregate_id": member_id},
                                                  {"_id": {"$regex": member_id}}]}).to_list(None)]
    assert raw, "the erased member's documents should still be readable"
    for text in raw:
        for value in personal:
            assert value not in text, f"{value!r} survived erasure"
    stored = await db.members.find_one({"_id": member_id})
    assert stored["status"] == "erased" and "national_id_key" not in stored
    assert stored["shares"][0]["paid_amount"] == {"amount": "30.00", "currency": "EUR"}


async def _sent(members, member_id: str, count: int) -> bool:
    """The member's first ``count`` events have left the outbox for Kafka."""
    rows = await members.db.outbox.find({"aggregate_id": member_id}).to_list(None)
    return len(rows) >= count and not any(row.get("pending") for row in rows)


BAD_REGISTRATIONS = [
    ({"national_id": "90051412325"}, "national_id"),
    ({"iban": "TR330006100519786457841326"}, "iban"),
    ({"iban": "BE71096123456760"}, "iban"),
    # the cooperative's own salary account (the BE payroll pack's payer): a salary never leaves
    ({"iban": "BE68 5390 0754 7034"}, "iban"),
    ({"email": "not-an-email"}, "email"),
    ({"birth_date": "2999-01-01"}, "birth_date"),
    ({"branch": "NL"}, "branch"),
    ({"activities": []}, "activities"),
    ({"activities": [{"name": "welder", "kind": "manual", "joint_committee": "124"}]},
     "joint_committee"),
    ({"activities": [{"name": "welder", "kind": "metal"}]}, "kind"),
    ({"address": {"street": "x", "postal_code": "1", "city": "y", "country": "Belgium"}},
     "country"),
    ({"nickname": "Nana"}, "nickname"),
    ({"first_name": ""}, "first_name"),
]


@pytest.mark.parametrize(("change", "field"), BAD_REGISTRATIONS)
async def test_a_bad_registration_is_a_problem_naming_the_field_and_stores_nothing(
        members, change, field):
    body = applicant("BE") | change
    before = (await members.db.members.count_documents({}),
              await members.db.outbox.count_documents({}))
    async with members.http() as http:
        answer = await http.post("/v1/members", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert any(field in error["field"] for error in problem["errors"]), problem
    after = (await members.db.members.count_documents({}),
             await members.db.outbox.count_documents({}))
    assert after == before


async def test_bad_share_requests_are_problems_and_change_nothing(members):
    async with members.http() as http:
        member_id = (await http.post("/v1/members", json=applicant("BE"))).json()["member_id"]
        staff = members.token("staff")
        share = (await http.post(f"/v1/members/{member_id}/shares", json={"count": 1},
                                 headers=staff)).json()
        url = f"/v1/members/{member_id}/shares/{share['share_id']}/payment"
        answers = {
            "count": await http.post(f"/v1/members/{member_id}/shares", json={"count": 0},
                                     headers=staff),
            "amount": await http.post(url, json={"amount": {"amount": "29.99"}}, headers=staff),
            "float": await http.post(url, json={"amount": {"amount": 30.0}}, headers=staff),
            "paid_on": await http.post(url, json={"amount": {"amount": "30.00"},
                                                  "paid_on": "2999-01-01"}, headers=staff),
            "unknown share": await http.post(f"/v1/members/{member_id}/shares/nope/payment",
                                             json={"amount": {"amount": "30.00"}},
                                             headers=staff),
            "patch": await http.patch(f"/v1/members/{member_id}", json={"iban": "BE00"},
                                      headers=staff),
            "empty patch": await http.patch(f"/v1/members/{member_id}", json={},
                                            headers=staff),
            # the FR billing pack's collection account: one of the cooperative's own
            "own account": await http.patch(f"/v1/members/{member_id}",
                                            json={"iban": "FR7630006000011234567890189"},
                                            headers=staff),
        }
        after = (await http.get(f"/v1/members/{member_id}", headers=staff)).json()
    assert {name: a.status_code for name, a in answers.items()} == {
        "count": 400, "amount": 400, "float": 400, "paid_on": 400, "unknown share": 404,
        "patch": 400, "empty patch": 400, "own account": 400}
    assert answers["amount"].json()["errors"][0]["field"] == "amount"
    assert answers["paid_on"].json()["errors"][0]["field"] == "paid_on"
    assert answers["patch"].json()["errors"][0]["field"] == "iban"
    assert answers["own account"].json()["errors"][0]["field"] == "iban"
    assert after["status"] == "applicant" and after["version"] == 1
    assert len(after["shares"]) == 1 and after["shares"][0]["paid_on"] is None
    assert after["payout"]["iban"] == IBANS["BE"]
