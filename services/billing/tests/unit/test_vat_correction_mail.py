from datetime import date
from decimal import Decimal

import pytest
from billing.mails import vat_correction_mail
from billing.store import WriteOff
from pydantic_core import to_jsonable_python
from smart_shared.mail.render import render

from tests.documents.samples import sample_invoice


@pytest.mark.parametrize(("language", "words"), [
    ("fr", ["Rectification de TVA BE-VC-2026-000001", "reversez-la à l'État",
            "Ce document n'annule pas la facture : son montant reste dû"]),
    ("nl", ["Btw-verbetering BE-VC-2026-000001", "stort ze dan terug aan de Staat",
            "Dit document vernietigt de factuur niet: het bedrag blijft verschuldigd"]),
    ("en", ["VAT correction BE-VC-2026-000001", "repay it to the State",
            "This document does not cancel the invoice: its amount remains due"]),
])
def test_the_vat_correction_mail_asks_to_repay_the_vat_and_says_the_invoice_stays_due(
    language: str, words: list[str],
) -> None:
    invoice = sample_invoice("be-business")
    invoice = invoice.model_copy(update={"client": invoice.client.model_copy(
        update={"language": language})})
    write_off = WriteOff(case_id="c", written_off_on=date(2026, 9, 1), reason="lost",
                         lost=Decimal("1210.00"), lost_excl_vat=Decimal("1000.00"),
                         vat_recovered=Decimal("210.00"), vat_correction_number="BE-VC-2026-000001")
    mail = vat_correction_mail(invoice, write_off)
    # as the relay renders it: from the data the outbox keeps
    rendered = render(mail.template, mail.language, to_jsonable_python(mail.data), "BE")
    text = " ".join(f"{rendered.subject} {rendered.text}".split())
    for expected in words:
        assert expected in text
    assert [(a.kind, a.filename) for a in mail.attachments] == [
        ("vat_correction_pdf", "BE-VC-2026-000001.pdf")]
