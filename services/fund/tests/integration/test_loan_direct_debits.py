"""What payroll could not withhold is collected by SEPA direct debit: a pain.008 file of the
instalments still unpaid the pack's ten days after their due date, under each loan's mandate;
a debit the bank returned stays due, a collected one is booked once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import sepaxml
import xmlschema
from smart_shared.clock import SharedClock
from smart_shared.events import DirectDebitRequested, DirectDebitReturned, InstalmentPaid

from .conftest import Fund
from .test_loan_instalments import disbursed_loan, due, ledger_checks, pay_out_all

pytestmark = pytest.mark.integration

PAIN_008 = xmlschema.XMLSchema(Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd")
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}


async def collect(fund: Fund) -> dict[str, object]:
    response = await fund.http.post("/v1/loan-collections", json={}, headers=fund.token())
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_an_instalment_left_unpaid_is_debited_returned_then_collected_once(
        fund: Fund) -> None:
    loan = await disbursed_loan(fund, "900.00", 3)
    await pay_out_all(fund)
    clock = fund.service.platform.clock  # type: ignore[union-attr]
    assert isinstance(clock, SharedClock)
    await clock.advance(timedelta(days=32))
    first = await due(fund, loan, 1)

    too_soon = await fund.http.post("/v1/loan-collections", json={}, headers=fund.token())
    assert too_soon.status_code == 409, too_soon.text  # not yet ten days late

    await clock.advance(timedelta(days=10))
    file = await collect(fund)
    [debit] = file["debits"]  # type: ignore[misc]
    assert debit["loan_id"] == loan["loan_id"] and debit["number"] == 1
    assert Decimal(debit["amount"]["amount"]) == first.amount.amount
    [asked] = await fund.wire.wait_for(DirectDebitRequested, 1,
                                       where=lambda e: e.loan_id == loan["loan_id"])
    assert asked.collection_id == file["collection_id"] and asked.mandate_id == debit["mandate_id"]
    again = await fund.http.post("/v1/loan-collections", json={}, headers=fund.token())
    assert again.status_code == 409, again.text  # the instalment is in a file already

    xml = await fund.http.get(str(file["file"]), headers=fund.token())
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    PAIN_008.validate(xml.text)
    document = ET.fromstring(xml.content)
    info = document.find("p:CstmrDrctDbtInitn/p:PmtInf", NS)
    assert info is not None
    assert info.findtext("p:PmtTpInf/p:LclInstrm/p:Cd", namespaces=NS) == "CORE"
    assert info.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS) == "FRST"
    assert info.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == "BE68539007547034"
    assert info.findtext("p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id",
                         namespaces=NS) == "BE54ZZZ0000000097"
    tx = info.find("p:DrctDbtTxInf", NS)
    assert tx is not None
    assert tx.findtext("p:InstdAmt", namespaces=NS) == str(first.amount.amount)
    assert tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=NS) == debit["mandate_id"]
    assert tx.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == "BE71096123456769"
    assert tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS) == debit["end_to_end_id"]

    url = f"/v1/loan-collections/{file['collection_id']}/confirmation"
    unknown = await fund.http.post(url, json={"returned": [
        {"loan_id": "not-in-the-file", "number": 1}]}, headers=fund.token())
    assert unknown.status_code == 400 and "returned[0]" in unknown.text
    returned = await fund.http.post(url, json={"returned": [
        {"loan_id": loan["loan_id"], "number": 1, "code": "AM04"}]}, headers=fund.token())
    assert returned.status_code == 200, returned.text
    [back] = await fund.wire.wait_for(DirectDebitReturned, 1,
                                      where=lambda e: e.loan_id == loan["loan_id"])
    assert back.code == "AM04" and back.amount.amount == first.amount.amount
    assert not [e for e in fund.wire.events(InstalmentPaid) if e.loan_id == loan["loan_id"]]
    twice = await fund.http.post(url, json={}, headers=fund.token())
    assert twice.status_code == 409, twice.text

    retry = await collect(fund)
    xml = await fund.http.get(str(retry["file"]), headers=fund.token())
    PAIN_008.validate(xml.text)
    assert b"<SeqTp>RCUR</SeqTp>" in xml.content  # the mandate was used once already
    confirmed = await fund.http.post(f"/v1/loan-collections/{retry['collection_id']}/confirmation",
                                     json={}, headers=fund.token())
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["debits"][0]["outcome"] == "collected"
    [paid] = await fund.wire.wait_for(InstalmentPaid, 1,
                                      where=lambda e: e.loan_id == loan["loan_id"])
    assert paid.collection_id == retry["collection_id"] and paid.salary_id is None
    assert paid.amount.amount == first.amount.amount
    assert paid.instalment_outstanding.amount == Decimal("0.00")
    shown = (await fund.http.get(f"/v1/loans/{loan['loan_id']}", headers=fund.token())).json()
    assert Decimal(shown["schedule"][0]["paid"]) == first.amount.amount
    await ledger_checks(fund)
