"""Font cuts made once: a document embeds its font cut to the glyphs it prints, and cutting a
font with fontTools is most of what a PDF costs (some 20 ms), so each cut is remembered.

fpdf2 cuts the font of every document while writing it (``fpdf.output`` calls
``fontTools.subset.Subsetter(options).populate(glyphs=…)``, ``.subset(ttfont)``, then
``ttfont.getGlyphID`` and ``ttfont.save``). For a :class:`KeptFont` those calls are answered
from a cache of cuts; any other font is cut as before. So that documents share cuts, every cut
also keeps the glyphs of printable ASCII, Latin-1 and the usual punctuation: a document whose
text stays within them (most do) gets the same cut as the previous one, a little larger than
its own letters would need (a few kilobytes) and made once per process.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from typing import IO, Any

import fpdf.output
from fontTools import subset as fonttools_subset
from fontTools.ttLib import TTFont

_ALWAYS = [*range(0x20, 0x7F), *range(0xA0, 0x100), 0x2013, 0x2014, 0x2018, 0x2019, 0x201C,
           0x201D, 0x2022, 0x2026, 0x20AC, 0x2212]
_CUTS_KEPT = 256
"""At a few tens of kilobytes a cut, a few megabytes at most."""


class KeptFont(TTFont):  # type: ignore[misc]  # fontTools has no type hints
    """A parsed font shared by every document of a process, never changed: each document's cut
    is made on a fresh copy of its bytes, or taken from the cache."""

    def __init__(self, content: bytes) -> None:
        super().__init__(io.BytesIO(content), recalcTimestamp=False)
        self.content = content
        cmap = self.getBestCmap()
        self.always = frozenset(cmap[code] for code in _ALWAYS if code in cmap)
        self._cuts: OrderedDict[frozenset[str], tuple[bytes, dict[str, int]]] = OrderedDict()
        self._lock = threading.Lock()
        self._current = threading.local()  # the cut of the document being written, per thread

    def cut(self, glyphs: frozenset[str], options: fonttools_subset.Options) -> None:
        """Make the cut to ``glyphs`` (and the ones every cut keeps) the current one."""
        key = glyphs | self.always
        with self._lock:
            found = self._cuts.get(key)
            if found is not None:
                self._cuts.move_to_end(key)
        if found is None:
            font = TTFont(io.BytesIO(self.content), recalcTimestamp=False)
            subsetter = fonttools_subset.Subsetter(options)
            subsetter.populate(glyphs=sorted(key))
            subsetter.subset(font)
            content = io.BytesIO()
            font.save(content)
            ids = {name: font.getGlyphID(name) for name in font.getGlyphOrder()}
            found = (content.getvalue(), ids)
            with self._lock:
                self._cuts[key] = found
                while len(self._cuts) > _CUTS_KEPT:
                    self._cuts.popitem(last=False)
        self._current.cut = found

    @property
    def cuts_made(self) -> int:
        """How many different cuts the cache holds."""
        return len(self._cuts)

    def getGlyphID(self, glyphName: str) -> int:
        cut: tuple[bytes, dict[str, int]] | None = getattr(self._current, "cut", None)
        if cut is None:
            return int(super().getGlyphID(glyphName))
        return cut[1][glyphName]

    def save(self, file: Any, reorderTables: bool | None = True) -> None:
        cut = getattr(self._current, "cut", None)
        if cut is None:
            super().save(file, reorderTables)
            return
        target: IO[bytes] = file
        target.write(cut[0])
        self._current.cut = None


class _Subsetter:
    """fontTools' Subsetter as fpdf2 calls it, answered from a :class:`KeptFont`'s cuts."""

    def __init__(self, options: fonttools_subset.Options) -> None:
        self._options = options
        self._glyphs: list[str] = []
        self._others: dict[str, Any] = {}

    def populate(self, glyphs: list[str] | None = None, **others: Any) -> None:
        self._glyphs, self._others = list(glyphs or ()), others

    def subset(self, font: TTFont) -> None:
        if isinstance(font, KeptFont):
            font.cut(frozenset(self._glyphs), self._options)
            return
        subsetter = fonttools_subset.Subsetter(self._options)
        subsetter.populate(glyphs=self._glyphs, **self._others)
        subsetter.subset(font)


class _FontToolsSubset:
    Options = fonttools_subset.Options
    Subsetter = _Subsetter


def remember_cuts() -> None:
    """Have fpdf2 take its cuts of a :class:`KeptFont` from the cache (idempotent)."""
    fpdf.output.ftsubset = _FontToolsSubset  # type: ignore[attr-defined]
