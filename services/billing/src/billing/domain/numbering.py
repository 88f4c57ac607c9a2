"""Invoice and credit note numbers, gapless per branch and year."""

from __future__ import annotations

from typing import Literal

Series = Literal["invoice", "credit_note", "vat_correction"]


def counter_id(series: Series, branch: str, year: int) -> str:
    """The counter document that hands out one series' numbers for a branch and a year."""
    return f"{series}:{branch}:{year}"


def invoice_number(branch: str, year: int, sequence: int) -> str:
    """``{branch}-{year}-{seq:06}``, e.g. ``BE-2026-000042``."""
    return f"{branch}-{year}-{sequence:06d}"


def credit_note_number(branch: str, year: int, sequence: int) -> str:
    """``{branch}-CN-{year}-{seq:06}``, e.g. ``BE-CN-2026-000003``."""
    return f"{branch}-CN-{year}-{sequence:06d}"


def vat_correction_number(branch: str, year: int, sequence: int) -> str:
    """``{branch}-VC-{year}-{seq:06}``: the VAT corrections of lost debts, a series of their own
    (they are not credit notes: the claim stays due)."""
    return f"{branch}-VC-{year}-{sequence:06d}"


def number_for(series: Series, branch: str, year: int, sequence: int) -> str:
    if sequence < 1:
        raise ValueError("sequences start at 1")
    if series == "invoice":
        return invoice_number(branch, year, sequence)
    if series == "vat_correction":
        return vat_correction_number(branch, year, sequence)
    return credit_note_number(branch, year, sequence)
