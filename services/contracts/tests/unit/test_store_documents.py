"""A contract survives the trip to its stored document and back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from contracts.domain import Contract, ContractRules, issue_signing_link
from contracts.store import changed_fields, contract_document, contract_from
from smart_shared.events import Activity, Address, Client
from smart_shared.money import Money
from smart_shared.rulepacks import rule_pack

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
INSURANCE = rule_pack("BE", NOW.date()).section("contracts", ContractRules).insurance


def a_draft() -> Contract:
    return Contract(
        contract_id="c-9", branch="BE", member_id="m-9",
        activity=Activity(name="designer", kind="other", joint_committee="200"),
        client=Client(client_key="BE:jean-dupont", name="Jean Dupont", kind="consumer",
                      country="BE", email="j@d.be",
                      address=Address(street="R 1", postal_code="1000", city="Bxl",
                                      country="BE")),
        description="Poster", work_days=[date(2026, 3, 10), date(2026, 3, 17)],
        amount_excl_vat=Money.of("1234.56"), expenses=Money.of("0.10"), payment_term_days=30,
        created_at=NOW, created_by="m-9",
    )


def test_a_contract_round_trips_through_its_document_with_exact_amounts() -> None:
    contract = a_draft()
    contract.submit(issue_signing_link(NOW, 14), NOW)
    doc = contract_document(contract)
    assert doc["_id"] == "c-9"
    assert doc["first_work_day"] == "2026-03-10" and doc["last_work_day"] == "2026-03-17"
    assert doc["amount_excl_vat"] == {"amount": "1234.56", "currency": "EUR"}
    assert doc["status"] == "submitted"
    assert doc["signing"]["expires_at"] == datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
    assert contract_from(doc) == contract


def test_each_step_writes_only_the_fields_it_changed() -> None:
    contract = a_draft()
    link = issue_signing_link(NOW, 14)

    def step(change: Callable[[], object]) -> set[str]:
        read = contract_document(contract)
        change()
        return set(changed_fields(read, contract_document(contract)))

    assert step(lambda: contract.submit(link, NOW)) == {"status", "signing"}
    later = NOW + timedelta(hours=1)
    assert step(lambda: (contract.sign_by_client(link.token, "192.0.2.1", later, None),
                         contract.validate_for_smart(True, later.date(), later,
                                                     INSURANCE))) == {
        "status", "version", "signing.used_at", "client_signature", "signed_at",
        "insurance"}
    assert step(lambda: contract.record_declaration("SIM-BE-1", later)) == {
        "status", "version", "declaration.attempts", "declaration.reference",
        "declaration.declared_at"}
    assert step(lambda: contract.complete(date(2026, 3, 18), later)) == {
        "status", "version", "completed_at"}
