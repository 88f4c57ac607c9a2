"""The documents' PDF writer: what it writes reads back in a PDF reader, line by line and page
by page, the same document gives the same bytes, and a letter the font lacks prints nothing
worse than the font's blank box."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pypdf
from smart_shared.documents import PrintedDocument

from tests.documents.reading import pdf_text

MOMENT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def pages(content: bytes) -> list[str]:
    return [" ".join(page.extract_text().split())
            for page in pypdf.PdfReader(io.BytesIO(content)).pages]


def test_a_document_longer_than_a_page_goes_on_to_the_next_with_every_line() -> None:
    document = PrintedDocument("Conditions", "SMart", MOMENT)
    for number in range(1, 81):
        document.paragraph(f"Article {number}. Le membre exécute la prestation convenue.")

    written = pages(document.content())

    assert len(written) == 2
    # 5 mm a line from 10 mm down to 20 mm above the foot of 297 mm: 53 lines
    assert written[0].startswith("Article 1.") and "Article 53." in written[0]
    assert "Article 54." not in written[0]
    assert written[1].startswith("Article 54.") and written[1].endswith("Article 80. Le membre "
                                                                       "exécute la prestation "
                                                                       "convenue.")


def test_a_paragraph_wider_than_the_page_breaks_between_words_and_within_an_endless_one() -> None:
    words = " ".join(["prestation"] * 40)
    endless = "IBAN" + "0123456789" * 20
    document = PrintedDocument("Wrap", "SMart", MOMENT)
    document.paragraph(words)
    document.paragraph(endless)
    reader = pypdf.PdfReader(io.BytesIO(document.content()))

    lines = reader.pages[0].extract_text().splitlines()

    assert len(lines) > 4
    assert " ".join(lines).replace(" ", "").startswith(("prestation" * 40) + endless[:20])
    assert all(line == line.strip() for line in lines)
    assert "".join(line for line in lines if not line.startswith("prestation")) == endless


def test_the_same_document_gives_the_same_bytes_and_its_title_and_author_are_kept() -> None:
    def written() -> bytes:
        document = PrintedDocument("Fiche de paie — décembre", "SMart Belgium", MOMENT)
        document.paragraph("Salaire net", bold=True)
        document.pair("Net", "1 234,56 €")
        return document.content()

    first = written()

    assert written() == first
    info = pypdf.PdfReader(io.BytesIO(first)).metadata
    assert info is not None
    assert (info.title, info.author) == ("Fiche de paie — décembre", "SMart Belgium")


def test_a_letter_the_font_lacks_leaves_a_blank_and_the_rest_of_the_line_reads() -> None:
    document = PrintedDocument("Client", "SMart", MOMENT)
    document.paragraph("Client 株式会社 Tanaka, Tokyo")

    text = pdf_text(document.content())

    assert text.startswith("Client") and text.endswith("Tanaka, Tokyo")
