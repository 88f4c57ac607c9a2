"""The client gets every reminder and the formal notice by e-mail, each letter as a PDF, in
their language, once (read back from a genuine Mailpit)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from babel.numbers import format_currency
from smart_shared.events import ReminderSent
from smart_shared.links import capability_ident
from smart_shared.testing import Mailpit, unique_name

from .conftest import Collection

pytestmark = pytest.mark.integration


async def test_each_reminder_and_the_formal_notice_reach_the_client_as_pdf_letters(
    collection: Collection, mailpit: Mailpit,
) -> None:
    email = f"{unique_name('boekhouding')}@example.be"
    invoice, overdue = collection.overdue(language="nl", email=email)
    await collection.send(overdue)
    await collection.opened(invoice.invoice_id)
    for offset in (7, 7, 21, 35):  # a second tick on the same day takes no step again
        await collection.advance_to(invoice.due_date + timedelta(days=offset))
    sent = await collection.wait_for(invoice.invoice_id, ReminderSent, count=3)
    claimed = next(r.total_claimed for r in sent if r.level == "formal_notice")

    mails = await mailpit.wait_for(email, count=3)
    assert sorted(m["Subject"] for m in mails) == sorted(
        f"{letter}: factuur {overdue.number}"
        for letter in ("Betalingsherinnering", "Tweede betalingsherinnering", "Ingebrekestelling"))
    notice = next(m for m in mails if m["Subject"].startswith("Ingebrekestelling"))
    message = await mailpit.message(notice["ID"])
    [letter] = message["Attachments"]
    assert letter["FileName"] == f"{overdue.number}-formal_notice.pdf"
    pdf = await mailpit.attachment(notice["ID"], letter["PartID"])
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    # the claim of the notice (with compensation and interest), as written in Dutch in Belgium
    assert format_currency(claimed.amount, "EUR", locale="nl_BE") in message["Text"]
    assert claimed.amount > invoice.total + 40
    # each letter leads to the invoice's page, where the client may ask for a payment plan
    [link] = re.findall(r"https?://\S+/invoice/(\S+)", message["Text"])
    assert capability_ident("invoice", link, collection.settings.link_secret) == \
        invoice.invoice_id
    assert len(await mailpit.messages(email)) == 3
