from datetime import UTC, date, datetime, timedelta

import pytest
from members.domain import (
    Applicant,
    Changes,
    Member,
    NotNow,
    RuleBroken,
    ShareRules,
    change_status,
    erase,
    record_share_payment,
    register,
    subscribe,
    subscription,
    update,
)
from smart_shared.events.catalogue import Activity, Address, MemberActivated, MemberUpdated
from smart_shared.money import Money
from smart_shared.rulepacks import rule_pack

AT = datetime(2026, 3, 2, 10, tzinfo=UTC)
TODAY = date(2026, 3, 2)
RULES = rule_pack("BE", TODAY).section("members", ShareRules)
PRICE = Money(amount="30.00")


def applicant(**overrides: object) -> Applicant:
    values: dict[str, object] = dict(
        branch="BE", first_name="Anna", last_name="Peeters", email="Anna@Example.BE",
        birth_date=date(1990, 5, 14), national_id="90.05.14-123.24",
        address=Address(street="Rue Coenraets 72", postal_code="1060", city="Saint-Gilles",
                        country="BE"),
        iban="BE71 0961 2345 6769",
        activities=[Activity(name="  Musician ", kind="artistic", joint_committee="304")],
    )
    values.update(overrides)
    return Applicant.model_validate(values)


def registered() -> Member:
    member, _ = register(applicant(), "m1", AT, TODAY)
    return member


def active() -> Member:
    member = subscribe(registered(), subscription("s1", 1, PRICE, RULES, AT))
    member, _ = record_share_payment(member, "s1", PRICE, TODAY, TODAY, AT, "staff", RULES)
    return member


def test_registration_makes_an_applicant_at_version_one_and_announces_it():
    member, event = register(applicant(), "m1", AT, TODAY)
    assert member.status == "applicant" and member.version == 1
    assert member.national_id == "90051412324"
    assert member.email == "Anna@example.be"
    assert member.payout is not None
    assert member.payout.iban == "BE71096123456769"
    assert member.payout.holder_name == "Anna Peeters"
    assert member.activities[0].name == "musician"
    assert event.version == 1 and event.member_id == "m1" and event.branch == "BE"
    assert event.activities == member.activities
    assert not member.may_sign_contracts()


def test_registration_reports_every_failing_field_at_once():
    with pytest.raises(RuleBroken) as refused:
        register(applicant(email="nope", iban="XX00", national_id="90051412325",
                           first_name="  ", activities=[]), "m1", AT, TODAY)
    fields = {field for field, _ in refused.value.errors}
    assert fields == {"email", "iban", "national_id", "first_name", "activities"}


def test_a_birth_date_in_the_future_is_refused():
    with pytest.raises(RuleBroken) as refused:
        register(applicant(birth_date=TODAY + timedelta(days=1)), "m1", AT, TODAY)
    assert refused.value.errors[0][0] == "birth_date"


def test_an_unknown_joint_committee_or_a_duplicate_activity_is_refused():
    with pytest.raises(RuleBroken) as refused:
        register(applicant(activities=[
            Activity(name="musician", kind="artistic", joint_committee="304"),
            Activity(name="Musician", kind="artistic", joint_committee="304"),
            Activity(name="welder", kind="manual", joint_committee="124"),
        ]), "m1", AT, TODAY)
    assert {f for f, _ in refused.value.errors} == {"activities.1.name",
                                                     "activities.2.joint_committee"}


def test_the_first_paid_share_activates_the_applicant_once():
    member = subscribe(registered(), subscription("s1", 1, PRICE, RULES, AT))
    member = subscribe(member, subscription("s2", 2, PRICE, RULES, AT))
    member, event = record_share_payment(member, "s1", PRICE, TODAY, TODAY, AT, "staff", RULES)
    assert isinstance(event, MemberActivated)
    assert member.status == "active" and member.version == 2 and event.version == 2
    assert event.payout.iban == "BE71096123456769"
    member, again = record_share_payment(member, "s2", Money(amount="60.00"), TODAY, TODAY, AT,
                                         "staff", RULES)
    assert again is None and member.version == 2


def test_status_goes_active_suspended_active_left_and_not_backwards():
    member = active()
    member, event = change_status(member, "suspend", AT)
    assert member.status == "suspended" and isinstance(event, MemberUpdated)
    assert event.changed == ["status"] and event.version == 3
    member, _ = change_status(member, "reinstate", AT)
    assert member.status == "active" and member.version == 4
    member, event = change_status(member, "leave", AT)
    assert member.status == "left" and event.status == "left" and member.left_at == AT
    for action in ("suspend", "reinstate", "leave"):
        with pytest.raises(NotNow):
            change_status(member, action, AT)  # type: ignore[arg-type]


def test_an_applicant_cannot_be_suspended_but_may_leave():
    with pytest.raises(NotNow):
        change_status(registered(), "suspend", AT)
    member, _ = change_status(registered(), "leave", AT)
    assert member.status == "left"
    with pytest.raises(NotNow):
        subscribe(member, subscription("s9", 1, PRICE, RULES, AT))


def test_changing_the_iban_announces_the_new_payout_details():
    member, event = update(active(), Changes(iban="FR76 1010 7001 0112 3456 7890 129"), AT)
    assert event is not None and event.changed == ["payout"]
    assert event.payout.iban == "FR7610107001011234567890129"
    assert event.version == member.version == 3


def test_an_update_that_changes_nothing_announces_nothing():
    member = active()
    same, event = update(member, Changes(iban="BE71096123456769", email="Anna@example.be"), AT)
    assert event is None and same.version == member.version


def test_an_invalid_update_names_its_field():
    with pytest.raises(RuleBroken) as refused:
        update(active(), Changes(iban="TR330006100519786457841326", email="x"), AT)
    assert {f for f, _ in refused.value.errors} == {"iban", "email"}


def test_erasure_removes_personal_data_and_keeps_the_share_register():
    member, event = erase(active(), AT)
    assert event is not None and event.version == member.version == 3
    assert member.status == "erased" and not member.may_sign_contracts()
    personal = (member.email, member.birth_date, member.national_id, member.address, member.payout)
    assert personal == (None, None, None, None, None)
    assert member.first_name == member.last_name == "erased" and member.activities == []
    assert member.shares[0].paid_amount == PRICE and member.shares[0].recorded_by is None
    again, nothing = erase(member, AT)
    assert nothing is None and again == member
    with pytest.raises(NotNow):
        update(member, Changes(email="a@b.be"), AT)


