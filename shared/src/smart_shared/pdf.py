"""A small PDF writer for the platform's printed documents: A4 pages of lines of text in an
embedded TrueType font, values aligned right, and bilevel images (QR codes).

What the documents need and no more (ISO 32000-1): each style of the font is a Type 0 font
over a CIDFontType2 whose CIDs are the font's glyph ids (``/CIDToGIDMap /Identity``), with its
widths and a ``ToUnicode`` map so that the text can be searched and copied. The font a
document embeds is cut to the glyphs of printable ASCII, Latin-1 and the usual punctuation plus
the ones it prints beyond them; a cut keeps the glyph ids of the whole font, so it is made,
compressed and described once per process and shared by every document that prints the same
letters. A page's text is positioned as a text-flow library would (``Td``, ``Tj``); the same
document gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fontTools import subset as fonttools_subset
from fontTools.ttLib import TTFont

MM = 72 / 25.4
"""Points per millimetre: positions are given in millimetres from the top left corner."""

A4 = (210.0, 297.0)
MARGIN = 10.0
CELL_MARGIN = MARGIN / 10
BOTTOM_MARGIN = 2 * MARGIN

ALWAYS = [*range(0x20, 0x7F), *range(0xA0, 0x100), 0x2013, 0x2014, 0x2018, 0x2019, 0x201C,
          0x201D, 0x2022, 0x2026, 0x20AC, 0x2212]
"""The characters every cut keeps: most documents print no other, and so share one cut."""

CUTS_KEPT = 256
"""At a few tens of kilobytes a cut, a few megabytes at most."""

_HEX = [f"{gid:04X}" for gid in range(0x10000)]


@dataclass(frozen=True)
class Cut:
    """A font cut as a document embeds it: the compressed font program and its descriptions."""

    name: str  # the subset's PostScript name, a tag of six capitals and the font's name
    program: bytes  # compressed FontFile2
    length: int  # its uncompressed length (/Length1)
    widths: str  # the /W array
    to_unicode: bytes  # compressed ToUnicode CMap


class Face:
    """One style of the embedded font, parsed once per process and shared by every document."""

    def __init__(self, content: bytes) -> None:
        self._content = content
        font = TTFont(io.BytesIO(content), recalcTimestamp=False)
        scale = 1000 / font["head"].unitsPerEm
        self.postscript_name = str(font["name"].getDebugName(6) or "Font").replace(" ", "")
        cmap = font.getBestCmap()
        metrics = font["hmtx"].metrics
        self.glyph_of: dict[str, int] = {}
        self.width_of: dict[str, float] = {}  # in thousandths of the font size
        for code, glyph in cmap.items():
            char = chr(code)
            self.glyph_of[char] = font.getGlyphID(glyph)
            self.width_of[char] = metrics[glyph][0] * scale
        self.notdef_width = float(metrics[font.getGlyphOrder()[0]][0] * scale)
        head, os2 = font["head"], font["OS/2"]
        self.descriptor = (
            f"/Flags 32 /FontBBox [{round(head.xMin * scale)} {round(head.yMin * scale)} "
            f"{round(head.xMax * scale)} {round(head.yMax * scale)}] "
            f"/ItalicAngle {round(font['post'].italicAngle)} "
            f"/Ascent {round(font['hhea'].ascent * scale)} "
            f"/Descent {round(font['hhea'].descent * scale)} "
            f"/CapHeight {round(getattr(os2, 'sCapHeight', font['hhea'].ascent) * scale)} "
            f"/StemV {80 if os2.usWeightClass < 600 else 140} "
            f"/MissingWidth {round(self.notdef_width)}")
        self.always = frozenset(self.glyph_of[chr(code)] for code in ALWAYS
                                if chr(code) in self.glyph_of)
        # a glyph that several characters share (a hyphen, U+002D and U+2010) copies as the
        # first of them
        self._unicode_of = {gid: char for char, gid in sorted(self.glyph_of.items(),
                                                                reverse=True)}
        self._cuts: OrderedDict[frozenset[int], Cut] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def cuts_made(self) -> int:
        """How many different cuts the cache holds."""
        return len(self._cuts)

    def width(self, text: str, size: float) -> float:
        """The width of ``text`` at ``size`` points, in millimetres."""
        width_of, missing = self.width_of, self.notdef_width
        return sum(width_of.get(char, missing) for char in text) * size / 1000 / MM

    def encode(self, text: str) -> str:
        """``text`` as the hexadecimal string of its glyph ids (.notdef for a missing one)."""
        glyph_of = self.glyph_of
        return "".join(_HEX[glyph_of.get(char, 0)] for char in text)

    def cut(self, glyphs: frozenset[int]) -> Cut:
        """The cut to ``glyphs`` and those every cut keeps, made once."""
        key = glyphs - self.always
        with self._lock:
            found = self._cuts.get(key)
            if found is not None:
                self._cuts.move_to_end(key)
                return found
        found = self._make(self.always | key)
        with self._lock:
            self._cuts[key] = found
            while len(self._cuts) > CUTS_KEPT:
                self._cuts.popitem(last=False)
        return found

    def _make(self, glyphs: frozenset[int]) -> Cut:
        font = TTFont(io.BytesIO(self._content), recalcTimestamp=False)
        order = font.getGlyphOrder()
        options = fonttools_subset.Options()
        options.retain_gids = True  # CID = glyph id in every cut
        options.notdef_outline = True
        options.glyph_names = False
        options.name_IDs = [1, 2, 3, 4, 6]
        subsetter = fonttools_subset.Subsetter(options)
        subsetter.populate(gids=sorted(glyphs | {0}))
        subsetter.subset(font)
        program = io.BytesIO()
        font.save(program)
        tag = "".join(chr(65 + byte % 26)
                      for byte in hashlib.sha256(repr(sorted(glyphs)).encode()).digest()[:6])
        metrics = font["hmtx"].metrics
        scale = 1000 / font["head"].unitsPerEm
        kept = sorted(glyphs)
        widths = " ".join(f"{gid} [{round(metrics[order[gid]][0] * scale)}]" for gid in kept)
        return Cut(name=f"{tag}+{self.postscript_name}",
                   program=zlib.compress(program.getvalue()), length=len(program.getvalue()),
                   widths=f"[{widths}]",
                   to_unicode=zlib.compress(self._to_unicode(kept).encode("ascii")))

    def _to_unicode(self, glyphs: Iterable[int]) -> str:
        pairs = [(gid, self._unicode_of[gid]) for gid in glyphs if gid in self._unicode_of]
        blocks = []
        for start in range(0, len(pairs), 100):
            block = pairs[start:start + 100]
            lines = "\n".join(f"<{_HEX[gid]}> <{char.encode('utf-16-be').hex().upper()}>"
                              for gid, char in block)
            blocks.append(f"{len(block)} beginbfchar\n{lines}\nendbfchar")
        return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
                "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
                + "\n".join(blocks) + "\nendcmap\nCMapName currentdict /CMap defineresource pop\n"
                "end\nend")


def _text_string(value: str) -> str:
    """A PDF text string (the document information's values): UTF-16BE with its mark."""
    return f"<FEFF{value.encode('utf-16-be').hex().upper()}>"


def _date(moment: datetime) -> str:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"(D:{moment:%Y%m%d%H%M%S}Z)"


class Writer:
    """The pages of one document, written top to bottom from the left margin; positions in
    millimetres from the top left corner of the page."""

    def __init__(self, faces: dict[str, Face], title: str, author: str,
                 created: datetime) -> None:
        self._faces = faces
        self._styles = list(faces)
        self._used: dict[str, set[int]] = {style: set() for style in faces}
        self._title, self._author, self._created = title, author, created
        self._pages: list[list[str]] = []
        self._images: list[tuple[int, int, bytes]] = []  # width, height, packed rows
        self.w, self.h = A4
        self.l_margin = self.t_margin = self.r_margin = MARGIN
        self.epw = self.w - self.l_margin - self.r_margin
        self.x, self.y = self.l_margin, self.t_margin
        self._new_page()

    def _new_page(self) -> None:
        self._pages.append([])
        self.x, self.y = self.l_margin, self.t_margin

    def ln(self, height: float) -> None:
        self.x = self.l_margin
        self.y += height

    def get_y(self) -> float:
        return self.y

    def set_y(self, y: float) -> None:
        self.x, self.y = self.l_margin, y

    def room_for(self, height: float) -> None:
        """A new page when ``height`` more would run into the bottom margin."""
        if self.y + height > self.h - BOTTOM_MARGIN and self.y > self.t_margin:
            self._new_page()

    def text(self, x: float, height: float, text: str, style: str, size: float,
             width: float | None = None) -> None:
        """``text`` in a line of ``height`` at ``x``: from its left end plus the cell margin,
        or ending ``width`` further minus the cell margin (aligned right)."""
        if not text:
            return
        face = self._faces[style]
        self._used[style].update(face.glyph_of.get(char, 0) for char in text)
        left = x + CELL_MARGIN if width is None else (
            x + width - CELL_MARGIN - face.width(text, size))
        baseline = self.y + 0.5 * height + 0.3 * size / MM
        self._pages[-1].append(
            f"BT /F{self._styles.index(style) + 1} {size:.2f} Tf "
            f"{left * MM:.2f} {(self.h - baseline) * MM:.2f} Td <{face.encode(text)}> Tj ET")

    def wrapped(self, text: str, style: str, size: float) -> list[str]:
        """``text`` broken into lines that fit the page's width, at spaces (within a word that
        is longer than a line)."""
        room = self.epw - 2 * CELL_MARGIN
        face = self._faces[style]
        lines: list[str] = []
        for paragraph in text.split("\n"):
            line = ""
            for word in paragraph.split(" "):
                candidate = f"{line} {word}" if line else word
                if face.width(candidate, size) <= room:
                    line = candidate
                    continue
                if line:
                    lines.append(line)
                line = ""
                for char in word:
                    if line and face.width(line + char, size) > room:
                        lines.append(line)
                        line = ""
                    line += char
            lines.append(line)
        return lines

    def image(self, rows: Sequence[Sequence[int]], x: float, y: float, w: float,
              h: float) -> None:
        """A bilevel image (``rows`` of 0 light / 1 dark) drawn in the box at ``x``, ``y``."""
        height, width = len(rows), len(rows[0])
        packed = bytearray()
        for row in rows:
            bits = "".join("1" if module else "0" for module in row).ljust(-(-width // 8) * 8, "0")
            packed += int(bits, 2).to_bytes(len(bits) // 8, "big")
        self._images.append((width, height, bytes(packed)))
        self._pages[-1].append(
            f"q {w * MM:.2f} 0 0 {h * MM:.2f} {x * MM:.2f} {(self.h - y - h) * MM:.2f} cm "
            f"/Im{len(self._images)} Do Q")

    def content(self) -> bytes:
        """The whole document."""
        objects: list[bytes] = []

        def add(body: bytes) -> int:
            objects.append(body)
            return len(objects)

        def stream(dictionary: str, data: bytes) -> bytes:
            return (f"<< {dictionary} /Length {len(data)} >>\nstream\n".encode("ascii") + data
                    + b"\nendstream")

        fonts = []
        for style in self._styles:
            face, used = self._faces[style], self._used[style]
            cut = face.cut(frozenset(used))
            program = add(stream(f"/Filter /FlateDecode /Length1 {cut.length}", cut.program))
            descriptor = add(f"<< /Type /FontDescriptor /FontName /{cut.name} "
                             f"{face.descriptor} /FontFile2 {program} 0 R >>".encode("ascii"))
            cid_font = add(f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{cut.name} "
                           "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) "
                           f"/Supplement 0 >> /FontDescriptor {descriptor} 0 R "
                           f"/DW {round(face.notdef_width)} /W {cut.widths} "
                           "/CIDToGIDMap /Identity >>".encode("ascii"))
            to_unicode = add(stream("/Filter /FlateDecode", cut.to_unicode))
            fonts.append(add(f"<< /Type /Font /Subtype /Type0 /BaseFont /{cut.name} "
                             f"/Encoding /Identity-H /DescendantFonts [{cid_font} 0 R] "
                             f"/ToUnicode {to_unicode} 0 R >>".encode("ascii")))
        images = [add(stream(f"/Type /XObject /Subtype /Image /Width {width} /Height {height} "
                             "/ColorSpace /DeviceGray /BitsPerComponent 1 /Decode [1 0] "
                             "/Interpolate false /Filter /FlateDecode", zlib.compress(packed)))
                  for width, height, packed in self._images]
        font_names = " ".join(f"/F{number} {ref} 0 R" for number, ref in enumerate(fonts, 1))
        image_names = " ".join(f"/Im{number} {ref} 0 R" for number, ref in enumerate(images, 1))
        resources = add(f"<< /Font << {font_names} >> /XObject << {image_names} >> "
                        "/ProcSet [/PDF /Text /ImageB] >>".encode("ascii"))
        pages_ref = len(objects) + 2 * len(self._pages) + 1
        kids = []
        for operators in self._pages:
            contents = add(stream("/Filter /FlateDecode",
                                  zlib.compress("\n".join(operators).encode("ascii"))))
            kids.append(add(f"<< /Type /Page /Parent {pages_ref} 0 R /MediaBox [0 0 "
                            f"{self.w * MM:.2f} {self.h * MM:.2f}] /Resources {resources} 0 R "
                            f"/Contents {contents} 0 R >>".encode("ascii")))
        assert add(f"<< /Type /Pages /Kids [{' '.join(f'{kid} 0 R' for kid in kids)}] "
                   f"/Count {len(kids)} >>".encode("ascii")) == pages_ref
        catalog = add(f"<< /Type /Catalog /Pages {pages_ref} 0 R >>".encode("ascii"))
        info = add(f"<< /Title {_text_string(self._title)} /Author {_text_string(self._author)} "
                   f"/Producer (smart_shared.pdf) /CreationDate {_date(self._created)} >>"
                   .encode("ascii"))
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, 1):
            offsets.append(len(out))
            out += f"{number} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
        xref = len(out)
        out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
        out += "".join(f"{offset:010} 00000 n \n" for offset in offsets).encode("ascii")
        out += (f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R /Info {info} 0 R >>\n"
                f"startxref\n{xref}\n%%EOF\n").encode("ascii")
        return bytes(out)
