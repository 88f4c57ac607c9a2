"""Payout details: the IBAN the salary goes to, in the SEPA zone (payroll pays by SEPA transfer)."""

from __future__ import annotations

from schwifty import IBAN
from schwifty.exceptions import InvalidChecksumDigits, InvalidCountryCode, SchwiftyException
from smart_shared.rulepacks import cooperative_accounts

from members.domain.errors import RuleBroken

FIELD = "iban"


def validate_iban(value: str, field: str = FIELD) -> str:
    """The IBAN in compact form, if valid (checksum and national structure), SEPA, and not one of
    the cooperative's own accounts (a salary paid there would never reach the member)."""
    try:
        iban = IBAN(value, validate_bban=True)
    except InvalidChecksumDigits:
        raise RuleBroken.on(field, "the check digits of this IBAN are wrong") from None
    except InvalidCountryCode:
        raise RuleBroken.on(field, "this IBAN's country code is unknown") from None
    except SchwiftyException as error:
        raise RuleBroken.on(field, f"this is not a valid IBAN ({error})") from None
    if not iban.in_sepa_zone:
        raise RuleBroken.on(
            field, f"salaries are paid by SEPA transfer; {iban.country_code} is outside SEPA"
        )
    compact = str(iban.compact)
    if compact in cooperative_accounts():
        raise RuleBroken.on(field, "this is one of SMart's own accounts; give the account your "
                            "salary should be paid to")
    return compact


def holder_name(first_name: str, last_name: str) -> str:
    """The default account holder: the member."""
    return f"{first_name} {last_name}"
