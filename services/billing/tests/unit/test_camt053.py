from datetime import date
from decimal import Decimal

import pytest
from billing.domain.camt053 import UnreadableStatement, parse_statement

from .sample_statements import entry, statement


def test_credit_lines_are_read_with_amount_reference_and_payer() -> None:
    doc = statement("STMT-1", [
        entry("E1", Decimal("121.00"), "+++202/6000/00701+++"),
        entry("E2", Decimal("10.50"), None, unstructured="inv 202/6000/00701 thanks"),
        entry("E3", Decimal("99.00"), None, credit=False),
    ])
    parsed = parse_statement(doc)
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
    assert parse_statement(doc).lines[0].dedup_key == parse_statement(doc).lines[0].dedup_key
    assert "BANK-E1" in parse_statement(doc).lines[0].dedup_key


def test_a_wrong_reference_is_not_taken_for_a_match() -> None:
    doc = statement("S", [entry("E1", Decimal("1.00"), "+++202/6000/00702+++")])
    assert parse_statement(doc).lines[0].structured_reference is None


def test_dtds_and_entities_are_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
            b"<Document><BkToCstmrStmt/></Document>")
    with pytest.raises(UnreadableStatement, match="DTD"):
        parse_statement(bomb)


@pytest.mark.parametrize(
    "content", [b"not xml", b"<Document/>", b"<Other><BkToCstmrStmt/></Other>"]
)
def test_what_is_not_a_statement_is_refused(content: bytes) -> None:
    with pytest.raises(UnreadableStatement):
        parse_statement(content)


def test_an_amount_with_more_than_cents_is_refused() -> None:
    with pytest.raises(UnreadableStatement):
        parse_statement(statement("S", [entry("E1", Decimal("1.001"), None)]))
