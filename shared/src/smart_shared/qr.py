"""EPC ("SEPA") QR codes, made with segno, whose mask is chosen faster.

ISO/IEC 18004:2015 §7.8.3 asks the encoder to try the eight data masks and keep the one whose
symbol scores the lowest penalty (N1 runs, N2 blocks, N3 finder-like patterns, N4 dark
proportion). segno does so module by module in Python, which was most of what an invoice's PDF
cost. ``best_mask`` scores the same symbols with whole lines at a time (integers for the blocks
and the dark modules, one buffer of every row and column searched for the runs and the
finder-like patterns) and gives segno the same answer: the same mask and the same
matrix (pinned against segno's own evaluation in the tests). Micro QR codes and a mask asked
for are left to segno.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache
from itertools import pairwise
from typing import Any

import segno
from segno import encoder, helpers

# five modules of a colour or more, spelt out: written so, the runs are searched from their
# literal start (``\x00{5,}|\x01{5,}`` is tried at every position, five times slower)
_RUNS = (re.compile(rb"\x00\x00\x00\x00\x00+"), re.compile(rb"\x01\x01\x01\x01\x01+"))
_FINDER = bytes((1, 0, 1, 1, 1, 0, 1))
_segno: Any = encoder  # segno's encoder has no type hints
_segno_best_mask = _segno.find_and_apply_best_mask


@cache
def _masks(width: int, height: int) -> tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]:
    """Per data mask, the modules that the mask flips (the symbol's function patterns are never
    flipped), row by row and column by column, each line as an integer of one byte per module."""
    function = _segno.make_matrix(width, height)
    _segno.add_finder_patterns(function, width, height)
    _segno.add_alignment_patterns(function, width, height)
    function[-8][8] = 0x1
    masks = []
    for pattern in _segno.get_data_mask_functions(False):
        flipped = [bytes(1 if function[i][j] > 0x1 and pattern(i, j) else 0
                         for j in range(width)) for i in range(height)]
        masks.append((tuple(int.from_bytes(row, "big") for row in flipped),
                      tuple(int.from_bytes(bytes(column), "big")
                            for column in zip(*flipped, strict=True))))
    return tuple(masks)


def _score(rows: list[int], columns: list[int], size: int) -> int:
    """The penalty score of a square symbol given as its rows and its columns (integers of one
    byte per module, 0 light and 1 dark).

    The runs (N1) and the finder-like patterns (N3) are sought in one buffer of every row and
    column, a separator byte between two lines, so that a symbol costs two searches instead of
    two per line; a pattern is scored as segno scores it within its own line.
    """
    line = size + 1
    lines = b"\x02".join(value.to_bytes(size, "big") for value in (*rows, *columns))
    runs = 0
    for pattern in _RUNS:
        found = pattern.findall(lines)
        runs += sum(map(len, found)) - 2 * len(found)
    finders, index = 0, lines.find(_FINDER)
    while index != -1:
        start = index % line
        offset = index + 7
        if start in (0, size - 7) or not any(lines[index - min(start, 4):index]) \
                or not any(lines[offset:offset + min(size - start - 7, 4)]):
            finders += 40
        else:
            offset = index + 4
        index = lines.find(_FINDER, offset)
    ones = int.from_bytes(b"\x01" * size, "big")
    after_first = ones >> 8  # every module but the first of a row
    blocks = 0
    for above, current in pairwise(rows):
        same = ~(current ^ above) & ones  # as the module above
        blocks += (same & (same >> 8) & ~(current ^ (current >> 8)) & after_first).bit_count()
    proportion = float(sum(row.bit_count() for row in rows)) / (size ** 2)
    return runs + 3 * blocks + finders + 10 * int(abs(proportion * 100 - 50) / 5)


def best_mask(matrix: Any, width: int, height: int, proposed_mask: int | None = None) -> Any:
    """segno's ``find_and_apply_best_mask``: the best mask's number and the masked matrix."""
    if proposed_mask is not None or width != height or width < 21:
        return _segno_best_mask(matrix, width, height, proposed_mask)
    rows = [int.from_bytes(bytes(row), "big") for row in matrix]
    columns = [int.from_bytes(bytes(column), "big") for column in zip(*matrix, strict=True)]
    best: tuple[int, int, list[int]] | None = None
    for number, (row_flips, column_flips) in enumerate(_masks(width, height)):
        masked = [row ^ flip for row, flip in zip(rows, row_flips, strict=True)]
        score = _score(masked, [column ^ flip for column, flip
                                in zip(columns, column_flips, strict=True)], width)
        if best is None or score < best[0]:
            best = (score, number, masked)
    assert best is not None
    return best[1], tuple(bytearray(row.to_bytes(width, "big")) for row in best[2])


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
