"""Documents share their font cuts: the same letters are cut once, new letters get a cut of
their own, and every document still reads back as written."""

from __future__ import annotations

from datetime import UTC, datetime

from smart_shared import documents
from smart_shared.documents import PrintedDocument

from tests.documents.reading import pdf_text

MOMENT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def printed(*lines: str) -> bytes:
    document = PrintedDocument("Test", "SMart", MOMENT)
    for line in lines:
        document.paragraph(line)
    document.paragraph("Montant dû : 1 250,00 €", bold=True)
    return document.content()


def cuts() -> int:
    return documents.cuts_made()


def test_documents_within_latin_1_share_one_cut_per_style_and_read_back() -> None:
    first = printed("Facture pour Zoë Dupont, rue de l'Été 12, 1000 Bruxelles")
    made = cuts()
    second = printed("Fiche de paie de Jürgen Ærø, 4 jours à 250,00 €")

    assert cuts() == made
    assert "Zoë Dupont, rue de l'Été 12" in pdf_text(first)
    assert "Jürgen Ærø, 4 jours à 250,00 €" in pdf_text(second)
    assert "Montant dû : 1 250,00 €" in pdf_text(second)


def test_letters_beyond_latin_1_get_a_cut_of_their_own_that_prints_them() -> None:
    printed("Łukasz Żółć, Kraków")  # the cut of these letters may already exist
    made = cuts()

    content = printed("Ольга Петрова, Ελένη Παπαδοπούλου")

    assert cuts() == made + 1  # a new regular cut (the bold line is within Latin-1)
    assert "Ольга Петрова, Ελένη Παπαδοπούλου" in pdf_text(content)
    assert "Łukasz Żółć" in pdf_text(printed("Łukasz Żółć, Kraków"))
    assert cuts() == made + 1


def test_a_long_paragraph_still_wraps_within_the_page() -> None:
    words = "Le membre exécute la prestation décrite au contrat, aux dates convenues. " * 6
    document = PrintedDocument("Test", "SMart", MOMENT)
    top = document.get_y()

    document.paragraph(words, height=5)
    document.paragraph("Une ligne.", height=5)

    assert document.get_y() - top >= 3 * 5  # at least two lines, then one
    assert pdf_text(document.content()).count("prestation") == 6
