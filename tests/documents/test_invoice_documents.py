"""The invoice and credit-note PDFs, read back as their readers read them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from billing.documents import credit_note_pdf, invoice_pdf

from tests.documents.reading import pdf_text, qr_code
from tests.documents.samples import MOMENT, sample_credit_note, sample_invoice

BELGIAN_COMPANY = ["SMart SCE", "Société coopérative européenne (SCE)", "0896.755.397",
                   "RPM Bruxelles / RPR Brussel", "BE0896755397",
                   "Tribunal de l'entreprise francophone de Bruxelles"]
FRENCH_COMPANY = ["SMart France", "808 451 561", "RCS Paris", "FR63808451561",
                  "Société coopérative d'intérêt collectif"]

# client, words of its language, the total in Belgian or French notation, the due date written out
READERS = {
    "be-business": (["Facture BE-2026-000001", "Date d'échéance", "Facturé à", "Total hors TVA",
                     "Numéro d'entreprise"], "1 210,00 €", "1 avril 2026"),
    "be-consumer": (["Factuur BE-2026-000001", "Vervaldatum", "Gefactureerd aan",
                     "Totaal excl. btw", "Ondernemingsnummer"], "€ 1.210,00", "1 april 2026"),
    "nl-reverse-charge": (["Invoice BE-2026-000001", "Due date", "Bill to", "Total excl. VAT",
                           "Enterprise number",
                           "Autoliquidation / Verlegging van heffing / Reverse charge — article"],
                          "1.000,00 €", "1 April 2026"),
    "fr-business": (["Facture FR-2026-000001", "Date d'échéance", "Facturé à", "Total hors TVA",
                     "Pénalités de retard : taux d'intérêt appliqué par la Banque centrale "
                     "européenne", "majoré de 10 points",
                     "Indemnité forfaitaire pour frais de recouvrement en cas de retard de "
                     "paiement : 40,00 €", "Escompte : aucun escompte"],
                    "1 200,00 €", "1 avril 2026"),
}


@pytest.mark.parametrize("kind", READERS)
def test_the_invoice_is_in_the_clients_language_with_every_mandatory_mention(kind: str) -> None:
    words, total, due = READERS[kind]
    text = pdf_text(invoice_pdf(sample_invoice(kind), MOMENT))
    company = FRENCH_COMPANY if kind.startswith("fr") else BELGIAN_COMPANY
    for mention in [*company, *words, total, due, "Camille Dupont"]:
        assert mention in text, mention


def test_a_french_invoice_is_in_french_whatever_the_clients_language() -> None:
    invoice = sample_invoice("fr-business")
    english = invoice.model_copy(update={"client": invoice.client.model_copy(
        update={"language": "en"})})
    assert "Facture FR-2026-000001" in pdf_text(invoice_pdf(english, MOMENT))


def test_a_belgian_invoice_carries_no_french_late_payment_terms() -> None:
    text = pdf_text(invoice_pdf(sample_invoice("be-business"), MOMENT))
    assert "Pénalités de retard" not in text and "40,00 €" not in text


def test_the_invoice_never_states_what_was_paid_nor_the_member_id() -> None:
    invoice = sample_invoice("be-business")
    paid = invoice.model_copy(update={"paid": Decimal("1210.00"), "balance_due": Decimal("0")})
    text = pdf_text(invoice_pdf(paid, MOMENT))
    assert "member-1" not in text
    for word in ("Paid", "Payé", "Betaald", "Balance", "Solde", "Saldo"):
        assert word not in text
    assert invoice_pdf(paid, MOMENT) == invoice_pdf(invoice, MOMENT)


def test_the_qr_code_of_an_unpaid_invoice_pays_its_amount_to_the_account_with_the_reference(
) -> None:
    invoice = sample_invoice("be-business")
    payload = qr_code(invoice_pdf(invoice, MOMENT))
    assert payload is not None
    lines = payload.split("\n")
    assert lines[:4] == ["BCD", "002", "2", "SCT"]
    assert lines[5] == "SMart SCE"
    assert lines[6] == invoice.seller.iban
    assert lines[7].startswith("EUR") and Decimal(lines[7][3:]) == invoice.total
    # the Belgian communication is no ISO 11649 reference: unstructured field (EPC069-12)
    assert lines[9] == "" and lines[10] == invoice.structured_reference == "+++202/6000/00192+++"


def test_the_qr_code_of_a_french_invoice_carries_its_number() -> None:
    invoice = sample_invoice("fr-business")
    payload = qr_code(invoice_pdf(invoice, MOMENT))
    assert payload is not None
    assert payload.split("\n")[6:8] == [invoice.seller.iban, "EUR1200"]
    assert payload.split("\n")[10] == invoice.number


@pytest.mark.parametrize(("kind", "words"), [
    ("be-business", ["Note de crédit BE-CN-2026-000001", "Crédite la facture BE-2026-000001 du "
                     "2 mars 2026", "Total crédité", "121,00 €"]),
    ("be-consumer", ["Creditnota BE-CN-2026-000001", "Crediteert factuur BE-2026-000001",
                     "Totaal gecrediteerd", "€ 121,00"]),
    ("nl-reverse-charge", ["Credit note BE-CN-2026-000001", "Credits invoice BE-2026-000001",
                           "Total credited", "100,00 €", "Reverse charge — article"]),
    ("fr-business", ["Note de crédit FR-CN-2026-000001", "Total crédité", "120,00 €"]),
])
def test_the_credit_note_is_in_the_clients_language_with_the_company_mentions(
    kind: str, words: list[str],
) -> None:
    invoice = sample_invoice(kind)
    amount = invoice.total / 10
    text = pdf_text(credit_note_pdf(sample_credit_note(invoice, amount), invoice, MOMENT))
    company = FRENCH_COMPANY if kind.startswith("fr") else BELGIAN_COMPANY
    for mention in [*company, *words]:
        assert mention in text, mention
    assert qr_code(credit_note_pdf(sample_credit_note(invoice, amount), invoice, MOMENT)) is None


def test_a_performance_for_an_organiser_is_invoiced_exempt_with_the_article_44_mention_in_dutch(
) -> None:
    text = pdf_text(invoice_pdf(sample_invoice("be-consumer",
                                               work_nature="performance_for_organiser"), MOMENT))
    assert "Vrijgesteld van btw — artikel 44, § 2, 8° van het Btw-Wetboek" in text
    assert "€ 1.000,00" in text


def test_a_copyright_licence_is_invoiced_at_6_percent_with_the_rubric_xxix_mention_in_french(
) -> None:
    text = pdf_text(invoice_pdf(sample_invoice("be-business", work_nature="copyright"), MOMENT))
    assert "TVA 6 % — cession ou concession de droits d'auteur" in text
    assert "1 060,00 €" in text


def test_a_prepaid_invoice_shows_the_credit_deducted_and_its_qr_code_asks_for_the_rest() -> None:
    from tests.documents.samples import sample_prepaid_invoice

    content = invoice_pdf(sample_prepaid_invoice(), MOMENT)
    text = pdf_text(content)
    assert "Votre crédit sur la facture BE-2026-000001 -200,00 €" in text
    assert "Montant à payer 1 010,00 €" in text
    payload = qr_code(content)
    assert payload is not None and payload.split("\n")[7] == "EUR1010"


def test_the_vat_correction_of_a_lost_debt_says_the_claim_remains_due() -> None:
    from billing.documents import vat_correction_pdf
    from billing.store import WriteOff

    invoice = sample_invoice("be-business")
    write_off = WriteOff(case_id="case-1", written_off_on=MOMENT.date(), reason="lost",
                         lost=Decimal("1210.00"), lost_excl_vat=Decimal("1000.00"),
                         vat_recovered=Decimal("210.00"),
                         vat_correction_number="BE-VC-2026-000001")
    text = pdf_text(vat_correction_pdf(invoice, write_off, MOMENT.date(), MOMENT))
    for words in ("Rectification de TVA BE-VC-2026-000001",
                  "Rectifie la TVA de la facture BE-2026-000001", "TVA rectifiée 210,00 €",
                  "TVA à reverser à l'État dans la mesure où elle a été initialement déduite",
                  "Il n'annule pas la créance : le montant de la facture reste dû."):
        assert words in text
    assert "crédit" not in text.lower()
