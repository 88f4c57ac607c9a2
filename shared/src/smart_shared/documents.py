"""What every printed document needs: an embedded Unicode font, the reader's language and its
number and date formats, and messages from per-language gettext catalogues."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import fontTools
from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from fontpkg_lato import ROOT as LATO
from fontTools.subset import Options, Subsetter
from fontTools.ttLib import TTFont
from pymongo.asynchronous.database import AsyncDatabase

from smart_shared.mongo import Document
from smart_shared.pdf import Face, Writer

FONT = "Lato"
_FONT_FILES = {"": "Lato-Regular.ttf", "B": "Lato-Bold.ttf"}


# the Latin, Greek and Cyrillic letters of European names and addresses, punctuation, currency
_KEPT = ((0x20, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x1E00, 0x1EFF), (0x2000, 0x206F),
         (0x20A0, 0x20CF), (0x2100, 0x214F), (0x2212, 0x2212))


@cache
def _faces() -> dict[str, Face]:
    # cutting a TrueType font costs ~1.5 s: done once per machine, then read from the cache
    return {style: Face(_kept_lean_font(LATO / "files" / name))
            for style, name in _FONT_FILES.items()}


def load_fonts() -> None:
    """Prepare the document font now (a few milliseconds from the cache, about 3 s the first
    time on a machine) rather than in the first transaction that prints a document."""
    _faces()


def font_cache() -> Path:
    """Where the lean fonts are kept between processes: ``$SMART_FONT_CACHE``, else the user's
    cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``)."""
    if os.environ.get("SMART_FONT_CACHE"):
        return Path(os.environ["SMART_FONT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "smart" / "fonts"


def _kept_lean_font(path: Path) -> bytes:
    """``_lean_font(path)``, cut once per machine: every process that prints documents (each
    service and mailer, each start) reads the cut that the first one wrote. The file's name
    holds a digest of all the cut depends on (the font, fontTools' version, the letters kept),
    so a new font or a new fontTools makes a new cut; a cache that cannot be read or written
    only costs the cut."""
    original = path.read_bytes()
    digest = hashlib.sha256(b"\0".join((original, fontTools.version.encode(),
                                         repr(_KEPT).encode()))).hexdigest()[:24]
    kept = font_cache() / f"{path.stem}-{digest}.ttf"
    with contextlib.suppress(OSError):
        return kept.read_bytes()
    lean = _lean_font(path)
    with contextlib.suppress(OSError):
        kept.parent.mkdir(parents=True, exist_ok=True)
        written = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
        written.write_bytes(lean)
        os.replace(written, kept)  # whole or not at all, whoever else writes it meanwhile
    return lean


def cuts_made() -> int:
    """How many font cuts the documents of this process share (one per style and set of
    letters beyond Latin-1)."""
    return sum(face.cuts_made for face in _faces().values())


def _lean_font(path: Path) -> bytes:
    """The font cut once to the characters documents print, without hinting nor the layout
    tables that only text shaping needs (each document's cut is made from it)."""
    font = TTFont(path, recalcTimestamp=False)
    options = Options()
    options.layout_features = []
    options.glyph_names = True
    options.notdef_outline = True
    options.hinting = False
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern"]
    subsetter = Subsetter(options)
    subsetter.populate(unicodes=[code for low, high in _KEPT for code in range(low, high + 1)])
    subsetter.subset(font)
    lean = io.BytesIO()
    font.save(lean)
    return lean.getvalue()


def document_language(language: str, branch: str) -> str:
    """The language a document is written in: French in France, else the reader's own."""
    return "fr" if branch == "FR" else language


def document_locale(language: str, branch: str) -> str:
    """The Babel locale of a document: the language as written in the branch's country."""
    return f"{document_language(language, branch)}_{'FR' if branch == 'FR' else 'BE'}"


def money(amount: Decimal, currency: str, locale: str) -> str:
    """``amount`` in the locale's notation, e.g. ``1.210,00 €`` in nl_BE."""
    return str(format_currency(amount, currency, locale=locale))


def number(value: Decimal, locale: str) -> str:
    """A number in the locale's notation, with no more decimals than it has."""
    return str(format_decimal(value, locale=locale))


def long_date(day: date, locale: str) -> str:
    """A date written out in the locale, e.g. ``2 mars 2026``."""
    return str(format_date(day, format="long", locale=locale))


class Messages:
    """The messages of a kind of document, one gettext catalogue (``<language>.po``) per
    language in ``folder``; the English text is the message id."""

    def __init__(self, folder: Path) -> None:
        self._catalogues = {}
        for po in sorted(folder.glob("*.po")):
            with po.open("rb") as file:
                self._catalogues[po.stem] = read_po(file, locale=po.stem)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._catalogues)

    def text(self, language: str, message: str, **values: object) -> str:
        """``message`` in ``language`` (English when not translated), with ``values`` filled."""
        catalogue = self._catalogues.get(language)
        found = catalogue.get(message) if catalogue is not None else None
        translated = found.string if found is not None and found.string else message
        return str(translated).format(**values) if values else str(translated)


class Wording:
    """How one document speaks to its reader: its messages in the reader's language, amounts,
    numbers and dates in that language's notation in the branch's country."""

    def __init__(self, messages: Messages, language: str, branch: str) -> None:
        self.messages = messages
        self.language = document_language(language, branch)
        self.locale = document_locale(language, branch)

    def text(self, message: str, **values: object) -> str:
        return self.messages.text(self.language, message, **values)

    def money(self, amount: Decimal, currency: str) -> str:
        return money(amount, currency, self.locale)

    def number(self, value: Decimal) -> str:
        return number(value, self.locale)

    def percent(self, rate: Decimal) -> str:
        """A rate as a percentage, e.g. ``13,07 %``."""
        return f"{number(rate * 100, self.locale)} %"

    def day(self, day: date) -> str:
        return long_date(day, self.locale)


class PrintedDocument:
    """An A4 PDF in the embedded Unicode font, written line by line from the top; positions in
    millimetres, a new page when a line would run into the bottom margin."""

    def __init__(self, title: str, author: str, created: datetime) -> None:
        self._writer = Writer(_faces(), title, author, created)  # the same document, same bytes
        self.l_margin = self._writer.l_margin
        self.epw = self._writer.epw

    def paragraph(self, text: str, size: float = 10, bold: bool = False, height: float = 5) -> None:
        """One paragraph of ``text``, wrapped to the page width."""
        writer, style = self._writer, "B" if bold else ""
        for line in writer.wrapped(text, style, size):
            writer.room_for(height)
            writer.text(writer.l_margin, height, line, style, size)
            writer.ln(height)

    def pair(self, label: str, value: str, bold: bool = False, width: float = 70) -> None:
        """A label and its value on one line, the value aligned right."""
        writer, style = self._writer, "B" if bold else ""
        writer.room_for(6)
        writer.text(writer.l_margin, 6, label, style, 10)
        writer.text(writer.l_margin + width, 6, value, style, 10, width=50)
        writer.ln(6)

    def ln(self, height: float) -> None:
        self._writer.ln(height)

    def get_y(self) -> float:
        return self._writer.get_y()

    def set_y(self, y: float) -> None:
        self._writer.set_y(y)

    def image(self, rows: Sequence[Sequence[int]], x: float, y: float, w: float,
              h: float) -> None:
        """A bilevel image: ``rows`` of modules, 1 dark and 0 light (a QR code's matrix)."""
        self._writer.image(rows, x, y, w, h)

    def content(self) -> bytes:
        return self._writer.content()


ISSUED_DOCUMENTS = "issued_documents"
"""The collection that keeps each service's issued documents as first rendered."""


def issued_document(kind: str, ident: str, branch: str, member_id: str | None, content: bytes,
                    media_type: str, created: datetime) -> Document:
    """The rendered bytes of an issued document, kept as issued with their SHA-256 (an issued
    document never changes; 7 years of retention for invoices)."""
    return {"_id": f"{kind}:{ident}", "kind": kind, "branch": branch, "member_id": member_id,
            "media_type": media_type, "sha256": hashlib.sha256(content).hexdigest(),
            "content": content, "created_at": created}


async def kept_document(db: AsyncDatabase[Document], kind: str, ident: str, branch: str,
                        member_id: str | None, media_type: str, created: datetime,
                        render: Callable[[], bytes]) -> Document:
    """The document ``kind:ident`` as kept for good: rendered by ``render`` the first time
    anyone needs it, then stored with its SHA-256 and never rendered again (an issued document
    never changes; two first readers at once both get the first stored copy).

    The reader whose copy is stored gets it back as it wrote it; only one that lost the race
    to another reads the winner's copy."""
    key = f"{kind}:{ident}"
    stored = await db[ISSUED_DOCUMENTS].find_one({"_id": key})
    if stored is not None:
        return stored
    document = issued_document(kind, ident, branch, member_id, render(), media_type, created)
    written = await db[ISSUED_DOCUMENTS].update_one({"_id": key}, {"$setOnInsert": document},
                                                    upsert=True)
    if written.upserted_id is not None:
        return document
    stored = await db[ISSUED_DOCUMENTS].find_one({"_id": key})
    assert stored is not None  # an issued document is never deleted
    return stored
