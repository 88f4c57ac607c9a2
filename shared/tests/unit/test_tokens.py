"""RS256 tokens: verified against published keys only, across a key roll-over, and from a
branch's own OpenID Connect provider by configuration alone."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from jwt.algorithms import RSAAlgorithm
from smart_shared import keys as keys_module
from smart_shared.auth import authenticate, mint_token
from smart_shared.keys import KeySet, SigningKeys, TokenKeys, create_key_file, public_jwk
from smart_shared.problems import Problem
from smart_shared.settings import Settings


def settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(SMART_HOME=str(tmp_path), **values)  # type: ignore[call-arg]


def claims(**extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"iss": "smart-members", "sub": "m-1", "role": "member", "branch": "BE",
            "member_id": "m-1", "iat": now, "exp": now + timedelta(hours=1), **extra}


def keys_of(signing: SigningKeys) -> TokenKeys:
    return TokenKeys(signing.key_set())


def key_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.pem"
    create_key_file(path)
    return path


async def test_a_token_signed_by_a_rotated_out_key_is_refused(tmp_path: Path) -> None:
    old, new = key_file(tmp_path, "old"), key_file(tmp_path, "new")
    before = SigningKeys.from_settings(settings(tmp_path, SMART_JWT_SIGNING_KEY_FILE=str(old)))
    token = before.sign(claims())
    rolling = SigningKeys.from_settings(settings(
        tmp_path, SMART_JWT_SIGNING_KEY_FILE=str(new), SMART_JWT_PREVIOUS_KEY_FILES=str(old)))
    after = SigningKeys.from_settings(settings(tmp_path, SMART_JWT_SIGNING_KEY_FILE=str(new)))
    production = settings(tmp_path, SMART_ENV="production")

    assert (await authenticate(production, token, keys_of(rolling))).member_id == "m-1"
    assert len(rolling.jwks()["keys"]) == 2
    with pytest.raises(Problem) as refused:
        await authenticate(production, token, keys_of(after))
    assert refused.value.status == 401 and "no longer" in str(refused.value.detail)


async def test_a_token_with_another_issuer_or_forged_signature_is_refused(tmp_path: Path) -> None:
    signing = SigningKeys.from_settings(settings(tmp_path))
    production = settings(tmp_path, SMART_ENV="production")
    signed = signing.sign(claims()).split(".")
    odd_header = base64.urlsafe_b64encode(b'{"alg":"RS256","kid":["k"]}').decode().rstrip("=")
    odd_kid = ".".join([odd_header, *signed[1:]])
    for token in (signing.sign(claims(iss="someone-else")), odd_kid,
                  jwt.encode(claims(), "x" * 32, algorithm="HS256"),
                  jwt.encode(claims(), None, algorithm="none")):  # type: ignore[arg-type]
        with pytest.raises(Problem) as refused:
            await authenticate(production, token, keys_of(signing))
        assert refused.value.status == 401


async def test_hs256_tokens_exist_only_in_local_mode(tmp_path: Path) -> None:
    local = settings(tmp_path)
    token = mint_token(local, "staff", "BE")
    assert (await authenticate(local, token, TokenKeys(KeySet(None)))).role == "staff"
    production = settings(tmp_path, SMART_ENV="production")
    with pytest.raises(Problem):
        await authenticate(production, token, TokenKeys(KeySet(None)))
    with pytest.raises(ValueError):
        mint_token(production, "staff", "BE")


async def test_a_token_from_a_configured_openid_connect_provider_is_accepted(
    tmp_path: Path,
) -> None:
    provider = SigningKeys.from_settings(settings(
        tmp_path, SMART_JWT_SIGNING_KEY_FILE=str(key_file(tmp_path, "idp"))))
    branch = settings(tmp_path, SMART_ENV="production", SMART_OIDC_ISSUER="https://id.smart.fr",
                      SMART_OIDC_AUDIENCE="smart-platform", SMART_OIDC_ROLE_CLAIM="smart_role",
                      SMART_OIDC_BRANCH_CLAIM="smart_branch")
    jwk = public_jwk(provider.private_key.public_key())
    keys = TokenKeys(KeySet(None), KeySet(None, {jwk["kid"]: RSAAlgorithm.from_jwk(jwk)}))
    external = provider.sign({**claims(iss="https://id.smart.fr", aud="smart-platform"),
                              "role": None, "branch": None,
                              "smart_role": "staff", "smart_branch": "FR"})
    principal = await authenticate(branch, external, keys)
    assert (principal.role, principal.branch) == ("staff", "FR")

    wrong_audience = provider.sign({**claims(iss="https://id.smart.fr", aud="another-app"),
                                    "smart_role": "staff", "smart_branch": "FR"})
    with pytest.raises(Problem):
        await authenticate(branch, wrong_audience, keys)


def production_keys(tmp_path: Path) -> tuple[SigningKeys, Settings, TokenKeys]:
    """A signing key, production settings and the token keys that verify what it signs."""
    signing = SigningKeys.from_settings(settings(tmp_path))
    return signing, settings(tmp_path, SMART_ENV="production"), keys_of(signing)


async def test_a_verified_token_is_not_verified_again_within_the_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    signing, production, keys = production_keys(tmp_path)
    token = signing.sign(claims())
    decoded = []
    decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: decoded.append(1) or decode(*a, **k))

    for _ in range(3):
        assert (await authenticate(production, token, keys)).member_id == "m-1"
    assert len(decoded) == 2  # the unverified read and the signature, once

    monkeypatch.setattr(keys_module, "VERIFIED_SECONDS", 0.0)
    other = signing.sign(claims(sub="m-2", member_id="m-2"))
    await authenticate(production, other, keys)
    await authenticate(production, other, keys)
    assert len(decoded) == 6


async def test_a_remembered_token_stops_counting_at_its_expiry_or_a_new_key_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    signing, production, keys = production_keys(tmp_path)
    expiring = signing.sign(claims(exp=datetime.now(UTC) + timedelta(seconds=30)))
    principal = await authenticate(production, expiring, keys)
    assert keys.verified(expiring) == principal
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 31)
    assert keys.verified(expiring) is None  # past its exp: verified anew (and refused) by PyJWT
    monkeypatch.undo()

    token = signing.sign(claims())
    await authenticate(production, token, keys)
    # the JWKS is read again and the key is gone (rotated out): the token is refused at once
    keys.platform.keys = {}
    keys.platform._fetched_at = 1.0
    with pytest.raises(Problem) as refused:
        await authenticate(production, token, keys)
    assert "no longer" in str(refused.value.detail)
