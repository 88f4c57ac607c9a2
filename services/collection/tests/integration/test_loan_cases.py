"""A member's defaulted loan becomes a case of collection's: written to by e-mail in their
language by the pack's days, without interest; it ends paid (each payment published for the fund
to book) or written off by staff (the fund then bears the loss); a member who cannot be mailed
is named in the staff digest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from babel.numbers import format_currency
from collection.jobs import waiting_for_staff
from smart_shared.events import (
    LoanDefaulted,
    LoanPaymentCollected,
    LoanReminderSent,
    LoanWrittenOff,
    MemberActivated,
)
from smart_shared.events.catalogue import Activity, MemberContact, PayoutDetails
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.mongo import UnitOfWork
from smart_testing import Mailpit, eventually, unique_name

from .conftest import Collection

pytestmark = pytest.mark.integration


async def to_follow(collection: Collection) -> int:
    assert collection.service.platform is not None

    async def counts(uow: UnitOfWork) -> dict[str, int]:
        return await waiting_for_staff(uow, "BE", collection.today())

    return (await collection.service.platform.database.transaction(counts))[
        "loan_cases_to_follow"]


async def defaulted_loan(collection: Collection, email: str | None,
                         owed: str = "612.40") -> tuple[LoanDefaulted, dict[str, object]]:
    member_id, loan_id = new_id(), new_id()
    if email:
        await collection.send(MemberActivated(
            branch="BE", version=2, occurred_at=collection.clock.now(), member_id=member_id,
            activities=[Activity(name="musician", kind="artistic", joint_committee="304")],
            payout=PayoutDetails(iban="BE71096123456769", holder_name="Noor Peeters"),
            contact=MemberContact(name="Noor Peeters", email=email, language="nl")))
    event = LoanDefaulted(
        branch="BE", version=9, occurred_at=collection.clock.now(), loan_id=loan_id,
        member_id=member_id, missed=3, balance=Money(amount="600.00"),
        outstanding=Money(amount=owed), defaulted_on=collection.today())
    await collection.send(event)

    async def opened() -> dict[str, object] | None:
        return await collection.db["loan_cases"].find_one(  # type: ignore[no-any-return]
            {"loan_id": loan_id})
    return event, await eventually(opened)


async def test_a_defaulted_loan_opens_a_case_that_writes_to_the_member_and_ends_paid(
        collection: Collection, mailpit: Mailpit) -> None:
    email = f"{unique_name('noor')}@example.be"
    await collection.send(MemberActivated(  # a contact the case will need, sent first
        branch="BE", version=1, occurred_at=collection.clock.now(), member_id=new_id(),
        activities=[], payout=PayoutDetails(iban="BE71096123456769", holder_name="x")))
    defaulted, case = await defaulted_loan(collection, email)
    await collection.send(defaulted)  # redelivered: still one case
    assert await collection.db["loan_cases"].count_documents(
        {"loan_id": defaulted.loan_id}) == 1

    await collection.advance_to(collection.today())
    [notice] = await collection.wait_for(defaulted.loan_id, LoanReminderSent)
    assert notice.level == "default_notice" and notice.language == "nl"
    assert notice.outstanding.amount == defaulted.outstanding.amount  # type: ignore[union-attr]
    [mail] = await mailpit.wait_for(email, count=1)
    message = await mailpit.message(mail["ID"])
    assert format_currency(notice.outstanding.amount, "EUR", locale="nl_BE") in message["Text"]
    assert "geen interesten" in message["Text"]
    await collection.advance_to(collection.today() + timedelta(days=14))
    await collection.wait_for(defaulted.loan_id, LoanReminderSent, count=2)

    url = f"/v1/loan-cases/{case['_id']}"
    async with collection.http() as http:
        member = await http.get(url, headers=collection.headers(
            "member", member_id=defaulted.member_id))
        assert member.status_code == 200 and member.json()["outstanding"]["amount"] == "612.40"
        stranger = await http.get(url, headers=collection.headers("member", member_id=new_id()))
        assert stranger.status_code == 404
        too_much = await http.post(f"{url}/payments", json={"amount": {"amount": "700.00"}},
                                   headers={**collection.headers(), "Idempotency-Key": "p0"})
        assert too_much.status_code == 400 and "amount" in too_much.text
        for key, amount in (("p1", "200.00"), ("p1", "200.00"), ("p2", "412.40")):
            paid = await http.post(f"{url}/payments", json={"amount": {"amount": amount}},
                                   headers={**collection.headers(), "Idempotency-Key": key})
            assert paid.status_code == 200, paid.text
        assert paid.json()["status"] == "paid" and paid.json()["outstanding"]["amount"] == "0.00"
        closed = await http.post(f"{url}/write-off", json={"reason": "too late"},
                                 headers=collection.headers())
        assert closed.status_code == 409
    payments = await collection.wait_for(defaulted.loan_id, LoanPaymentCollected, count=2)
    assert [str(p.amount.amount) for p in payments] == ["200.00", "412.40"]
    assert payments[-1].outstanding.amount == 0
    assert not collection.events_of(defaulted.loan_id, LoanWrittenOff)


async def test_staff_write_a_defaulted_loan_off_once_and_a_member_without_address_is_not_mailed(
        collection: Collection) -> None:
    defaulted, case = await defaulted_loan(collection, None, owed="600.00")
    await collection.advance_to(collection.today())
    [notice] = await collection.wait_for(defaulted.loan_id, LoanReminderSent)
    assert notice.language == "fr"  # the branch's, no contact known
    assert await to_follow(collection) >= 1  # the staff digest names it
    before = await to_follow(collection)
    url = f"/v1/loan-cases/{case['_id']}/write-off"
    async with collection.http() as http:
        bad = await http.post(url, json={"reason": ""}, headers=collection.headers())
        assert bad.status_code == 400 and "reason" in bad.text
        for _ in range(2):
            done = await http.post(url, json={"reason": "member unreachable"},
                                   headers={**collection.headers(), "Idempotency-Key": "w1"})
            assert done.status_code == 200, done.text
        shown = (await http.get(f"/v1/loan-cases/{case['_id']}",
                                headers=collection.headers())).json()
        assert shown["steps"][0]["mailed"] is False and shown["status"] == "written_off"
    assert await to_follow(collection) == before - 1
    [written_off] = await collection.wait_for(defaulted.loan_id, LoanWrittenOff)
    assert written_off.amount.amount == 600 and written_off.reason == "member unreachable"
