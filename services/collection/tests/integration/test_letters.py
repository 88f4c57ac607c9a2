"""The client gets every reminder and the formal notice by e-mail, each letter as a PDF, in
their language, once (read back from a genuine Mailpit)."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest
from babel.dates import format_date
from babel.numbers import format_currency
from collection.jobs import waiting_for_staff
from pypdf import PdfReader
from smart_shared.events import ReminderSent
from smart_shared.links import capability_ident, capability_token
from smart_shared.mongo import UnitOfWork
from smart_testing import Mailpit, eventually, unique_name

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


async def to_post(collection: Collection) -> int:
    assert collection.service.platform is not None

    async def counts(uow: UnitOfWork) -> dict[str, int]:
        return await waiting_for_staff(uow, "BE", collection.today())

    return (await collection.service.platform.database.transaction(counts))["letters_to_post"]


def pdf_text(pdf: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


async def test_art_xix_2_the_free_first_reminder_mail_carries_its_pdf_with_the_14_day_deadline(
    collection: Collection, mailpit: Mailpit,
) -> None:
    email = f"{unique_name('jo')}@example.be"
    invoice, overdue = collection.overdue(kind="consumer", language="nl", email=email,
                                          total="120.00")
    await collection.send(overdue)
    await collection.opened(invoice.invoice_id)
    sent_on = invoice.due_date + timedelta(days=7)
    await collection.advance_to(sent_on)
    [mail] = await mailpit.wait_for(email, count=1)
    assert mail["Subject"] == f"Betalingsherinnering: factuur {overdue.number}"
    message = await mailpit.message(mail["ID"])
    [attached] = message["Attachments"]
    pdf = await mailpit.attachment(mail["ID"], attached["PartID"])
    text = pdf_text(pdf)
    # e-mailed: the term starts the next calendar day and lasts 14 days
    deadline = format_date(sent_on + timedelta(days=14), format="long", locale="nl_BE")
    assert f"Uiterste betaaldatum: {deadline}" in text
    assert f"Uiterste betaaldatum: {deadline}" in message["Text"]
    assert "kosteloos" in text and "Ondernemingsnummer 0896.755.397" in text
    assert "€ 20,00" in text  # the damages that may follow on a balance up to €150

    # the staff download and the client's link serve the very bytes that were mailed
    async with collection.http() as http:
        case = (await http.get("/v1/cases", headers=collection.headers())).json()["items"]
        case_id = next(c["case_id"] for c in case if c["invoice_id"] == invoice.invoice_id)
        staff = await http.get(f"/v1/cases/{case_id}/letters/reminder_1",
                               headers=collection.headers())
        token = capability_token("invoice", invoice.invoice_id, collection.settings.link_secret)
        linked = await http.post("/v1/letter-documents/",
                                 json={"token": token, "level": "reminder_1"})
        wrong = await http.post("/v1/letter-documents/",
                                json={"token": token[:-2] + "xx", "level": "reminder_1"})
        view = (await http.get(f"/v1/cases/{case_id}", headers=collection.headers())).json()
    assert staff.status_code == 200 and staff.headers["content-type"] == "application/pdf"
    assert staff.content == pdf == linked.content
    assert staff.headers["etag"] == f'"{hashlib.sha256(pdf).hexdigest()}"'
    assert wrong.status_code == 404
    assert view["letters"] == [{
        "level": "reminder_1", "sent_on": sent_on.isoformat(), "channel": "email",
        "pay_by": (sent_on + timedelta(days=14)).isoformat(), "posting": None,
        "posted_on": None}]


async def test_a_letter_to_a_client_without_an_email_address_waits_to_be_posted(
    collection: Collection, mailpit: Mailpit,
) -> None:
    invoice, overdue = collection.overdue(kind="consumer", language="fr", email="")
    await collection.send(overdue)
    opened = await collection.opened(invoice.invoice_id)
    await collection.advance_to(invoice.due_date + timedelta(days=7))

    async def reminded() -> dict[str, object] | None:
        case = await collection.case_of(invoice.invoice_id)
        return case if case and case.get("level") == "reminder_1" else None

    await eventually(reminded)
    assert await to_post(collection) == 1  # the staff digest names it
    async with collection.http() as http:
        path = f"/v1/cases/{opened['_id']}"
        [letter] = (await http.get(path, headers=collection.headers())).json()["letters"]
        pdf = await http.get(f"{path}/letters/reminder_1", headers=collection.headers())
        posted = await http.post(f"{path}/letters/reminder_1/posted",
                                 headers=collection.headers())
        again = await http.post(f"{path}/letters/reminder_1/posted",
                                headers=collection.headers())
        member = await http.post(f"{path}/letters/reminder_1/posted", headers=collection.headers(
            "member", member_id=invoice.member_id))
    assert letter["channel"] == "post" and letter["posting"] == "to_be_posted"
    assert "Rue Haute 1, 1000 Bruxelles, BE" in pdf_text(pdf.content)
    assert posted.status_code == 200
    assert posted.json()["letters"][0]["posting"] == "posted"
    assert again.status_code == 409 and member.status_code == 403
    assert await to_post(collection) == 0
