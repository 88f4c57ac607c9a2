"""The bank's pain.002 status report: which transfer the bank accepted, which it rejected and
why (ISO 20022 pain.002.001.03 and .10), and hostile documents refused naming the element."""

from __future__ import annotations

import pytest
from payroll.domain.pain002 import UnreadableReport, parse_status_report

from .pain002_samples import status_report, transaction


@pytest.mark.parametrize("version", ["03", "10"])
@pytest.mark.parametrize("status", ["ACSC", "ACCP", "ACSP", "ACWC"])
def test_an_accepted_transfer_is_read_as_accepted_in_both_versions(version: str,
                                                                   status: str) -> None:
    report = parse_status_report(status_report("MSG-1", transaction("E2E1", status),
                                               version=version))
    assert report.version == f"pain.002.001.{version}"
    assert report.original_message_id == "MSG-1" and report.message_id == "BANK-RPT-1"
    [tx] = report.transactions
    assert (tx.end_to_end_id, tx.status, tx.outcome) == ("E2E1", status, "accepted")


def test_a_rejected_transfer_keeps_the_banks_reason_code_and_text() -> None:
    report = parse_status_report(status_report(
        "MSG-1", transaction("E2E1"), transaction("E2E2", "RJCT", "AC04", "Account closed")))
    accepted, rejected = report.transactions
    assert accepted.outcome == "accepted"
    assert rejected.outcome == "rejected"
    assert rejected.reason is not None
    assert (rejected.reason.code, rejected.reason.text) == ("AC04", "Account closed")
    assert rejected.reason.account_unusable


def test_a_rejection_without_text_is_explained_by_its_iso_reason_code() -> None:
    [rejected] = parse_status_report(status_report(
        "MSG-1", transaction("E2E2", "RJCT", "AM04"))).transactions
    assert rejected.reason is not None
    assert rejected.reason.text == "the funds on the paying account are insufficient"
    assert not rejected.reason.account_unusable  # the cooperative's side: paid again as is


def test_a_transaction_without_a_status_takes_its_blocks_then_the_groups() -> None:
    from_block = parse_status_report(status_report(
        "MSG-1", transaction("E2E1", None), block_status="RJCT", group_status="PART"))
    assert [t.status for t in from_block.transactions] == ["RJCT"]
    from_group = parse_status_report(status_report(
        "MSG-1", transaction("E2E1", None), transaction("E2E2", "RJCT", "AC01"),
        group_status="ACSC"))
    assert [(t.end_to_end_id, t.status) for t in from_group.transactions] == [
        ("E2E1", "ACSC"), ("E2E2", "RJCT")]


def test_a_group_status_alone_is_the_status_of_the_whole_file() -> None:
    report = parse_status_report(status_report(
        "MSG-1", group_status="RJCT",
        group_reason="<StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf>"))
    assert report.transactions == ()
    assert report.group_status == "RJCT"
    assert report.group_reason is not None and report.group_reason.code == "FF01"


def test_a_technical_acceptance_decides_nothing_yet() -> None:
    [tx] = parse_status_report(status_report("MSG-1", transaction("E2E1", "ACTC"))).transactions
    assert tx.outcome == "not_yet"


@pytest.mark.parametrize(("content", "where"), [
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
     b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">&b;</Document>',
     "report"),
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">&x;</Document>',
     "report"),
    # a DTD hidden from a byte search in another encoding
    ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY a "a">]><Document>&a;'
     '</Document>'.encode("utf-16"), "report"),
    (b"<Document><unclosed></Document>", "report"),
    (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>', "Document"),
    (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.05"/>', "Document"),
    (status_report("MSG-1", transaction("E2E1", "OKAY")),
     "CstmrPmtStsRpt/OrgnlPmtInfAndSts[1]/TxInfAndSts[1]/TxSts"),
    (status_report("MSG-1", transaction("E2E1", "ok")),
     "CstmrPmtStsRpt/OrgnlPmtInfAndSts[1]/TxInfAndSts[1]/TxSts"),
    (status_report("MSG-1", transaction("E2E1", None)),
     "CstmrPmtStsRpt/OrgnlPmtInfAndSts[1]/TxInfAndSts[1]/TxSts"),
    (status_report("MSG-1", transaction("X" * 36)),
     "CstmrPmtStsRpt/OrgnlPmtInfAndSts[1]/TxInfAndSts[1]/OrgnlEndToEndId"),
    (status_report("MSG-1", transaction("E2E1"), transaction("E2E1", "RJCT")),
     "CstmrPmtStsRpt/OrgnlPmtInfAndSts[1]/TxInfAndSts[2]/OrgnlEndToEndId"),
    (status_report("MSG-1", transaction("E2E1", "RJCT", "AC04", "closed\u202e")),
     "CstmrPmtStsRpt/OrgnlPmtInfAndSts[1]/TxInfAndSts[1]/StsRsnInf[1]/AddtlInf[1]"),
    (status_report("MSG-1", transaction("E2E1", "RJCT", "ACCOUNT CLOSED")),
     "CstmrPmtStsRpt/OrgnlPmtInfAndSts[1]/TxInfAndSts[1]/StsRsnInf[1]/Rsn/Cd"),
    (status_report("", transaction("E2E1")), "CstmrPmtStsRpt/OrgnlGrpInfAndSts/OrgnlMsgId"),
    (status_report("MSG-1"), "CstmrPmtStsRpt/OrgnlGrpInfAndSts/GrpSts"),
])
def test_a_hostile_or_broken_report_is_refused_naming_the_element(content: bytes,
                                                                  where: str) -> None:
    with pytest.raises(UnreadableReport) as refused:
        parse_status_report(content)
    assert refused.value.where == where
