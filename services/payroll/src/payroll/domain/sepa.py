"""What a SEPA credit transfer can carry: the beneficiary's name, account and amount.

A SEPA-safe name uses only the EPC's basic Latin character set (SCT rulebook, chapter 7:
``a-z A-Z 0-9 / - ? : ( ) . , ' +`` and space) and is at most 70 characters long. Names are
transliterated, never refused, when only their spelling is outside the set, following the
principle of the EPC's SEPA conversion table (EPC217-08): Latin letters lose their accents
(``Zoë`` → ``Zoe``), ligatures and special letters are spelled out (``ß`` → ``ss``, ``Æ`` →
``AE``, ``ø`` → ``o``), typographic apostrophes and dashes become ``'`` and ``-``, ``&``
becomes ``+``, any space becomes a blank. Refused, because no bank would pay them as meant:
control and formatting characters (NUL, line breaks, bidirectional overrides and isolates,
zero-width characters: a data fault, not a spelling), letters of other scripts (we do not guess
how the account holder's bank spells them), and names longer than 70 characters once
transliterated (truncating would pay a name nobody holds).
"""

from __future__ import annotations

import re
import string
import unicodedata
from decimal import Decimal
from typing import Literal

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

SEPA_CHARACTERS = frozenset(string.ascii_letters + string.digits + "/-?:().,'+ ")
MAX_NAME_LENGTH = 70
"""EPC SCT rulebook: the name of the beneficiary (AT-21) holds at most 70 characters."""
MAX_AMOUNT = Decimal("999999999.99")
"""EPC SCT rulebook: the amount of a credit transfer (AT-04) is at most 999,999,999.99 EUR."""

# letters and signs that no Unicode decomposition brings into the set, spelled as EPC217-08 does
_SPELLED_OUT = str.maketrans({
    "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH",
    "\u0131": "i", "ŀ": "l", "Ŀ": "L", "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ĸ": "k",
    "ŉ": "'n", "&": "+",
    # apostrophes and quotation marks
    **dict.fromkeys("\u2019\u2018\u02bc\u0060\u00b4\u0022\u201c\u201d\u201e\u00ab\u00bb", "'"),
    # hyphens and dashes
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
})
# control, format, line and paragraph separators, private use, surrogates, unassigned
_NOT_TEXT = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}
_KIND = {"Cc": "control character", "Co": "private use character", "Cn": "unassigned"}
_SEPA_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$")


ExclusionCode = Literal["no_payout_details", "erased_member", "iban", "holder_name", "amount",
                        "rejected_by_bank"]


class NotSepaSafe(ValueError):
    """A payout detail a SEPA transfer cannot carry: ``code`` names which (for counting and
    machines), ``reason`` says what is wrong in words staff can pass on to the member."""

    def __init__(self, code: ExclusionCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _named(characters: list[str]) -> str:
    unique = list(dict.fromkeys(characters))
    shown = [f"U+{ord(c):04X} {unicodedata.name(c, _KIND.get(unicodedata.category(c), '?'))}"
             for c in unique[:5]]
    return ", ".join(shown) + (", …" if len(unique) > 5 else "")


def sepa_name(name: str | None) -> str:
    """The account holder's ``name`` as a SEPA transfer carries it (transliterated, spaces
    collapsed), or ``NotSepaSafe`` saying why it cannot be."""
    if not name or not name.strip():
        raise NotSepaSafe("holder_name", "the payout account has no holder name")
    hidden = [c for c in name if unicodedata.category(c) in _NOT_TEXT]
    if hidden:
        raise NotSepaSafe("holder_name", "the account holder's name contains control or "
                          f"formatting characters ({_named(hidden)}); the member must correct it")
    spelled = unicodedata.normalize("NFKD", name.translate(_SPELLED_OUT)).translate(_SPELLED_OUT)
    latin = "".join(" " if c.isspace() else c for c in spelled
                    if not unicodedata.combining(c))
    outside = [c for c in latin if c not in SEPA_CHARACTERS]
    if outside:
        raise NotSepaSafe("holder_name", "the account holder's name has characters a SEPA "
                          f"transfer cannot carry ({_named(outside)}); the member must give it "
                          "in Latin letters")
    safe = " ".join(latin.split())
    if not safe:
        raise NotSepaSafe("holder_name", "the payout account has no holder name")
    if len(safe) > MAX_NAME_LENGTH:
        raise NotSepaSafe("holder_name", f"the account holder's name is {len(safe)} characters "
                          f"long as a SEPA transfer spells it; at most {MAX_NAME_LENGTH} fit")
    return safe


def sepa_iban(iban: str | None) -> str:
    """The IBAN in compact form if it is valid and in the SEPA zone, else ``NotSepaSafe``."""
    try:
        account = IBAN(iban or "")
    except (SchwiftyException, ValueError, TypeError) as error:
        raise NotSepaSafe("iban", f"the payout IBAN is not valid ({error})") from None
    compact = str(account.compact)
    if not _SEPA_IBAN.match(compact):
        raise NotSepaSafe("iban", "the payout IBAN is not valid (only A-Z and 0-9)")
    if not account.in_sepa_zone:
        raise NotSepaSafe("iban", f"the payout IBAN is of {account.country_code}, outside the "
                          "SEPA zone")
    return compact


def sepa_amount(amount: Decimal) -> Decimal:
    """``amount`` if one SEPA transfer can carry it (a positive number of cents up to the
    rulebook's maximum), else ``NotSepaSafe``."""
    if not Decimal("0.01") <= amount <= MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise NotSepaSafe("amount", f"the salary of {amount} cannot be paid by one SEPA transfer")
    return amount
