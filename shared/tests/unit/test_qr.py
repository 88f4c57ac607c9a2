"""The EPC QR code's mask is chosen as segno chooses it (ISO/IEC 18004 §7.8.3), only faster:
for every symbol, the same mask and the same matrix as segno's own evaluation."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
import segno
from segno import encoder
from smart_shared import qr


def test_the_mask_and_matrix_are_segnos_for_epc_codes_and_symbols_of_every_size(
        monkeypatch: pytest.MonkeyPatch) -> None:
    chosen: list[tuple[int, int, bool]] = []

    def both(matrix: Any, width: int, height: int, proposed_mask: int | None = None) -> Any:
        ours = qr.best_mask([bytearray(row) for row in matrix], width, height, proposed_mask)
        theirs = qr._segno_best_mask([bytearray(row) for row in matrix], width, height,
                                     proposed_mask)
        chosen.append((ours[0], theirs[0],
                       [bytes(row) for row in ours[1]] == [bytes(row) for row in theirs[1]]))
        return theirs

    monkeypatch.setattr(encoder, "find_and_apply_best_mask", both)
    rng = random.Random(18004)
    for number in range(150):
        qr.make_epc_qr(name=f"SMart SCE {number}", iban="BE68539007547034",
                       amount=Decimal(rng.randint(1, 10**7)) / 100,
                       communication=f"+++{rng.randint(0, 999):03}/{rng.randint(0, 9999):04}/"
                            f"{rng.randint(0, 99999):05}+++", bic="GKCCBEBB")
    for _ in range(150):
        text = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 éü")
                       for _ in range(rng.randint(1, 400)))
        segno.make(text, micro=False, error=rng.choice("LMQH"))

    assert len(chosen) == 300
    assert [(ours, same) for ours, theirs, same in chosen] == [
        (theirs, True) for _, theirs, _ in chosen]
    assert len({theirs for _, theirs, _ in chosen}) == 8  # every mask wins somewhere
