from datetime import date
from pathlib import Path

import pytest
from members.domain import RuleBroken, validate_iban, validate_national_id

README = (Path(__file__).parents[2] / "README.md").read_text()
BELGIAN = {"90051412324": date(1990, 5, 14), "85123104620": date(1985, 12, 31),
           "75010100196": date(1975, 1, 1), "01061521806": date(2001, 6, 15)}
FRENCH = {"190057505612337": date(1990, 5, 14), "285126912304529": date(1985, 12, 1),
          "202022A00432144": date(2002, 2, 28)}
IBANS = ["BE71096123456769", "BE62510007547061", "FR7630004000031234567890143",
         "FR7610107001011234567890129", "NL91ABNA0417164300", "DE89370400440532013000"]


def test_the_demo_national_numbers_in_the_readme_are_valid():
    for number, born in BELGIAN.items():
        assert f"`{number}`" in README and validate_national_id("BE", number, born) == number
    for number, born in FRENCH.items():
        assert f"`{number}`" in README and validate_national_id("FR", number, born) == number


def test_the_demo_ibans_in_the_readme_are_valid_sepa_ibans():
    for iban in IBANS:
        assert iban in README and validate_iban(iban) == iban


@pytest.mark.parametrize("iban", ["BE71096123456760", "TR330006100519786457841326"])
def test_the_readme_counter_examples_are_refused(iban: str):
    with pytest.raises(RuleBroken):
        validate_iban(iban)
