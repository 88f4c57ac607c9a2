"""The text policy, the request guard, cursors, strict amounts and the start-up refusal."""

from __future__ import annotations

import base64
import json
import unicodedata
from decimal import Decimal
from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from smart_shared.guards import MAX_DEPTH, TokenBuckets, check_json_body
from smart_shared.http import decode_cursor, encode_cursor
from smart_shared.money import Money, to_decimal
from smart_shared.problems import Problem
from smart_shared.service import UnsafeDeployment, refuse_unsafe_start
from smart_shared.settings import DEFAULT_JWT_SECRET, Settings
from smart_shared.text import ASCII_ONLY, BIDI_CONTROLS, Email, Name, Reason, refused_character

FORBIDDEN = sorted({chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20),
                                     *range(0x7F, 0xA0), 0xFFFE, 0xFFFF, 0xFDD0]}
                   | set(BIDI_CONTROLS))
hostile_char = st.sampled_from(FORBIDDEN)
plain_text = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Cn", "Co"),
                                   blacklist_characters="".join(BIDI_CONTROLS)), max_size=40)


class Applicant(BaseModel):
    name: Name
    email: Email
    reason: Reason | None = None
    iban: Annotated[str, ASCII_ONLY] | None = None


@given(plain_text, hostile_char, plain_text)
def test_a_control_or_bidi_character_anywhere_is_refused_and_named(
    before: str, bad: str, after: str,
) -> None:
    reason = refused_character(before + bad + after)
    assert reason is not None and f"U+{ord(bad):04X}" in reason


@given(plain_text)
def test_text_without_control_characters_passes(text: str) -> None:
    assert refused_character(text) is None


def test_line_breaks_are_refused_in_a_name_and_kept_in_a_reason() -> None:
    with pytest.raises(ValidationError, match="control character"):
        Applicant(name="Ann\nLee", email="ann@example.org")
    applicant = Applicant(name="Ann", email="ann@example.org", reason="late\r\npaid")
    assert applicant.reason == "late\npaid"


def test_names_are_stored_in_nfc_and_trimmed() -> None:
    applicant = Applicant(name="  Zoe\u0301 ", email="zoe@example.org")
    assert applicant.name == "Zoé" and unicodedata.is_normalized("NFC", applicant.name)


@pytest.mark.parametrize("value", ["ann\u202e@example.org", "ann\x00@example.org",
                                   "ann@exämple.org"])
def test_an_email_with_control_bidi_or_non_ascii_characters_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        Applicant(name="Ann", email=value)


@pytest.mark.parametrize("iban", ["BE\uff16\uff18539007547034", "BE\u0666\u0668539007547034"])
def test_identifiers_take_ascii_digits_only(iban: str) -> None:
    with pytest.raises(ValidationError, match="ASCII"):
        Applicant(name="Ann", email="a@b.be", iban=iban)


# ------------------------------------------------------------------ request guard


def _refused(body: bytes) -> Problem:
    with pytest.raises(Problem) as caught:
        check_json_body(body)
    assert caught.value.status == 400
    return caught.value


def test_a_body_that_is_not_utf8_is_a_400_naming_the_body() -> None:
    problem = _refused(b'{"name": "\xff\xfe"}')
    assert problem.errors == [{"field": "body", "message": "is not valid UTF-8 (byte 10)"}]


def test_nesting_beyond_the_limit_is_a_400_and_at_the_limit_passes() -> None:
    assert check_json_body(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    problem = _refused(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert "nested" in (problem.detail or "")
    _refused(b'{"a":' * 100_000 + b"1" + b"}" * 100_000)


def test_brackets_and_escaped_quotes_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"note": "[" * 100 + '\\"{' * 50})
    assert json.loads(check_json_body(text.encode())) == json.loads(text)


def test_the_field_of_a_bad_string_is_named_keys_included() -> None:
    problem = _refused(json.dumps({"payout": {"holder": "Ann\u0000"}}).encode())
    assert problem.errors and problem.errors[0]["field"] == "body.payout.holder"
    problem = _refused(json.dumps({"x\u202e": 1}).encode())
    assert "bidirectional" in problem.errors[0]["message"]  # type: ignore[index]
    problem = _refused(json.dumps({"days": ["ok", "\ud800"]}).encode())
    assert problem.errors[0]["field"] == "body.days[1]"  # type: ignore[index]


