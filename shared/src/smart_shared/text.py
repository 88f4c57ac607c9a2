"""The platform's text policy: what a string from outside may contain before anything stores it.

One member's account holder with a NUL byte or a right-to-left override once travelled by event
into payroll and broke the SEPA file of a whole branch. So every string that enters the platform
(JSON bodies, query and path parameters, parsed files) is checked here once:

- no C0 or C1 control character (line breaks and tabs only where a field documents them), no
  DEL, no lone surrogate, no Unicode non-character;
- no bidirectional embedding, override or isolate (they make text read differently than stored);
- normalised to NFC, so the same name typed on two keyboards is the same string;
- bounded in length (by the field's ``max_length``);
- identifiers and amounts: ASCII only (``١٢`` is not ``12`` on an invoice).

The request guard (``smart_shared.guards``) applies the character rules to every string of every
JSON body; the field types below add the per-field rules (one line, ASCII, length).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI)."""
LINE_BREAKS = frozenset("\n\r\t")
# one pass over the string in C: any character the policy may refuse (checked precisely after)
_SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufdd0-\ufdef"
                      "\ufffe\uffff]")
_ASCII_PRINTABLE = re.compile(r"^[\x20-\x7e]*$")


def refused_character(value: str, *, multiline: bool = True) -> str | None:
    """Why ``value`` is refused (naming the first bad character), or ``None`` when it is fine."""
    match = _SUSPECT.search(value)
    if match is None:
        return None
    for char in value[match.start():]:
        if multiline and char in LINE_BREAKS:
            continue
        reason = _reason(char)
        if reason:
            return f"contains {reason} (U+{ord(char):04X}) at position {value.index(char)}"
    return None


def _reason(char: str) -> str | None:
    code = ord(char)
    if char in BIDI_CONTROLS:
        return "a bidirectional control character"
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return "a control character"
    if 0xD800 <= code <= 0xDFFF:
        return "a lone surrogate"
    if 0xFDD0 <= code <= 0xFDEF or code in (0xFFFE, 0xFFFF):
        return "a Unicode non-character"
    return None


def clean(value: str, *, multiline: bool = False) -> str:
    """``value`` in NFC with line breaks normalised, or ``ValueError`` saying what is wrong."""
    reason = refused_character(value, multiline=multiline)
    if reason:
        raise ValueError(reason)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value if unicodedata.is_normalized("NFC", value) else unicodedata.normalize("NFC", value)


def _line(value: str) -> str:
    return clean(value)


def _paragraph(value: str) -> str:
    return clean(value, multiline=True)


def _ascii(value: str) -> str:
    if not _ASCII_PRINTABLE.match(value):
        raise ValueError("must be plain ASCII letters, digits and punctuation")
    return value


ONE_LINE = AfterValidator(_line)
"""Validator of a one-line text field (a name, a city): no line break, NFC."""
MULTILINE = AfterValidator(_paragraph)
"""Validator of a text field that may hold line breaks (a description, a reason)."""
ASCII_ONLY = AfterValidator(_ascii)
"""Validator of an identifier typed by a person (IBAN, national number, VAT number): ASCII."""
_TRIMMED = StringConstraints(strip_whitespace=True, min_length=1)

Name = Annotated[str, _TRIMMED, Field(max_length=100), ONE_LINE]
"""A person's or an activity's name: one line, 1 to 100 characters."""
Email = Annotated[str, _TRIMMED, Field(min_length=3, max_length=254), ONE_LINE, ASCII_ONLY]
"""An e-mail address as typed (its syntax is the owning service's rule): ASCII, one line."""
Reason = Annotated[str, _TRIMMED, Field(max_length=500), MULTILINE]
"""Why someone did something (a cancellation, a write-off): may span lines, up to 500."""

OneLine = Annotated[str, _TRIMMED, ONE_LINE]
"""One line of text (give the bound: ``Annotated[OneLine, Field(max_length=140)]``)."""
Paragraph = Annotated[str, _TRIMMED, MULTILINE]
"""Text that may span lines (give the bound with ``Field(max_length=...)``)."""
Identifier = Annotated[str, _TRIMMED, ASCII_ONLY]
"""A code a person types (IBAN, national number, VAT number, postal code, reference): ASCII."""
