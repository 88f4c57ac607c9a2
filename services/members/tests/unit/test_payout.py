from datetime import date

import pytest
from members.domain import RuleBroken, validate_iban
from pydantic import BaseModel, ConfigDict
from smart_shared.rulepacks import Sourced, cooperative_accounts, rule_pack


class _Account(BaseModel):
    model_config = ConfigDict(extra="ignore")

    iban: Sourced[str]


class PayrollPayer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    payer: _Account


class BillingSeller(BaseModel):
    model_config = ConfigDict(extra="ignore")

    seller: _Account


@pytest.mark.parametrize(("iban", "compact"), [
    ("BE71 0961 2345 6769", "BE71096123456769"),
    ("BE62 5100 0754 7061", "BE62510007547061"),
    ("FR76 3000 4000 0312 3456 7890 143", "FR7630004000031234567890143"),
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


@pytest.mark.parametrize("account", sorted(cooperative_accounts()))
def test_a_payout_iban_that_is_one_of_the_cooperatives_own_accounts_is_refused(account: str):
    spaced = " ".join(account[i:i + 4] for i in range(0, len(account), 4)).lower()
    with pytest.raises(RuleBroken) as refused:
        validate_iban(spaced)
    field, message = refused.value.errors[0]
    assert field == "iban"
    assert "SMart's own accounts" in message


def test_the_cooperatives_accounts_are_read_from_the_payroll_and_billing_packs():
    accounts = cooperative_accounts()
    for branch in ("BE", "FR"):
        pack = rule_pack(branch, date(2026, 6, 1))
        assert pack.section("payroll", PayrollPayer).payer.iban.value in accounts
        assert pack.section("billing", BillingSeller).seller.iban.value in accounts
