"""The signed contract as a PDF: for the member and staff, and for the client through the link
that signed it; in the client's language, with the signature's evidence."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from smart_shared.events import MemberUpdated
from smart_shared.events.catalogue import MemberContact
from smart_testing import eventually

from .test_contract_lifecycle import MUSICIAN, PAYOUT, Platform, new_contract, platform

pytestmark = pytest.mark.integration
__all__ = ["platform"]


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    shown = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content,
                           capture_output=True, check=True)
    return " ".join(shown.stdout.decode().split())


async def test_the_signed_contract_is_a_pdf_in_the_clients_language_for_member_and_client(
        platform: Platform) -> None:
    member_id = await platform.active_member()
    await platform.send(MemberUpdated(
        branch="BE", version=3, occurred_at=platform.service.platform.clock.now(),  # type: ignore[union-attr]
        member_id=member_id, status="active", activities=[MUSICIAN], payout=PAYOUT,
        changed=["contact"],
        contact=MemberContact(name="Lotte Peeters", email="lotte@example.org", language="nl")))
    await eventually(lambda: platform.db["members"].find_one(
        {"_id": member_id, "contact.name": "Lotte Peeters"}))
    headers = platform.member_token(member_id)
    first_day = platform.today + timedelta(days=10)
    async with platform.http() as http:
        created = await http.post("/v1/contracts", json=new_contract(None, first_day),
                                  headers=headers)
        contract_id = created.json()["contract_id"]
        before = await http.get(f"/v1/contracts/{contract_id}/document", headers=headers)
        assert before.status_code == 409, "nothing to print before the client signs"
        path = (await http.post(f"/v1/contracts/{contract_id}/submit",
                                headers=headers)).json()["signing_path"]
        terms = (await http.get(path)).json()
        signed = await http.post(path, json={
            "signer_name": "Anne Lambert", "terms_sha256": terms["terms_sha256"],
            "signer_address": "192.0.2.7", "user_agent": "Firefox/140"})
        assert signed.status_code == 200, signed.text

        for_member = await http.get(f"/v1/contracts/{contract_id}/document", headers=headers)
        assert for_member.status_code == 200, for_member.text
        assert for_member.headers["content-type"] == "application/pdf"
        for_client = await http.get(f"{path}/document")
        assert for_client.status_code == 200, for_client.text
        for_staff = await http.get(f"/v1/contracts/{contract_id}/document",
                                   headers=platform.staff_token())
        other = await http.get(f"/v1/contracts/{contract_id}/document",
                               headers=platform.member_token("someone-else"))
        unknown = await http.get("/v1/contracts/sign/" + "x" * 43 + "/document")
    assert for_member.content == for_client.content == for_staff.content
    assert other.status_code == 404 and unknown.status_code == 404
    text = pdf_text(for_client.content)
    for mention in ("SMart SCE", "Numéro d'entreprise 0896.755.397", "RPM Bruxelles",
                    f"Contrat {contract_id}", "Acme SA", "TVA BE0403170701", "Lotte Peeters",
                    "Two concerts", "Jours de travail (2)", "1 000,00 €", "50,00 €",
                    "dans les 30 jours", "Signé par le client", "par Anne Lambert",
                    "192.0.2.7", "Firefox/140", terms["terms_sha256"]):
        assert mention in text, mention
    assert member_id not in text, "the performer is named, not numbered"


async def test_the_link_stops_serving_the_signed_copy_thirty_days_after_the_signature(
        platform: Platform) -> None:
    member_id = await platform.active_member()
    headers = platform.member_token(member_id)
    async with platform.http() as http:
        created = await http.post("/v1/contracts", json=new_contract(
            None, platform.today + timedelta(days=40)), headers=headers)
        contract_id = created.json()["contract_id"]
        path = (await http.post(f"/v1/contracts/{contract_id}/submit",
                                headers=headers)).json()["signing_path"]
        assert (await http.post(path)).status_code == 200
        assert (await http.get(f"{path}/document")).status_code == 200
        await platform.advance(timedelta(days=31))
        try:
            gone = await http.get(f"{path}/document")
        finally:
            await platform.advance(timedelta(days=-31))
        still = await http.get(f"/v1/contracts/{contract_id}/document", headers=headers)
    assert gone.status_code == 410 and gone.json()["type"].endswith("signed-copy-expired")
    assert still.status_code == 200, "the member keeps their copy"
