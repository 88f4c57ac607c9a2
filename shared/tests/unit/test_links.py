"""Capability links open what they were made for, and nothing else."""

from __future__ import annotations

from smart_shared.links import capability_ident, capability_token

SECRET = "a-secret-of-sixteen-chars"


def test_a_token_opens_the_invoice_it_was_made_for() -> None:
    token = capability_token("invoice", "inv-42", SECRET)
    assert capability_ident("invoice", token, SECRET) == "inv-42"


def test_a_token_opens_nothing_with_another_secret_kind_or_id() -> None:
    token = capability_token("invoice", "inv-42", SECRET)
    assert capability_ident("invoice", token, "another-secret-entirely") is None
    assert capability_ident("payslip", token, SECRET) is None
    assert capability_ident("invoice", token.replace("inv-42", "inv-43"), SECRET) is None
    assert capability_ident("invoice", "inv-42", SECRET) is None
    assert capability_ident("invoice", "x" * 300, SECRET) is None


def test_a_token_is_long_enough_not_to_be_guessed() -> None:
    mac = capability_token("invoice", "inv-42", SECRET).split(".", 1)[1]
    assert len(mac) == 43  # 256 bits
