"""Belgian structured communication (``+++ddd/dddd/ddddd+++``): ten digits and a mod-97 check."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\D")


class InvalidStructuredReference(ValueError):
    """Not twelve digits, or the check digits do not match."""


def check_digits(base: str) -> str:
    """The two check digits of ten digits: the remainder mod 97, and 97 when it is zero."""
    remainder = int(base) % 97
    return f"{remainder or 97:02d}"


def format_reference(digits: str) -> str:
    """Twelve digits as ``+++ddd/dddd/ddddd+++``."""
    return f"+++{digits[:3]}/{digits[3:7]}/{digits[7:]}+++"


def structured_reference(base: int) -> str:
    """The structured communication carrying ``base`` (0 ≤ base < 10**10)."""
    if not 0 <= base < 10**10:
        raise ValueError("the base of a structured communication has ten digits at most")
    digits = f"{base:010d}"
    return format_reference(digits + check_digits(digits))


def reference_for_invoice(year: int, sequence: int) -> str:
    """An invoice's communication: its year and sequence, so it is unique per branch."""
    return structured_reference(year % 10_000 * 1_000_000 + sequence % 1_000_000)


def normalise_reference(text: str) -> str:
    """The canonical ``+++ddd/dddd/ddddd+++`` form of a communication typed any usual way
    (``***…***``, spaces, no separators); raises ``InvalidStructuredReference``."""
    digits = _DIGITS.sub("", text)
    if len(digits) != 12:
        raise InvalidStructuredReference("must have twelve digits (+++ddd/dddd/ddddd+++)")
    if check_digits(digits[:10]) != digits[10:]:
        raise InvalidStructuredReference("the check digits do not match (mod 97)")
    return format_reference(digits)


_CANDIDATE = re.compile(r"(?<!\d)(\d{3})\s*/?\s*(\d{4})\s*/?\s*(\d{5})(?!\d)")


def find_reference(text: str | None) -> str | None:
    """The first valid structured communication inside free remittance text, if any."""
    if not text:
        return None
    for match in _CANDIDATE.finditer(text):
        try:
            return normalise_reference("".join(match.groups()))
        except InvalidStructuredReference:
            continue
    return None
