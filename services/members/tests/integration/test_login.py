"""Login with a one-time link sent by e-mail (read back from a genuine Mailpit), sessions, staff
identities, and tokens verified against the keys members publishes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from members_samples import applicant
from smart_shared.auth import authenticate
from smart_shared.clock import SharedClock
from smart_shared.events import MemberActivated
from smart_shared.keys import TokenKeys
from smart_shared.mongo import connect
from smart_shared.problems import Problem
from smart_testing import Mailpit, isolated_settings, unique_name

from conftest import Running, running

pytestmark = pytest.mark.integration

LINK = re.compile(r"http://portal\.test/login/([A-Za-z0-9_-]{43,})")


@pytest.fixture(scope="module")
async def members(infrastructure: Any, mailpit: Mailpit,
                  tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    settings = isolated_settings("members", SMART_BRANCHES="BE,FR",
                                 SMART_PORTAL_URL="http://portal.test",
                                 SMART_HOME=str(tmp_path_factory.mktemp("members")),
                                 **mailpit.settings())
    async with running(settings) as service:
        yield service


async def register(members: Running, **overrides: Any) -> dict[str, Any]:
    email = f"{unique_name('anna')}@example.be"
    async with members.http() as http:
        answer = await http.post("/v1/members", json=applicant(email=email, **overrides))
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def ask_link(members: Running, email: str, branch: str = "BE",
                   **extra: Any) -> httpx.Response:
    async with members.http() as http:
        return await http.post("/v1/login-links", json={"email": email, "branch": branch,
                                                        **extra})


async def mailed_token(mailpit: Mailpit, email: str, count: int = 1) -> tuple[str, dict[str, Any]]:
    summaries = await mailpit.wait_for(email, count=count)
    message = await mailpit.message(summaries[0]["ID"])  # newest first
    match = LINK.search(message["Text"])
    assert match, message["Text"]
    return match[1], message


async def open_session(members: Running, token: str) -> httpx.Response:
    async with members.http() as http:
        return await http.post("/v1/sessions", json={"token": token})


async def test_a_member_logs_in_once_with_the_link_mailed_in_their_language(
    members: Running, mailpit: Mailpit,
) -> None:
    member = await register(members, language="nl")
    assert (await ask_link(members, member["email"].upper())).json() == {"status": "sent"}
    token, message = await mailed_token(mailpit, member["email"])
    assert message["Subject"] == "Uw aanmeldlink voor SMart"

    opened = await open_session(members, token)
    assert opened.status_code == 201, opened.text
    session = opened.json()
    assert session["token_type"] == "Bearer"
    assert session["principal"] == {"sub": member["member_id"], "role": "member",
                                    "branch": "BE", "member_id": member["member_id"]}
    async with members.http() as http:
        own = {"Authorization": f"Bearer {session['access_token']}"}
        assert (await http.get(f"/v1/members/{member['member_id']}", headers=own)).status_code \
            == 200

    again = await open_session(members, token)
    assert again.status_code == 410 and again.headers["content-type"].startswith(
        "application/problem+json")
    assert (await open_session(members, "x" * 43)).status_code == 404


async def test_asking_for_a_link_answers_the_same_for_an_unknown_address(
    members: Running, mailpit: Mailpit,
) -> None:
    member = await register(members)
    known = await ask_link(members, member["email"])
    unknown_address = f"{unique_name('nobody')}@example.be"
    unknown = await ask_link(members, unknown_address)
    other_branch = await ask_link(members, member["email"], branch="FR")
    assert known.status_code == unknown.status_code == other_branch.status_code == 202
    assert known.json() == unknown.json() == other_branch.json()
    await mailpit.wait_for(member["email"])
    assert await mailpit.messages(unknown_address) == []
    assert len(await mailpit.messages(member["email"])) == 1  # none for the FR branch


async def test_a_link_expires_after_fifteen_minutes(members: Running, mailpit: Mailpit) -> None:
    member = await register(members)
    await ask_link(members, member["email"])
    token, _ = await mailed_token(mailpit, member["email"])
    client = connect(members.settings.mongodb_uri)
    clock = SharedClock(client, members.settings.clock_id)
    try:
        await clock.refresh()
        await clock.advance(timedelta(minutes=16))
        assert members.service.platform is not None
        await members.service.platform.clock.refresh()
        answer = await open_session(members, token)
        assert answer.status_code == 410 and "expired" in answer.json()["detail"]
    finally:
        await clock.reset()
        await members.service.platform.clock.refresh()  # type: ignore[union-attr]
        await client.close()


async def test_after_logout_the_session_token_is_refused_and_cannot_be_refreshed(
    members: Running, mailpit: Mailpit,
) -> None:
    member = await register(members)
    await ask_link(members, member["email"])
    token, _ = await mailed_token(mailpit, member["email"])
    session = (await open_session(members, token)).json()
    bearer = {"Authorization": f"Bearer {session['access_token']}"}
    async with members.http() as http:
        refreshed = await http.post("/v1/sessions/refresh", headers=bearer)
        assert refreshed.status_code == 201
        assert refreshed.json()["principal"]["member_id"] == member["member_id"]
        assert (await http.delete("/v1/sessions/current", headers=bearer)).status_code == 204
        after = await http.get(f"/v1/members/{member['member_id']}", headers=bearer)
        assert after.status_code == 401
        assert (await http.post("/v1/sessions/refresh", headers=bearer)).status_code == 401


async def test_an_admin_adds_staff_who_log_in_with_their_role_and_branch(
    members: Running, mailpit: Mailpit,
) -> None:
    email = f"{unique_name('ana')}@smart.test"
    async with members.http() as http:
        body = {"email": email, "name": "Ana Staff", "branch": "BE", "role": "staff",
                "language": "fr"}
        by_staff = await http.post("/v1/staff", json=body, headers=members.token("staff"))
        assert by_staff.status_code == 403
        other_branch = await http.post("/v1/staff", json={**body, "branch": "FR"},
                                       headers=members.token("admin"))
        assert other_branch.status_code == 403
        added = await http.post("/v1/staff", json=body, headers=members.token("admin"))
        assert added.status_code == 201, added.text
        twice = await http.post("/v1/staff", json=body, headers=members.token("admin"))
        assert twice.status_code == 409
    await ask_link(members, email)
    token, message = await mailed_token(mailpit, email)
    assert message["Subject"] == "Votre lien de connexion SMart"
    principal = (await open_session(members, token)).json()["principal"]
    assert principal == {"sub": added.json()["staff_id"], "role": "staff", "branch": "BE",
                         "member_id": None}


async def test_another_service_verifies_members_tokens_against_the_published_jwks(
    members: Running, mailpit: Mailpit,
) -> None:
    member = await register(members)
    await ask_link(members, member["email"])
    token, _ = await mailed_token(mailpit, member["email"])
    access = (await open_session(members, token)).json()["access_token"]
    elsewhere = isolated_settings("billing", SMART_ENV="production",
                                  SMART_JWKS_URL=f"{members.url}/.well-known/jwks.json")
    principal = await authenticate(elsewhere, access, TokenKeys.from_settings(elsewhere))
    assert principal.member_id == member["member_id"] and principal.role == "member"
    with pytest.raises(Problem) as refused:
        await authenticate(elsewhere, members.token("admin")["Authorization"][7:],
                           TokenKeys.from_settings(elsewhere))
    assert refused.value.status == 401 and "SMART_ENV=local" in str(refused.value.detail)


async def test_the_member_is_told_of_their_activation_once_in_the_branchs_language(
    members: Running, mailpit: Mailpit,
) -> None:
    member = await register(members)  # no language chosen: the branch's (BE: French)
    member_id = member["member_id"]
    async with members.http() as http:
        share = (await http.post(f"/v1/members/{member_id}/shares", json={"count": 1},
                                 headers=members.token("member", member_id=member_id))).json()
        url = f"/v1/members/{member_id}/shares/{share['share_id']}/payment"
        paid = await http.post(url, json={"amount": {"amount": "30.00", "currency": "EUR"}},
                               headers=members.token("staff"))
        assert paid.json()["activated"] is True
    [summary] = await mailpit.wait_for(member["email"])
    assert summary["Subject"] == "Bienvenue chez SMart : vous êtes membre"
    activated = await members.wait_for(member_id, MemberActivated)
    assert activated[0].contact.email == member["email"]
