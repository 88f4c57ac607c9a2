"""ISO 20022 camt.053 bank-to-customer statements: the credit lines billing matches.

Read with the standard library parser after refusing any DTD or entity declaration, so a
statement cannot expand entities or reach outside the document.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from billing.domain.structured_reference import find_reference

_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class UnreadableStatement(ValueError):
    """Not a camt.053 statement billing can book."""


@dataclass(frozen=True)
class StatementLine:
    """One credit or debit on the account, as the bank booked it."""

    dedup_key: str
    amount: Decimal
    currency: str
    credit: bool
    booked_on: date
    payer_name: str | None
    payer_iban: str | None
    remittance: str | None
    structured_reference: str | None


@dataclass(frozen=True)
class BankStatement:
    statement_id: str
    account_iban: str | None
    lines: tuple[StatementLine, ...]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element | None, *path: str) -> ET.Element | None:
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if _local(c.tag) == name), None)
    return element


def _children(element: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if element is None else [c for c in element if _local(c.tag) == name]


def _text(element: ET.Element | None, *path: str) -> str | None:
    found = _child(element, *path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _amount(element: ET.Element | None) -> tuple[Decimal, str] | None:
    if element is None or not element.text:
        return None
    try:
        value = Decimal(element.text.strip())
    except InvalidOperation:
        raise UnreadableStatement(f"amount {element.text!r} is not a decimal") from None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise UnreadableStatement(f"amount {element.text!r} is not a positive amount in cents")
    return value.quantize(Decimal("0.01")), element.get("Ccy", "EUR")


def _booked_on(entry: ET.Element) -> date:
    raw = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm") \
        or _text(entry, "ValDt", "Dt")
    if not raw:
        raise UnreadableStatement("an entry has no booking date")
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise UnreadableStatement(f"booking date {raw!r} is not a date") from None


def parse_document(content: bytes) -> ET.Element:
    """The root element of an XML document without DTD or entities (refused, never expanded)."""
    if _FORBIDDEN.search(content):
        raise UnreadableStatement("DTDs and entity declarations are not accepted")
    try:
        return ET.fromstring(content)
    except ET.ParseError as error:
        raise UnreadableStatement(f"not well-formed XML: {error}") from None


def parse_statement(content: bytes) -> BankStatement:
    """The statement and its lines; debit lines are kept (marked) so a report can show them."""
    root = parse_document(content)
    statements = _children(_child(root, "BkToCstmrStmt"), "Stmt")
    if _local(root.tag) != "Document" or not statements:
        raise UnreadableStatement("not a camt.053 document (Document/BkToCstmrStmt/Stmt)")
    if len(statements) > 1:
        raise UnreadableStatement("one statement per file, please")
    statement = statements[0]
    statement_id = _text(statement, "Id")
    if not statement_id:
        raise UnreadableStatement("the statement has no Id")
    account = _text(statement, "Acct", "Id", "IBAN")
    lines: list[StatementLine] = []
    for index, entry in enumerate(_children(statement, "Ntry"), start=1):
        lines.extend(_entry_lines(entry, account or "-", f"{statement_id}:{index}"))
    return BankStatement(statement_id, account, tuple(lines))


def _entry_lines(entry: ET.Element, account: str, fallback_key: str) -> list[StatementLine]:
    """The lines of one entry, keyed by the bank's own references so a re-import is seen."""
    amount = _amount(_child(entry, "Amt"))
    if amount is None:
        raise UnreadableStatement("an entry has no amount")
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise UnreadableStatement("an entry has no CdtDbtInd CRDT/DBIT")
    if _text(entry, "RvslInd") == "true":
        indicator = "DBIT"  # a reversal takes money back: never a client payment
    booked_on = _booked_on(entry)
    entry_ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    details = [tx for dtls in _children(entry, "NtryDtls") for tx in _children(dtls, "TxDtls")]
    if not details:
        details = [entry]
    lines = []
    for position, tx in enumerate(details, start=1):
        own = _amount(_child(tx, "Amt")) or _amount(_child(tx, "AmtDtls", "TxAmt", "Amt"))
        value, currency = own if own and len(details) > 1 else amount
        tx_ref = _text(tx, "Refs", "AcctSvcrRef") if tx is not entry else None
        own_key = tx_ref or f"{entry_ref or fallback_key}:{position}"
        key = f"{account}:{own_key}"
        structured = _text(tx, "RmtInf", "Strd", "CdtrRefInf", "Ref")
        unstructured = " ".join(
            u.text.strip() for u in _children(_child(tx, "RmtInf"), "Ustrd") if u.text
        ) or None
        lines.append(StatementLine(
            dedup_key=key,
            amount=value,
            currency=currency,
            credit=indicator == "CRDT",
            booked_on=booked_on,
            payer_name=_text(tx, "RltdPties", "Dbtr", "Nm")
            or _text(tx, "RltdPties", "Dbtr", "Pty", "Nm"),
            payer_iban=_text(tx, "RltdPties", "DbtrAcct", "Id", "IBAN"),
            remittance=structured or unstructured,
            structured_reference=find_reference(structured) or find_reference(unstructured),
        ))
    return lines
