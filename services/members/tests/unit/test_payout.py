import pytest
from members.domain import RuleBroken, validate_iban


@pytest.mark.parametrize(("iban", "compact"), [
    ("BE71 0961 2345 6769", "BE71096123456769"),
    ("BE68539007547034", "BE68539007547034"),
    ("FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606"),
    ("NL91ABNA0417164300", "NL91ABNA0417164300"),
    ("CH9300762011623852957", "CH9300762011623852957"),
])
def test_a_valid_sepa_iban_is_accepted_in_compact_form(iban: str, compact: str):
    assert validate_iban(iban) == compact


@pytest.mark.parametrize(("iban", "reason"), [
    ("BE71096123456760", "check digits"),
    ("US64SVBKUS6S3300958879", "country"),
    ("BE7109612345", "not a valid IBAN"),
    ("TR330006100519786457841326", "outside SEPA"),
])
def test_an_invalid_or_non_sepa_iban_is_refused_naming_the_field(iban: str, reason: str):
    with pytest.raises(RuleBroken) as refused:
        validate_iban(iban)
    field, message = refused.value.errors[0]
    assert field == "iban"
    assert reason in message
