from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

import pytest
from billing.domain.camt053 import (
    BankStatement,
    UnreadableStatement,
    parse_statements,
)
from hypothesis import given
from hypothesis import strategies as st

from .sample_statements import (
    ARABIC_INDIC_121,
    BE_ACCOUNT,
    FR_ACCOUNT,
    FULLWIDTH_121,
    balance,
    document,
    entry,
    statement,
    stmt,
)


def only(content: bytes) -> BankStatement:
    (parsed,) = parse_statements(content).statements
    return parsed


def refusal(content: bytes) -> UnreadableStatement:
    with pytest.raises(UnreadableStatement) as refused:
        parse_statements(content)
    return refused.value


def test_credit_lines_are_read_with_amount_reference_and_payer() -> None:
    doc = statement("STMT-1", [
        entry("E1", Decimal("121.00"), "+++202/6000/00701+++"),
        entry("E2", Decimal("10.50"), None, unstructured="inv 202/6000/00701 thanks"),
        entry("E3", Decimal("99.00"), None, credit=False),
    ])
    parsed = only(doc)
    assert parsed.statement_id == "STMT-1" and parsed.account_iban == "BE68539007547034"
    first, second, third = parsed.lines
    assert (first.amount, first.currency, first.credit) == (Decimal("121.00"), "EUR", True)
    assert first.structured_reference == "+++202/6000/00701+++"
    assert first.booked_on == date(2026, 3, 2)
    assert first.payer_iban == "BE71096123456769" and first.payer_name == "Client SA"
    assert second.structured_reference == "+++202/6000/00701+++"
    assert not third.credit


def test_the_same_statement_gives_the_same_keys() -> None:
    doc = statement("STMT-1", [entry("E1", Decimal("1.00"), None)])
    assert only(doc).lines[0].dedup_key == only(doc).lines[0].dedup_key
    assert "BANK-E1" in only(doc).lines[0].dedup_key


def test_a_wrong_reference_is_not_taken_for_a_match() -> None:
    doc = statement("S", [entry("E1", Decimal("1.00"), "+++202/6000/00702+++")])
    assert only(doc).lines[0].structured_reference is None


def test_dtds_and_entities_are_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
            b"<Document><BkToCstmrStmt/></Document>")
    with pytest.raises(UnreadableStatement, match="DTD"):
        parse_statements(bomb)


