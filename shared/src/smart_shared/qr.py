"""EPC ("SEPA") QR codes, made with segno, whose mask is chosen faster.

ISO/IEC 18004:2015 §7.8.3 asks the encoder to try the eight data masks and keep the one whose
symbol scores the lowest penalty (N1 runs, N2 blocks, N3 finder-like patterns, N4 dark
proportion). segno does so module by module in Python, which was most of what an invoice's PDF
cost. ``best_mask`` scores the same symbols with whole rows at a time (bytes and integers,
regular expressions for the runs) and gives segno the same answer: the same mask and the same
matrix (pinned against segno's own evaluation in the tests). Micro QR codes and a mask asked
for are left to segno.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache
from typing import Any

import segno
from segno import encoder, helpers

_RUN = re.compile(rb"\x00{5,}|\x01{5,}")
_FINDER = bytes((1, 0, 1, 1, 1, 0, 1))
_segno: Any = encoder  # segno's encoder has no type hints
_segno_best_mask = _segno.find_and_apply_best_mask


@cache
def _masks(width: int, height: int) -> tuple[tuple[int, ...], ...]:
    """Per data mask, each row's modules that the mask flips, as an integer of one byte per
    module (the symbol's function patterns are never flipped)."""
    function = _segno.make_matrix(width, height)
    _segno.add_finder_patterns(function, width, height)
    _segno.add_alignment_patterns(function, width, height)
    function[-8][8] = 0x1
    return tuple(
        tuple(int.from_bytes(bytes(1 if function[i][j] > 0x1 and pattern(i, j) else 0
                                   for j in range(width)), "big") for i in range(height))
        for pattern in _segno.get_data_mask_functions(False))


def _finder_score(line: bytes, size: int) -> int:
    """N3 of one row or column, counted as segno counts it."""
    score, index = 0, line.find(_FINDER)
    while index != -1:
        offset = index + 7
        if index in (0, size - 7) or not any(line[max(index - 4, 0):index]) \
                or not any(line[offset:offset + 4]):
            score += 40
        else:
            offset = index + 4
        index = line.find(_FINDER, offset)
    return score


def penalty(rows: list[bytes]) -> int:
    """The penalty score of a square symbol (rows of 0 light / 1 dark modules)."""
    size = len(rows)
    columns = [bytes(column) for column in zip(*rows, strict=True)]
    runs = sum(len(run) - 2 for line in (*rows, *columns) for run in _RUN.findall(line))
    ones = int.from_bytes(b"\x01" * size, "big")
    after_first = ones >> 8  # every module but the first of a row
    blocks, above = 0, None
    for row in rows:
        current = int.from_bytes(row, "big")
        if above is not None:
            same = ~(current ^ above) & ones  # as the module above
            blocks += (same & (same >> 8) & ~(current ^ (current >> 8)) & after_first
                       ).bit_count()
        above = current
    finders = sum(_finder_score(line, size) for line in (*rows, *columns))
    dark = sum(row.count(1) for row in rows)
    proportion = float(dark) / (size ** 2)
    return runs + 3 * blocks + finders + 10 * int(abs(proportion * 100 - 50) / 5)


def best_mask(matrix: Any, width: int, height: int, proposed_mask: int | None = None) -> Any:
    """segno's ``find_and_apply_best_mask``: the best mask's number and the masked matrix."""
    if proposed_mask is not None or width != height or width < 21:
        return _segno_best_mask(matrix, width, height, proposed_mask)
    unmasked = [int.from_bytes(bytes(row), "big") for row in matrix]
    best: tuple[int, int, list[bytes]] | None = None
    for number, flips in enumerate(_masks(width, height)):
        rows = [(row ^ flip).to_bytes(width, "big") for row, flip in zip(unmasked, flips,
                                                                          strict=True)]
        score = penalty(rows)
        if best is None or score < best[0]:
            best = (score, number, rows)
    assert best is not None
    return best[1], tuple(bytearray(row) for row in best[2])


def make_epc_qr(name: str, iban: str, amount: Decimal, communication: str,
                bic: str | None = None) -> segno.QRCode:
    """An EPC069-12 QR code paying ``amount`` to ``iban`` (segno's ``helpers.make_epc_qr``,
    its mask chosen by ``best_mask``).

    The invoice's communication goes in the unstructured remittance field as written on the
    invoice: the Belgian structured communication (+++123/4567/89012+++) is not an ISO 11649
    creditor reference, which alone may fill the structured field, and Belgian banks' apps read
    it there.
    """
    return helpers.make_epc_qr(name=name, iban=iban, amount=amount, text=communication, bic=bic)


_segno.find_and_apply_best_mask = best_mask
