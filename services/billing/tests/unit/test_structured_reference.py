import pytest
from billing.domain.structured_reference import (
    InvalidStructuredReference,
    find_reference,
    normalise_reference,
    reference_for_invoice,
    structured_reference,
)
from hypothesis import given
from hypothesis import strategies as st


def test_the_febelfin_example_has_check_digits_02() -> None:
    assert structured_reference(1234567890) == "+++123/4567/89002+++"


def test_a_base_divisible_by_97_gets_check_digits_97() -> None:
    assert structured_reference(97 * 1000).endswith("97+++")
    assert structured_reference(0) == "+++000/0000/00097+++"


def test_an_invoice_reference_carries_its_year_and_sequence() -> None:
    assert reference_for_invoice(2026, 42).startswith("+++202/6000/042")


@given(st.integers(min_value=0, max_value=10**10 - 1))
def test_every_reference_checks_out_mod_97(base: int) -> None:
    reference = structured_reference(base)
    digits = "".join(c for c in reference if c.isdigit())
    assert len(digits) == 12
    check = int(digits[10:])
    assert 1 <= check <= 97
    assert int(digits[:10]) % 97 == check % 97
    assert normalise_reference(reference) == reference


@given(st.integers(min_value=0, max_value=10**10 - 1), st.integers(0, 11), st.integers(1, 9))
def test_a_mistyped_digit_is_refused(base: int, position: int, shift: int) -> None:
    digits = [c for c in structured_reference(base) if c.isdigit()]
    digits[position] = str((int(digits[position]) + shift) % 10)
    with pytest.raises(InvalidStructuredReference):
        normalise_reference("".join(digits))


def test_usual_spellings_are_understood() -> None:
    assert normalise_reference("***123/4567/89002***") == "+++123/4567/89002+++"
    assert normalise_reference(" 123 4567 89002 ") == "+++123/4567/89002+++"


def test_a_reference_is_found_inside_free_text() -> None:
    assert find_reference("Payment +++123/4567/89002+++ thanks") == "+++123/4567/89002+++"
    assert find_reference("invoice 1234567890 03") is None
    assert find_reference(None) is None