@pytest.mark.parametrize(
    "content", [b"not xml", b"<Document/>", b"<Other><BkToCstmrStmt/></Other>",
                b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>']
)
def test_what_is_not_a_statement_is_refused(content: bytes) -> None:
    with pytest.raises(UnreadableStatement):
        parse_statements(content)


def test_an_amount_with_more_than_cents_is_refused() -> None:
    with pytest.raises(UnreadableStatement):
        parse_statements(statement("S", [entry("E1", Decimal("1.001"), None)]))


# --- reconciliation: an entry is the sum of its transactions ---------------------------------

def test_an_entry_of_ten_euros_whose_details_say_ninety_nine_thousand_is_refused() -> None:
    refused = refusal(statement("S", [
        entry("E1", Decimal("21.00"), None),
        entry("E2", "10.00", None, details=["99999.00", "88888.00"]),
    ]))
    assert refused.where == "Stmt[1]/Ntry[2]/Amt"
    assert "10.00 EUR is not the sum of its transaction details, 188887.00 EUR" in str(refused)
    assert "NtryRef E2" in str(refused)


@pytest.mark.parametrize("details_as", ["Amt", "AmtDtls"])
def test_a_batch_entry_is_booked_as_its_transactions(details_as: str) -> None:
    parsed = only(statement("S", [
        entry("E1", "150.00", "+++202/6000/00701+++", details=["100.00", "50.00"],
              details_as=details_as)]))
    assert [line.amount for line in parsed.lines] == [Decimal("100.00"), Decimal("50.00")]
    assert len({line.dedup_key for line in parsed.lines}) == 2


def test_a_batch_entry_with_a_transaction_without_amount_is_refused() -> None:
    doc = statement("S", [entry("E1", "150.00", None, details=["150.00"])]).replace(
        b"</NtryDtls>", b"<TxDtls/></NtryDtls>")
    refused = refusal(doc)
    assert refused.where == "Stmt[1]/Ntry[1]/NtryDtls[1]/TxDtls[2]"


def test_a_transaction_whose_two_amounts_disagree_is_refused() -> None:
    doc = statement("S", [entry("E1", "150.00", None, details=["150.00"])]).replace(
        b"<TxDtls>", b'<TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">15.00</Amt></TxAmt></AmtDtls>')
    assert "disagree" in str(refusal(doc))


# --- reconciliation: opening balance + credits - debits = closing balance --------------------

def test_balances_that_add_up_are_accepted() -> None:
    parsed = only(statement("S", [
        entry("E1", "121.00", None), entry("E2", "21.00", None, credit=False),
    ], balances=("1000.00", "1100.00")))
    assert len(parsed.lines) == 2


def test_balances_that_do_not_add_up_are_refused() -> None:
    refused = refusal(statement("S", [
        entry("E1", "121.00", None), entry("E2", "21.00", None, credit=False),
    ], balances=("1000.00", "1200.00")))
    assert refused.where == "Stmt[1]/Bal"
    assert "= 1100.00 EUR, but the closing balance CLBD is 1200.00 EUR" in str(refused)


def test_an_overdrawn_opening_balance_counts_below_zero() -> None:
    doc = document("M", [stmt("S", [entry("E1", "150.00", None)]).replace(
        "   <Ntry>", balance("PRCD", "50.00", credit=False) + balance("CLBD", "100.00")
        + "   <Ntry>", 1)])
    assert only(doc).lines[0].amount == Decimal("150.00")


def test_an_entry_the_bank_has_not_booked_counts_in_no_booked_balance() -> None:
    doc = statement("S", [entry("E1", "121.00", None), entry("E2", "5.00", None)],
                    balances=("0.00", "121.00")).replace(
        b"<Sts>BOOK</Sts>\n    <BookgDt><Dt>2026-03-02</Dt></BookgDt>\n    <ValDt><Dt>2026-03-02"
        b"</Dt></ValDt>\n    <AcctSvcrRef>BANK-E2", b"<Sts>PDNG</Sts>\n    <BookgDt><Dt>2026-"
        b"03-02</Dt></BookgDt>\n    <ValDt><Dt>2026-03-02</Dt></ValDt>\n    <AcctSvcrRef>BANK-E2")
    booked, pending = only(doc).lines
    assert not booked.pending and pending.pending


# --- several statements in one file ------------------------------------------------------------

def test_a_file_of_several_statements_gives_each_with_its_lines() -> None:
    parsed = parse_statements(document("MSG-1", [
        stmt("DAY-1", [entry("E1", "121.00", None)], balances=("0.00", "121.00")),
        stmt("DAY-2", [entry("E2", "21.00", None), entry("E3", "1.00", None)],
             balances=("121.00", "143.00")),
    ]))
    assert parsed.message_id == "MSG-MSG-1"
    assert [(s.statement_id, s.where, len(s.lines)) for s in parsed.statements] == [
        ("DAY-1", "Stmt[1]", 1), ("DAY-2", "Stmt[2]", 2)]


def test_each_statement_of_a_file_is_reconciled_on_its_own() -> None:
    refused = refusal(document("MSG-1", [
        stmt("DAY-1", [entry("E1", "121.00", None)], balances=("0.00", "121.00")),
        # right for the file as a whole, wrong for the second day
        stmt("DAY-2", [entry("E2", "21.00", None)], balances=("0.00", "21.00")),
        stmt("DAY-3", [entry("E3", "1.00", None)], balances=("142.00", "22.00")),
    ]))
    assert refused.where == "Stmt[3]/Bal"


def test_a_statement_without_an_iban_account_is_refused() -> None:
    doc = statement("S", [entry("E1", "1.00", None)]).replace(
        f"<IBAN>{BE_ACCOUNT}</IBAN>".encode(), b"<Othr><Id>123</Id></Othr>")
    assert refusal(doc).where == "Stmt[1]/Acct/Id/IBAN"


def test_the_account_is_read_without_spaces() -> None:
    spaced = "FR76 3000 6000 0112 3456 7890 189"
    assert only(statement("S", [entry("E1", "1.00", None)], account=spaced)).account_iban == (
        FR_ACCOUNT)


# --- namespaces ------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["02", "04", "08", "13"])
def test_the_camt053_versions_billing_reads_are_accepted(version: str) -> None:
    parsed = parse_statements(statement("S", [entry("E1", "1.00", None)], version=version))
    assert parsed.version == f"camt.053.001.{version}"


@pytest.mark.parametrize("namespace", [
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.01",
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.14",
    "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02",
    "urn:iso:std:iso:20022:tech:xsd:camt.052.001.08",
    "urn:example:camt.053.001.02",
])
def test_other_namespaces_are_refused(namespace: str) -> None:
    doc = statement("S", [entry("E1", "1.00", None)]).replace(
        b"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02", namespace.encode())
    refused = refusal(doc)
    assert refused.where == "Document" and namespace in str(refused)


def test_a_document_without_namespace_is_refused() -> None:
    doc = statement("S", [entry("E1", "1.00", None)]).replace(
        b' xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"', b"")
    assert "namespace 'none'" in str(refusal(doc))


# --- hostile amounts ---------------------------------------------------------------------------

@pytest.mark.parametrize("amount", [
    "1E+3", "1e999999999", "1E-999999999", "121.00e0", "9" * 30, "9" * 19, "1" * 16 + ".001",
    "\u0661\u0662\u0661\u066b\u0660\u0660", ARABIC_INDIC_121, FULLWIDTH_121, "121.00\u200f",
    "-5.00", "+5.00", "0.00", "NaN",
    "Infinity", "sNaN", "0x10", "1,00", "1 000.00", "12.", ".50", "", "1.000001",
])
def test_hostile_amounts_are_refused_naming_the_amount(amount: str) -> None:
    refused = refusal(statement("S", [entry("E1", amount, None)]))
    assert refused.where == "Stmt[1]/Ntry[1]/Amt", str(refused)


@pytest.mark.parametrize(("amount", "cents"), [
    ("121", "121.00"), ("121.5", "121.50"), ("121.50000", "121.50"), ("000121.00", "121.00"),
    (" 121.00\n", "121.00")])
def test_plain_amounts_are_read_in_cents(amount: str, cents: str) -> None:
    line = only(statement("S", [entry("E1", amount, None)])).lines[0]
    assert str(line.amount) == cents


def test_an_amount_without_currency_is_refused() -> None:
    doc = statement("S", [entry("E1", "1.00", None)]).replace(
        b'<Amt Ccy="EUR">1.00</Amt>', b"<Amt>1.00</Amt>")
    assert "Ccy" in str(refusal(doc))


@given(st.text(max_size=40))
def test_any_amount_text_is_read_exactly_or_refused(text: str) -> None:
    xml_safe = "".join(c for c in text if c in "\t\n\r" or (" " <= c <= "\ud7ff")
                       or ("\ue000" <= c <= "\ufffd"))
    doc = statement("S", [entry("E1", escape(xml_safe), None)])
    try:
        line = only(doc).lines[0]
    except UnreadableStatement:
        return
    assert line.amount == Decimal(xml_safe.strip(" \t\r\n")) and line.amount > 0
    assert all(c in "0123456789. \t\r\n" for c in xml_safe)


# --- identity of lines without a bank reference ----------------------------------------------

def test_a_line_without_bank_reference_is_known_by_its_content_under_any_statement_id() -> None:
    line = entry("E1", "121.00", None, unstructured="invoice 7", bank_reference=False)
    daily = only(statement("DAILY-0302", [line])).lines[0]
    monthly = only(statement("MONTHLY-03", [entry("E0", "5.00", None), line])).lines[1]
    assert daily.dedup_key == monthly.dedup_key
    assert daily.dedup_key.startswith(f"{BE_ACCOUNT}:content:")


@pytest.mark.parametrize("change", [
    {"amount": "121.01"}, {"booked": "2026-03-03"}, {"unstructured": "invoice 8"},
    {"payer_iban": "BE62510007547061"}, {"credit": False}, {"ref": "E2"},
])
def test_lines_that_differ_in_any_part_of_their_content_are_different_lines(
    change: dict[str, object],
) -> None:
    base: dict[str, object] = {"ref": "E1", "amount": "121.00", "reference": None,
                               "unstructured": "invoice 7", "bank_reference": False}
    first = only(statement("S", [entry(**base)]))  # type: ignore[arg-type]
    other = only(statement("S", [entry(**{**base, **change})]))  # type: ignore[arg-type]
    assert first.lines[0].dedup_key != other.lines[0].dedup_key


def test_two_identical_lines_in_one_statement_are_two_lines() -> None:
    line = entry("E1", "121.00", None, unstructured="invoice 7", bank_reference=False)
    first, second = only(statement("S", [line, line])).lines
    assert first.dedup_key.endswith(":1") and second.dedup_key.endswith(":2")
    assert first.dedup_key[:-2] == second.dedup_key[:-2]


def test_the_same_account_and_bank_reference_on_another_account_is_another_line() -> None:
    be = only(statement("S", [entry("E1", "1.00", None)])).lines[0]
    fr = only(statement("S", [entry("E1", "1.00", None)], account=FR_ACCOUNT)).lines[0]
    assert be.dedup_key != fr.dedup_key


# --- identifiers, names, accounts and dates -------------------------------------------------

def test_a_bank_reference_longer_than_iso_allows_is_refused() -> None:
    refused = refusal(statement("S", [entry("E" * 35, "1.00", None)]))
    assert refused.where == "Stmt[1]/Ntry[1]/AcctSvcrRef"


def test_a_remittance_line_longer_than_iso_allows_is_refused() -> None:
    refused = refusal(statement("S", [entry("E1", "1.00", None, unstructured="x" * 141)]))
    assert refused.where == "Stmt[1]/Ntry[1]/NtryDtls[1]/TxDtls[1]/RmtInf/Ustrd[1]"


def test_a_payer_account_that_is_not_an_iban_is_refused() -> None:
    refused = refusal(statement("S", [entry("E1", "1.00", None, payer_iban="BE71 0961!")]))
    assert refused.where == "Stmt[1]/Ntry[1]/NtryDtls[1]/TxDtls[1]/RltdPties/DbtrAcct/Id/IBAN"


@pytest.mark.parametrize("booked", ["20260302", "\uff12\uff10\uff12\uff16-03-02", "2026-02-30"])
def test_a_booking_date_that_is_not_an_iso_date_is_refused(booked: str) -> None:
    refused = refusal(statement("S", [entry("E1", "1.00", None, booked=booked)]))
    assert refused.where == "Stmt[1]/Ntry[1]/BookgDt"


def test_a_version_written_in_other_digits_is_refused() -> None:
    doc = statement("S", [entry("E1", "1.00", None)]).replace(
        b"camt.053.001.02", "camt.053.001.\u0660\u0662".encode())
    assert refusal(doc).where == "Document"
