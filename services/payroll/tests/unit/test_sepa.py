"""What a SEPA transfer can carry: names transliterated or refused, IBANs, amounts."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from payroll.domain import NotSepaSafe, salary_rules, sepa_amount, sepa_iban, sepa_name
from payroll.domain.sepa import MAX_NAME_LENGTH, SEPA_CHARACTERS
from payroll.payment_file import Transfer, credit_transfer_file
from smart_shared.settings import DebtorAccount

PAYER = salary_rules("BE", date(2026, 4, 1)).payroll.payer
DEBTOR = DebtorAccount(iban="BE68539007547034", bic="GKCCBEBB")


@pytest.mark.parametrize(("holder", "in_the_file"), [
    ("Zoë Dupont", "Zoe Dupont"),
    ("Anna Lefèvre-Núñez", "Anna Lefevre-Nunez"),
    ("Jürgen Straße", "Jurgen Strasse"),
    ("Øystein Ærø", "Oystein AEro"),
    ("Łukasz Żółć", "Lukasz Zolc"),
    ("Llorenç Ŀlull", "Llorenc Llull"),
    ("Seán O\u2019Brien", "Sean O'Brien"),
    ("Dupont & Fils", "Dupont + Fils"),
    ("Marie\u00a0Curie \u2013 Skłodowska", "Marie Curie - Sklodowska"),
    ("  Anna   Lefèvre ", "Anna Lefevre"),
])
def test_a_name_only_a_transliteration_away_is_paid_under_its_sepa_spelling(
    holder: str, in_the_file: str,
) -> None:
    assert sepa_name(holder) == in_the_file


@pytest.mark.parametrize("holder", [
    "Zoë\x00 Dupont", "Zoë Dupont\u202e", "Zoë\u2066Dupont\u2069", "Zoë\nDupont", "Zo\u200bë",
    "Zoë\u2028Dupont",
])
def test_control_and_bidirectional_characters_are_refused_not_cleaned(holder: str) -> None:
    with pytest.raises(NotSepaSafe) as refused:
        sepa_name(holder)

    assert refused.value.code == "holder_name"
    assert "control or formatting characters (U+" in refused.value.reason


def test_letters_of_another_script_are_refused_rather_than_guessed() -> None:
    with pytest.raises(NotSepaSafe) as refused:
        sepa_name("Иван Петров")

    assert "CYRILLIC CAPITAL LETTER I" in refused.value.reason
    assert "Latin letters" in refused.value.reason


def test_a_name_too_long_once_transliterated_is_refused_not_truncated() -> None:
    assert sepa_name("a" * MAX_NAME_LENGTH) == "a" * MAX_NAME_LENGTH
    with pytest.raises(NotSepaSafe, match="72 characters"):
        sepa_name("ß" * 36)


@pytest.mark.parametrize("holder", [None, "", "   ", "\u0301"])
def test_an_account_without_a_holder_name_is_refused(holder: str | None) -> None:
    with pytest.raises(NotSepaSafe, match="no holder name"):
        sepa_name(holder)


@pytest.mark.parametrize(("iban", "why"), [
    ("BE71096123456768", "not valid"),
    ("BR1500000000000010932840814P2", "outside the SEPA zone"),
    ("", "not valid"),
    (None, "not valid"),
    ("BE\u0667\u0661096123456769", "not valid"),
])
def test_an_invalid_or_non_sepa_iban_is_refused(iban: str | None, why: str) -> None:
    with pytest.raises(NotSepaSafe, match=why) as refused:
        sepa_iban(iban)

    assert refused.value.code == "iban"


def test_a_valid_sepa_iban_is_given_compact() -> None:
    assert sepa_iban("be71 0961 2345 6769") == "BE71096123456769"


@pytest.mark.parametrize("amount", ["0.00", "-1.00", "1000000000.00", "10.001"])
def test_an_amount_one_transfer_cannot_carry_is_refused(amount: str) -> None:
    with pytest.raises(NotSepaSafe) as refused:
        sepa_amount(Decimal(amount))

    assert refused.value.code == "amount"


@given(st.text(max_size=90))
def test_any_name_is_either_refused_or_made_of_the_sepa_character_set(holder: str) -> None:
    try:
        safe = sepa_name(holder)
    except NotSepaSafe:
        return
    assert set(safe) <= SEPA_CHARACTERS
    assert 1 <= len(safe) <= MAX_NAME_LENGTH
    assert safe == safe.strip()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=4))
def test_a_file_of_the_names_accepted_always_validates_against_the_pain_001_schema(
    holders: list[str],
) -> None:
    accepted = []
    for holder in holders:
        try:
            accepted.append(sepa_name(holder))
        except NotSepaSafe:
            continue
    transfers = [Transfer(f"E2E{index}", name, "BE71096123456769", Decimal("10.00"), "salary")
                 for index, name in enumerate(accepted or ["Zoe Dupont"])]

    assert b"<NbOfTxs>" in credit_transfer_file(PAYER, DEBTOR, date(2026, 4, 1), transfers)