def test_a_body_not_in_nfc_is_handed_on_in_nfc_and_an_nfc_body_unchanged() -> None:
    assert json.loads(check_json_body('{"name": "Zoe\u0301"}'.encode())) == {"name": "Zoé"}
    body = b'{"name": "Zo\xc3\xa9", "n": 1}'
    assert check_json_body(body) is body


def test_invalid_json_is_a_400() -> None:
    _refused(b'{"name": ')


# ------------------------------------------------------------------ cursors


@pytest.mark.parametrize("cursor", [
    "not base64!", "AAAA", base64.urlsafe_b64encode(b"[" * 5000).decode(),
    base64.urlsafe_b64encode(b'{"$where": "1"}').decode(),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(), "A" * 2000, "é",
    base64.urlsafe_b64encode(b"true").decode(),
])
def test_a_cursor_this_api_did_not_give_out_is_a_400_invalid_cursor(cursor: str) -> None:
    with pytest.raises(Problem) as caught:
        decode_cursor(cursor)
    assert caught.value.status == 400 and caught.value.title == "Invalid cursor"
    assert caught.value.errors == [{"field": "cursor",
                                    "message": "is not a cursor this API gave out"}]


@pytest.mark.parametrize("position", ["0192f0e1-aaaa", 42, "2026-03-01 10:00:00"])
def test_a_cursor_given_out_reads_back(position: object) -> None:
    assert decode_cursor(encode_cursor(position)) == position


# ------------------------------------------------------------------ amounts

non_ascii_digit = st.characters(whitelist_categories=("Nd",)).filter(lambda c: not c.isascii())


@given(non_ascii_digit, non_ascii_digit)
def test_amounts_written_with_non_ascii_digits_are_refused(first: str, second: str) -> None:
    assert Decimal(first + second).is_finite()  # what Python alone would accept
    with pytest.raises(ValueError, match="ASCII digits"):
        to_decimal(f"{first}{second}.00")


@pytest.mark.parametrize("amount", ["1e3", "1E+999999", "9" * 30, "0x10", "1_000.00"])
def test_exponents_long_numbers_and_other_notations_are_refused(amount: str) -> None:
    with pytest.raises(ValidationError):
        Money(amount=amount)  # type: ignore[arg-type]


# ------------------------------------------------------------------ rate limit


def test_an_address_gets_its_burst_then_waits_for_the_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_minute=6, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == pytest.approx(10.0)
    assert buckets.take("b") == 0  # another address has its own bucket
    now[0] += 10.0
    assert buckets.take("a") == 0


def test_the_buckets_forget_the_oldest_addresses_beyond_their_bound() -> None:
    buckets = TokenBuckets(per_minute=1, burst=1, max_clients=2)
    for client in ("a", "b", "c"):
        buckets.take(client)
    assert buckets.take("a") == 0  # "a" was forgotten, so it starts with a full bucket


# ------------------------------------------------------------------ start-up refusal


def test_a_production_deployment_refuses_the_published_secret_and_example_accounts() -> None:
    settings = Settings(SMART_ENV="production", SMART_SERVICE="billing", SMART_BRANCHES="BE")
    with pytest.raises(UnsafeDeployment) as caught:
        refuse_unsafe_start(settings)
    message = str(caught.value)
    assert "default secret" in message
    assert "BE-2026/billing.toml: seller.iban" in message
    assert "payroll.toml: payer.iban" not in message  # the salary account is configuration
    assert "SMART_LINK_SECRET" in message
    assert settings.jwt_secret == DEFAULT_JWT_SECRET


def test_a_local_deployment_starts_with_the_stand_ins() -> None:
    refuse_unsafe_start(Settings(SMART_ENV="local", SMART_SERVICE="billing"))


def test_a_production_deployment_with_its_own_secret_still_needs_real_accounts() -> None:
    settings = Settings(SMART_ENV="production", SMART_JWT_SECRET="x" * 40,
                        SMART_LINK_SECRET="y" * 40, SMART_BRANCHES="FR")
    reasons = settings.unsafe_for_production()
    assert len(reasons) == 1 and "FR-2026/billing.toml: seller.iban" in reasons[0]
    short = Settings(SMART_ENV="staging", SMART_JWT_SECRET="short", SMART_BRANCHES="FR")
    assert any("shorter than 32 bytes" in reason for reason in short.unsafe_for_production())
