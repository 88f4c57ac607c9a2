"""The lean document font is cut once per machine and read back by every later process: the
same bytes as a fresh cut, a new cut when what it depends on changes, and no failure when the
cache cannot be written."""

from __future__ import annotations

from pathlib import Path

import pytest
from smart_shared import documents
from smart_shared.documents import LATO, _kept_lean_font, _lean_font

REGULAR = LATO / "files" / "Lato-Regular.ttf"


def test_the_first_process_writes_the_cut_and_the_next_reads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMART_FONT_CACHE", str(tmp_path))
    lean = _kept_lean_font(REGULAR)
    [kept] = tmp_path.iterdir()
    assert kept.read_bytes() == lean == _lean_font(REGULAR)

    kept.write_bytes(b"what the cache holds")  # a later process reads the file, cuts nothing
    monkeypatch.setattr(documents, "_lean_font", lambda path: pytest.fail("cut again"))
    assert _kept_lean_font(REGULAR) == b"what the cache holds"


def test_another_fonttools_version_makes_its_own_cut(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMART_FONT_CACHE", str(tmp_path))
    _kept_lean_font(REGULAR)
    monkeypatch.setattr(documents.fontTools, "version", "0.0.1")
    _kept_lean_font(REGULAR)
    assert len(list(tmp_path.iterdir())) == 2


def test_a_cache_that_cannot_be_written_only_costs_the_cut(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_bytes(b"")
    monkeypatch.setenv("SMART_FONT_CACHE", str(blocked / "fonts"))  # under a file: no directory
    assert _kept_lean_font(REGULAR) == _lean_font(REGULAR)
