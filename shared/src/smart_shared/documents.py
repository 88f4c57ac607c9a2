"""What every printed document needs: an embedded Unicode font, the reader's language and its
number and date formats, and messages from per-language gettext catalogues."""

from __future__ import annotations

import copy
import hashlib
import io
import os
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from fontpkg_lato import ROOT as LATO
from fontTools.subset import Options, Subsetter
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import SubsetMap
from pymongo.asynchronous.database import AsyncDatabase

from smart_shared.fontcuts import KeptFont, remember_cuts
from smart_shared.mongo import Document

FONT = "Lato"
_FONT_FILES = {"": "Lato-Regular.ttf", "B": "Lato-Bold.ttf"}


# the Latin, Greek and Cyrillic letters of European names and addresses, punctuation, currency
_KEPT = ((0x20, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x1E00, 0x1EFF), (0x2000, 0x206F),
         (0x20A0, 0x20CF), (0x2100, 0x214F), (0x2212, 0x2212))
_KEPT_FONTS: dict[str, KeptFont] = {}


@cache
def _fonts() -> FPDF:
    # parsing a TrueType font costs ~0.4 s: done once per process, then shared by every document
    remember_cuts()
    loaded = FPDF()
    for style, name in _FONT_FILES.items():
        lean = _lean_font(LATO / "files" / name)
        with tempfile.NamedTemporaryFile(prefix="smart-font-", suffix=".ttf",
                                         delete=False) as file:
            file.write(lean)
        try:
            loaded.add_font(FONT, style, file.name)
        finally:
            os.unlink(file.name)  # the bytes stay in memory, in the shared font
        _KEPT_FONTS[file.name] = KeptFont(lean)
    return loaded


def load_fonts() -> None:
    """Prepare the document font now (about 2 s, once per process) rather than in the first
    transaction that prints a document."""
    _fonts()


def _lean_font(path: Path) -> bytes:
    """The font cut once to the characters documents print, without hinting nor the layout
    tables that only text shaping needs: fontTools reads and subsets it again for every
    document, which is most of a document's cost (about 40 % less than the whole font)."""
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


class PrintedDocument(FPDF):
    """An A4 PDF in the embedded Unicode font, written line by line."""

    def __init__(self, title: str, author: str, created: datetime) -> None:
        super().__init__(format="A4")
        for key, font in _fonts().fonts.items():
            # the parsed font, its widths and glyph ids are shared (fpdf2's deep copy of them
            # cost more than the rest of a page); only the record of what it prints is its own
            own = copy.copy(font)
            own.ttfont = _KEPT_FONTS[str(font.ttffile)]  # type: ignore[union-attr]
            own.missing_glyphs = []  # type: ignore[union-attr]
            own.subset = SubsetMap(own)  # type: ignore[union-attr,arg-type]
            self.fonts[key] = own
        self.set_title(title)
        self.set_author(author)
        self.set_creation_date(created)  # the same document gives the same bytes
        self.add_page()

    def paragraph(self, text: str, size: float = 10, bold: bool = False, height: float = 5) -> None:
        """One paragraph of ``text``, wrapped to the page width."""
        self.set_font(FONT, "B" if bold else "", size)
        if "\n" not in text and self.get_string_width(text) + 2 * self.c_margin <= self.epw:
            # one line: fpdf2's line breaking measures the text again at every character
            self.cell(0, height, text, new_x="LMARGIN", new_y="NEXT")
            return
        self.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")

    def pair(self, label: str, value: str, bold: bool = False, width: float = 70) -> None:
        """A label and its value on one line, the value aligned right."""
        self.set_font(FONT, "B" if bold else "", 10)
        self.cell(width, 6, label)
        self.cell(50, 6, value, align="R", new_x="LMARGIN", new_y="NEXT")

    def content(self) -> bytes:
        return bytes(self.output())


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
    never changes; two first readers at once both get the first stored copy)."""
    key = f"{kind}:{ident}"
    stored = await db[ISSUED_DOCUMENTS].find_one({"_id": key})
    if stored is None:
        document = issued_document(kind, ident, branch, member_id, render(), media_type, created)
        await db[ISSUED_DOCUMENTS].update_one({"_id": key}, {"$setOnInsert": document},
                                              upsert=True)
        stored = await db[ISSUED_DOCUMENTS].find_one({"_id": key})
    assert stored is not None
    return stored
