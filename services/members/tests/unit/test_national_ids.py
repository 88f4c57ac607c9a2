from datetime import date

import pytest
from members.domain import RuleBroken, national_id_key, validate_national_id


@pytest.mark.parametrize(("number", "born"), [
    ("90051412324", date(1990, 5, 14)),
    ("90.05.14-123.24", date(1990, 5, 14)),
    ("85123104620", date(1985, 12, 31)),
    ("01061521806", date(2001, 6, 15)),
])
def test_a_valid_belgian_national_number_is_accepted_in_compact_form(number: str, born: date):
    assert validate_national_id("BE", number, born) == number.replace(".", "").replace("-", "")


@pytest.mark.parametrize(("number", "reason"), [
    ("90051412325", "check digits"),
    ("9005141232", "digits"),
    ("9005141232A", "well-formed"),
    ("", "well-formed"),
])
def test_a_malformed_belgian_national_number_is_refused(number: str, reason: str):
    with pytest.raises(RuleBroken) as refused:
        validate_national_id("BE", number, date(1990, 5, 14))
    assert refused.value.errors[0][0] == "national_id"
    assert reason in refused.value.errors[0][1]


@pytest.mark.parametrize(("number", "born"), [
    ("85471400144", date(1985, 7, 14)),  # gender known: month + 40
    ("85271400101", date(1985, 7, 14)),  # gender unknown: month + 20
    ("85400000127", date(1985, 3, 2)),  # birth date unknown but the year
])
def test_a_belgian_bis_number_is_accepted_for_a_person_outside_the_national_register(
        number: str, born: date):
    assert validate_national_id("BE", number, born) == number


def test_a_bis_number_of_another_birth_date_or_with_wrong_check_digits_is_refused():
    with pytest.raises(RuleBroken, match="another birth date"):
        validate_national_id("BE", "85471400144", date(1985, 7, 15))
    with pytest.raises(RuleBroken, match="check digits of this Belgian BIS number"):
        validate_national_id("BE", "85471400145", date(1985, 7, 14))


@pytest.mark.parametrize("born", [date(1990, 5, 15), date(1990, 6, 14), date(1991, 5, 14)])
def test_a_belgian_national_number_of_another_birth_date_is_refused(born: date):
    with pytest.raises(RuleBroken, match="another birth date"):
        validate_national_id("BE", "90051412324", born)


@pytest.mark.parametrize(("number", "born"), [
    ("190057505612337", date(1990, 5, 14)),
    ("1 90 05 75 056 123 37", date(1990, 5, 1)),
    ("285126912304529", date(1985, 12, 31)),
    ("202022A00432144", date(2002, 2, 10)),
])
def test_a_valid_french_nir_is_accepted(number: str, born: date):
    assert validate_national_id("FR", number, born) == number.replace(" ", "")


@pytest.mark.parametrize("number", [
    "190057505612338",      # check digits
    "19005750561233",       # too short
    "190052C05612337",      # department
    "590057505612398",      # gender digit
])
def test_a_malformed_french_nir_is_refused(number: str):
    with pytest.raises(RuleBroken) as refused:
        validate_national_id("FR", number, date(1990, 5, 14))
    assert refused.value.errors[0][0] == "national_id"


def test_a_french_nir_of_another_birth_year_or_month_is_refused():
    for born in (date(1991, 5, 14), date(1990, 6, 14)):
        with pytest.raises(RuleBroken, match="another birth date"):
            validate_national_id("FR", "190057505612337", born)


def test_a_belgian_number_is_not_a_french_one():
    with pytest.raises(RuleBroken):
        validate_national_id("FR", "90051412324", date(1990, 5, 14))


def test_a_branch_without_a_scheme_is_refused_on_the_branch_field():
    with pytest.raises(RuleBroken) as refused:
        validate_national_id("NL", "90051412324", date(1990, 5, 14))
    assert refused.value.errors[0][0] == "branch"


def test_the_uniqueness_key_depends_on_branch_and_number_and_hides_the_number():
    key = national_id_key("BE", "90051412324")
    assert key == national_id_key("BE", "90051412324")
    assert key != national_id_key("FR", "90051412324")
    assert "90051412324" not in key
