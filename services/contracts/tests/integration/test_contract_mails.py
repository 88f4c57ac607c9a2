"""The client gets the signing link by e-mail when a contract is submitted, the member
"your contract is signed" when SMart validated it (read back from a genuine Mailpit)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from contracts.app import create_service
from smart_shared.auth import mint_token
from smart_shared.events import CONTRACTS_TOPIC, Activity, MemberActivated, PayoutDetails
from smart_shared.events.catalogue import MemberContact
from smart_shared.ids import new_id
from smart_shared.service import Service
from smart_testing import (
    EventWire,
    Mailpit,
    eventually,
    isolated_settings,
    serving,
    unique_name,
)

pytestmark = pytest.mark.integration

SIGNING_LINK = re.compile(r"http://portal\.test/sign/([A-Za-z0-9_-]{43,})")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def contracts(infrastructure: Any, mailpit: Mailpit) -> AsyncIterator[tuple[Service, str]]:
    settings = isolated_settings("contracts", SMART_BRANCHES="BE",
                                 SMART_PORTAL_URL="http://portal.test", **mailpit.settings())
    service = create_service(settings)
    async with serving(service.app) as url, EventWire(settings, CONTRACTS_TOPIC) as wire:
        service.wire = wire  # type: ignore[attr-defined]
        try:
            yield service, url
        finally:
            assert service.platform is not None
            await service.platform.database.client.drop_database(settings.database_name)


async def active_member(service: Service, email: str, language: Any) -> str:
    member_id = new_id()
    await service.wire.send(MemberActivated(  # type: ignore[attr-defined]
        branch="BE", version=2, occurred_at=datetime.now(UTC), member_id=member_id,
        activities=[Activity(name="musician", kind="artistic", joint_committee="304")],
        payout=PayoutDetails(iban="BE68539007547034", holder_name="Lotte Peeters"),
        contact=MemberContact(name="Lotte Peeters", email=email, language=language)))
    assert service.platform is not None
    db = service.platform.db
    await eventually(lambda: db["members"].find_one({"_id": member_id}))
    return member_id


async def test_the_client_gets_the_signing_link_and_the_member_the_signed_contract(
    contracts: tuple[Service, str], mailpit: Mailpit,
) -> None:
    service, url = contracts
    assert service.platform is not None
    member_email = f"{unique_name('lotte')}@example.be"
    client_email = f"{unique_name('ap')}@acme.be"
    member_id = await active_member(service, member_email, "en")
    token = mint_token(service.settings, "member", "BE", member_id=member_id)
    first_day = service.platform.clock.today() + timedelta(days=10)
    body = {
        "activity": "musician", "description": "Twee concerten in Gent",
        "client": {"name": "Acme NV", "kind": "business", "country": "BE",
                   "email": client_email, "language": "nl", "vat_number": "BE 0403.170.701",
                   "address": {"street": "Veldstraat 1", "postal_code": "9000",
                               "city": "Gent", "country": "BE"}},
        "work_days": [first_day.isoformat(), (first_day + timedelta(days=1)).isoformat()],
        "amount_excl_vat": {"amount": "1250.00", "currency": "EUR"},
    }
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        own = {"Authorization": f"Bearer {token}"}
        contract_id = (await http.post("/v1/contracts", json=body, headers=own)).json()[
            "contract_id"]
        submitted = await http.post(f"/v1/contracts/{contract_id}/submit", headers=own)
        assert submitted.status_code == 200, submitted.text

        [summary] = await mailpit.wait_for(client_email)
        mail = await mailpit.message(summary["ID"])
        assert mail["Subject"] == "Lotte Peeters vraagt u een SMart-contract te ondertekenen"
        assert "Twee concerten in Gent" in mail["Text"]
        assert "€\xa01.250,00" in mail["Text"]  # amounts as written in Dutch in Belgium
        link = SIGNING_LINK.search(mail["Text"])
        assert link and link[1] == submitted.json()["signing_token"]
        outbox = await service.platform.db["mail_outbox"].find_one({"to": client_email})
        assert link[1] not in str(outbox)  # the secret is dropped once sent

        signed = await http.post(f"/v1/contracts/sign/{link[1]}")
        assert signed.status_code == 200 and signed.json()["status"] == "signed"

    [summary] = await mailpit.wait_for(member_email)
    mail = await mailpit.message(summary["ID"])
    assert mail["Subject"] == "Your contract with Acme NV is signed"
    assert "1.250,00\xa0€" in mail["Text"]  # English as written in Belgium
