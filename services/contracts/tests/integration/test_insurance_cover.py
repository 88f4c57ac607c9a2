"""The insurance cover of every signed contract through the running service, against the genuine
Kafka and MongoDB: recorded at the signature, shown by the API and ``ContractSigned``, ended by
a cancellation, and certified by a PDF for the member and for the client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from smart_shared.events import ContractCancelled, ContractSigned

from tests.documents.reading import pdf_text

from .test_contract_lifecycle import (
    Platform,
    new_contract,
    platform,
    signed_contract,
)

pytestmark = pytest.mark.integration
__all__ = ["platform"]
PROBLEM = "application/problem+json"


async def test_a_signed_contract_is_covered_for_its_work_days_in_the_api_and_contract_signed(
        platform: Platform) -> None:
    member_id = await platform.active_member()
    first_day = platform.today + timedelta(days=12)
    async with platform.http() as http:
        contract_id = await signed_contract(platform, http, member_id, first_day, days=3)
        shown = (await http.get(f"/v1/contracts/{contract_id}",
                                headers=platform.member_token(member_id))).json()
    cover = shown["insurance"]
    assert cover["covered_from"] == first_day.isoformat()
    assert cover["covered_until"] == (first_day + timedelta(days=2)).isoformat()
    assert cover["ended_on"] is None
    assert cover["obligation"] == "Law of 10 April 1971 on work accidents"
    assert [p["kind"] for p in cover["policies"]] == [
        "work_accident", "civil_liability", "accident_in_life"]
    liability = cover["policies"][1]
    assert liability["limit_per_claim"] == {"amount": "2500000.00", "currency": "EUR"}
    assert liability["policy_number"] == "BE-CL-PLACEHOLDER" and liability["placeholder"]
    [signed] = await platform.published(contract_id, ContractSigned)
    assert isinstance(signed, ContractSigned) and signed.insurance is not None
    assert signed.insurance.model_dump(mode="json") == cover


async def test_cancelling_ends_the_cover_on_the_contract_in_contract_cancelled_and_certificate(
        platform: Platform) -> None:
    member_id = await platform.active_member()
    headers = platform.member_token(member_id)
    async with platform.http() as http:
        contract_id = await signed_contract(platform, http, member_id,
                                            platform.today + timedelta(days=9))
        cancelled = await http.post(f"/v1/contracts/{contract_id}/cancel",
                                    json={"reason": "the festival was called off"},
                                    headers=headers)
        assert cancelled.status_code == 200, cancelled.text
        certificate = await http.get(f"/v1/contracts/{contract_id}/insurance-certificate",
                                     headers=headers)
    assert cancelled.json()["insurance"]["ended_on"] == platform.today.isoformat()
    stored = await platform.db["contracts"].find_one({"_id": contract_id})
    assert stored["insurance"]["ended_on"] == platform.today.isoformat()
    [event] = await platform.published(contract_id, ContractCancelled)
    assert isinstance(event, ContractCancelled)
    assert event.insurance_ended_on == platform.today
    assert certificate.status_code == 200, certificate.text
    text = pdf_text(certificate.content)  # the member chose no language: the branch's, French
    assert "La couverture a pris fin le" in text and "le contrat a été annulé" in text
    assert "Aucun jour de travail n'a été couvert." in text


async def test_there_is_no_certificate_before_smart_validated_the_signature(
        platform: Platform) -> None:
    member_id = await platform.active_member()
    headers = platform.member_token(member_id)
    async with platform.http() as http:
        created = await http.post("/v1/contracts", json=new_contract(
            None, platform.today + timedelta(days=8)), headers=headers)
        contract_id = created.json()["contract_id"]
        as_draft = await http.get(f"/v1/contracts/{contract_id}/insurance-certificate",
                                  headers=headers)
        path = (await http.post(f"/v1/contracts/{contract_id}/submit",
                                headers=headers)).json()["signing_path"]
        by_link_unsigned = await http.get(f"{path}/insurance-certificate")
        await platform.suspend(member_id)  # SMart refuses to validate for a suspended member
        assert (await http.post(path)).json()["status"] == "signed_by_client"
        client_signed_only = await http.get(
            f"/v1/contracts/{contract_id}/insurance-certificate", headers=headers)
        by_link = await http.get(f"{path}/insurance-certificate")
        shown = (await http.get(f"/v1/contracts/{contract_id}", headers=headers)).json()
    for answer in (as_draft, by_link_unsigned, client_signed_only, by_link):
        assert answer.status_code == 409, answer.text
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["status"] == 409 and answer.json()["title"]
    assert "covered" in client_signed_only.json()["title"]
    assert shown["insurance"] is None


async def test_only_the_member_their_branch_staff_and_the_signing_link_get_the_certificate(
        platform: Platform) -> None:
    member_id = await platform.active_member()
    async with platform.http() as http:
        contract_id = await signed_contract(platform, http, member_id,
                                            platform.today + timedelta(days=15))
        route = f"/v1/contracts/{contract_id}/insurance-certificate"
        other_member = await http.get(route, headers=platform.member_token("someone-else"))
        other_branch = await http.get(route, headers=platform.staff_token("FR"))
        anonymous = await http.get(route)
        staff = await http.get(route, headers=platform.staff_token())
        unknown = await http.get("/v1/contracts/unknown-contract/insurance-certificate",
                                 headers=platform.member_token(member_id))
        unknown_link = await http.get("/v1/contracts/sign/" + "x" * 43
                                      + "/insurance-certificate")
        bad_link = await http.get("/v1/contracts/sign/short/insurance-certificate")
    for answer in (other_member, other_branch, unknown, unknown_link):
        assert answer.status_code == 404, answer.text
        assert answer.headers["content-type"] == PROBLEM
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == PROBLEM
    assert bad_link.status_code == 400 and bad_link.json()["errors"][0]["field"] == "token"
    assert staff.status_code == 200 and staff.headers["content-type"] == "application/pdf"


async def test_the_certificate_is_in_the_members_language_for_them_and_the_clients_for_it(
        platform: Platform) -> None:
    member_id = await platform.member_named("Lotte Peeters", "nl")
    headers = platform.member_token(member_id)
    first_day = platform.today + timedelta(days=20)
    async with platform.http() as http:
        created = await http.post("/v1/contracts", json=new_contract(None, first_day),
                                  headers=headers)
        contract_id = created.json()["contract_id"]
        path = (await http.post(f"/v1/contracts/{contract_id}/submit",
                                headers=headers)).json()["signing_path"]
        assert (await http.post(path)).status_code == 200
        for_member = await http.get(f"/v1/contracts/{contract_id}/insurance-certificate",
                                    headers=headers)
        for_client = await http.get(f"{path}/insurance-certificate")
    assert for_member.status_code == for_client.status_code == 200
    assert for_member.headers["content-type"] == "application/pdf"
    member_text, client_text = pdf_text(for_member.content), pdf_text(for_client.content)
    for mention in ("Attest van verzekeringsdekking", f"Overeenkomst {contract_id}",
                    "Lotte Peeters", "Acme SA", "arbeidsongevallenwet van 10 april 1971",
                    "Arbeidsongevallenverzekering", "Polisnummer: BE-WA-PLACEHOLDER",
                    "Verzekering burgerlijke aansprakelijkheid", "2.500.000,00",
                    "Ongevallenverzekering van het leven van het lid", "Voorbeeldwaarden"):
        assert mention in member_text, mention
    for mention in ("Attestation de couverture d'assurance", "Lotte Peeters",
                    "loi du 10 avril 1971 sur les accidents du travail",
                    "Assurance accidents du travail", "Numéro de police : BE-CL-PLACEHOLDER",
                    "Plafond par sinistre : 2 500 000,00", "Indemnisation : celle que fixe la loi",
                    "dès son premier contrat", "Valeurs d'exemple"):
        assert mention in client_text, mention
    assert "a pris fin" not in client_text, "a signed contract's cover has not ended"
    assert member_id not in member_text, "the member is named, not numbered"
