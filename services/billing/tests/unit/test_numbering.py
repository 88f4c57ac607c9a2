import pytest
from billing.domain.numbering import counter_id, credit_note_number, invoice_number, number_for


def test_invoice_numbers_are_branch_year_and_six_digits() -> None:
    assert invoice_number("BE", 2026, 1) == "BE-2026-000001"
    assert invoice_number("FR", 2027, 123456) == "FR-2027-123456"


def test_credit_note_numbers_have_their_own_series() -> None:
    assert credit_note_number("BE", 2026, 3) == "BE-CN-2026-000003"
    assert counter_id("credit_note", "BE", 2026) != counter_id("invoice", "BE", 2026)


def test_sequences_start_at_one() -> None:
    with pytest.raises(ValueError):
        number_for("invoice", "BE", 2026, 0)


def test_vat_corrections_of_lost_debts_have_a_series_of_their_own() -> None:
    assert number_for("vat_correction", "BE", 2026, 7) == "BE-VC-2026-000007"
    assert counter_id("vat_correction", "BE", 2026) != counter_id("credit_note", "BE", 2026)
