"""The client's signing link: unguessable, stored as a hash, single use, expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from contracts.domain import SigningRefused, issue_signing_link
from contracts.domain.signing import check_signing_link, hash_token

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_link_keeps_only_the_hash_of_its_token() -> None:
    link = issue_signing_link(NOW, 14)
    assert link.token not in link.token_hash
    assert link.token_hash == hash_token(link.token)
    assert len(link.token) >= 40
    assert issue_signing_link(NOW, 14).token != link.token


def test_a_link_expires_after_the_valid_days() -> None:
    link = issue_signing_link(NOW, 14)
    assert link.expires_at == NOW + timedelta(days=14)
    check_signing_link(link.token_hash, link.token, link.expires_at, None,
                       NOW + timedelta(days=14) - timedelta(seconds=1))
    with pytest.raises(SigningRefused) as refused:
        check_signing_link(link.token_hash, link.token, link.expires_at, None,
                           NOW + timedelta(days=14))
    assert refused.value.reason == "expired"


def test_a_wrong_token_is_refused() -> None:
    link = issue_signing_link(NOW, 14)
    with pytest.raises(SigningRefused) as refused:
        check_signing_link(link.token_hash, link.token + "x", link.expires_at, None, NOW)
    assert refused.value.reason == "unknown"


def test_a_used_token_is_refused() -> None:
    link = issue_signing_link(NOW, 14)
    with pytest.raises(SigningRefused) as refused:
        check_signing_link(link.token_hash, link.token, link.expires_at, NOW, NOW)
    assert refused.value.reason == "used"

