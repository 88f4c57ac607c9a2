"""The member is told, in their language and once, that a contract is not guaranteed and why
(read back from a genuine Mailpit)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from fund.store import MEMBER_CONTACTS
from smart_shared.events import Activity, GuaranteeDeclined, MemberActivated, PayoutDetails
from smart_shared.events.catalogue import MemberContact
from smart_shared.ids import new_id
from smart_testing import Mailpit, unique_name

from .conftest import Fund, contract_signed

pytestmark = pytest.mark.integration


async def test_a_declined_guarantee_is_mailed_to_the_member_with_its_reason(
    fund: Fund, mailpit: Mailpit,
) -> None:
    member_id, contract_id = new_id(), new_id()
    email = f"{unique_name('zoe')}@example.be"
    await fund.send(MemberActivated(
        branch="BE", version=2, occurred_at=datetime.now(UTC), member_id=member_id,
        activities=[Activity(name="musician", kind="artistic", joint_committee="304")],
        payout=PayoutDetails(iban="BE71096123456769", holder_name="Zoë Dupont"),
        contact=MemberContact(name="Zoë Dupont", email=email, language="fr")))
    # the two events travel on two topics: the signature must not overtake the activation
    await _contact_kept(fund, member_id)
    signed = contract_signed(contract_id, member_id, "US-123", "1000.00", country="US")
    await fund.send(signed)
    await fund.send(signed)  # the same fact again: one decision, one mail
    [declined] = await fund.wait_for(GuaranteeDeclined, contract_id)
    assert declined.reason == "client_outside_eu"

    [summary] = await mailpit.wait_for(email)
    mail = await mailpit.message(summary["ID"])
    assert mail["Subject"] == "Votre contrat avec Théâtre Royal n'est pas garanti"
    assert "hors de l'Union européenne" in mail["Text"]
    await asyncio.sleep(1.5)
    assert len(await mailpit.messages(email)) == 1


async def _contact_kept(fund: Fund, member_id: str) -> None:
    for _ in range(200):
        if await fund.service.platform.db[MEMBER_CONTACTS].find_one({"_id": member_id}):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the fund never kept the contact of {member_id}")
