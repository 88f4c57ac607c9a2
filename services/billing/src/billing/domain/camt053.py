"""ISO 20022 camt.053 bank-to-customer statements: the credit lines billing matches.

Read with ``smart_shared.xml`` (no DTD, no entity: a statement cannot expand entities or reach
outside the document). A file is accepted whole or not at all: every entry must add up to its
transaction details, and every statement's opening balance plus its booked entries to its
closing balance, before a single line is booked.

Versions camt.053.001.02 to camt.053.001.13 are read: the elements billing needs (Stmt/Id,
Acct/Id/IBAN, Bal, Ntry/Amt, CdtDbtInd, RvslInd, Sts, BookgDt, AcctSvcrRef, NtryRef,
NtryDtls/TxDtls with Amt or AmtDtls/TxAmt/Amt, Refs, RltdPties, RmtInf) sit at the same place
in all of them; the party name moved under Pty in .08 and the status under Cd in .09, and both
forms are read.
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from smart_shared.text import clean
from smart_shared.xml import UnreadableXml, parse_untrusted
from smart_shared.xml import child as _child
from smart_shared.xml import children as _children
from smart_shared.xml import text as _text

from billing.domain.structured_reference import find_reference

_NAMESPACE = re.compile(r"\{urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.([0-9]{2})\}Document")
SUPPORTED_VERSIONS = range(2, 14)
"""camt.053.001.02 … camt.053.001.13: the versions whose structure the parser reads."""

# ASCII digits only: \d would also take Arabic-Indic or fullwidth digits for 0-9
_AMOUNT = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}")  # ISO 20022 IBAN2007Identifier
IDENTIFIER_LENGTH = 35
"""ISO 20022 Max35Text: statement and message ids, bank and entry references, communications."""
TEXT_LENGTH = 140
"""ISO 20022 Max140Text: party names and each line of unstructured remittance information."""
_XML_SPACE = " \t\r\n"
AMOUNT_DIGITS = 18
"""ISO 20022 ActiveOrHistoricCurrencyAndAmount: totalDigits 18 …"""
AMOUNT_FRACTION_DIGITS = 5
"""… and fractionDigits 5; the currency then allows fewer (EUR: cents)."""
# ISO 4217 minor units where they are not 2 (the platform books EUR, in cents)
_MINOR_UNITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                     "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
OPENING_BALANCES = ("OPBD", "PRCD")
"""Opening booked, else the previous statement's closing booked balance."""
CLOSING_BALANCE = "CLBD"
"""Closing booked: what the booked entries must lead to (CLAV, the available balance, also
counts value dating and credit lines, so it is not reconciled with the entries)."""


class UnreadableStatement(ValueError):
    """Not a camt.053 statement billing can book; ``where`` names the failing element."""

    def __init__(self, message: str, where: str = "statement") -> None:
        super().__init__(message)
        self.where = where


@dataclass(frozen=True)
class StatementLine:
    """One credit or debit on the account, as the bank booked it (or has not yet, when
    ``pending``)."""

    dedup_key: str
    amount: Decimal
    currency: str
    credit: bool
    booked_on: date
    payer_name: str | None
    payer_iban: str | None
    remittance: str | None
    structured_reference: str | None
    pending: bool = False


@dataclass(frozen=True)
class BankStatement:
    """One ``Stmt``: the statement of one account, its lines reconciled with its entries."""

    statement_id: str
    account_iban: str | None
    lines: tuple[StatementLine, ...]
    where: str = "Stmt[1]"


@dataclass(frozen=True)
class StatementFile:
    """A camt.053 document: its message id and its statements (one or more ``Stmt``)."""

    message_id: str | None
    version: str
    statements: tuple[BankStatement, ...]


def _bounded(element: ET.Element, where: str, *path: str,
             limit: int = IDENTIFIER_LENGTH) -> str | None:
    value = _text(element, *path)
    if value is None:
        return None
    try:
        value = clean(value)  # the platform's text policy: a payer name travels into events
    except ValueError as error:
        raise UnreadableStatement(str(error), "/".join((where, *path))) from None
    if len(value) > limit:
        raise UnreadableStatement(f"is longer than {limit} characters", "/".join((where, *path)))
    return value


def _iban_at(element: ET.Element, where: str, *path: str) -> str | None:
    raw = _text(element, *path)
    if raw is None:
        return None
    iban = "".join(raw.split()).upper()
    if not _IBAN.fullmatch(iban):
        raise UnreadableStatement(f"{raw[:40]!r} is not an IBAN", "/".join((where, *path)))
    return iban


def _amount(element: ET.Element, where: str, positive: bool = True) -> tuple[Decimal, str]:
    """An ISO 20022 amount in its currency's minor units: digits 0-9 with at most one decimal
    point, no sign, no exponent, at most 18 digits of which at most 5 after the point."""
    text = (element.text or "").strip(_XML_SPACE)
    shape = _AMOUNT.fullmatch(text)
    if shape is None:
        raise UnreadableStatement(
            f"{text[:40]!r} is not an amount (digits 0-9 and a decimal point; no sign, "
            "no exponent)", where)
    units, fraction = shape.group(1), shape.group(2) or ""
    if len(units) + len(fraction) > AMOUNT_DIGITS or len(fraction) > AMOUNT_FRACTION_DIGITS:
        raise UnreadableStatement(
            f"{text[:40]!r} has more than {AMOUNT_DIGITS} digits or more than "
            f"{AMOUNT_FRACTION_DIGITS} after the decimal point", where)
    currency = element.get("Ccy") or ""
    if not _CURRENCY.fullmatch(currency):
        raise UnreadableStatement(f"the amount has no ISO 4217 currency (Ccy) but "
                                  f"{currency[:10]!r}", where)
    step = Decimal(1).scaleb(-_MINOR_UNITS.get(currency, 2))
    value = Decimal(text)
    if value != value.quantize(step):
        raise UnreadableStatement(f"{text!r} is more precise than {currency} allows", where)
    if positive and value <= 0:
        raise UnreadableStatement(f"{text!r} is not a positive amount", where)
    return value.quantize(step), currency


def _required_amount(element: ET.Element, where: str, positive: bool = True
                     ) -> tuple[Decimal, str]:
    found = _child(element, "Amt")
    if found is None:
        raise UnreadableStatement("has no amount (Amt)", where)
    return _amount(found, f"{where}/Amt", positive)


def _direction(element: ET.Element, where: str) -> str:
    indicator = _text(element, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise UnreadableStatement("has no CdtDbtInd CRDT or DBIT", f"{where}/CdtDbtInd")
    return indicator


def _booked_on(entry: ET.Element, where: str) -> date:
    raw = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm") \
        or _text(entry, "ValDt", "Dt")
    if not raw:
        raise UnreadableStatement("has no booking date (BookgDt)", where)
    try:
        if not _DATE.fullmatch(raw[:10]):
            raise ValueError(raw)
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise UnreadableStatement(f"booking date {raw[:40]!r} is not a date",
                                  f"{where}/BookgDt") from None


def parse_document(content: bytes) -> ET.Element:
    """The root element of an XML document without DTD or entities (refused, never expanded)."""
    try:
        return parse_untrusted(content)
    except UnreadableXml as error:
        raise UnreadableStatement(str(error)) from None


def camt053_version(root: ET.Element) -> str:
    """The camt.053 version of the document (``camt.053.001.08``), if billing reads it."""
    declared = _NAMESPACE.fullmatch(root.tag)
    if declared is None or int(declared.group(1)) not in SUPPORTED_VERSIONS:
        namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else "none"
        raise UnreadableStatement(
            f"namespace {namespace[:80]!r} is not camt.053.001.02 to camt.053.001.13 "
            "(urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN Document)", "Document")
    return f"camt.053.001.{declared.group(1)}"


def parse_statements(content: bytes) -> StatementFile:
    """Every statement of the file, each reconciled; debit lines are kept (marked) so a
    report can show them. Raises ``UnreadableStatement`` naming the first element at fault."""
    root = parse_document(content)
    version = camt053_version(root)
    report = _child(root, "BkToCstmrStmt")
    statements = _children(report, "Stmt")
    if not statements:
        raise UnreadableStatement("not a camt.053 document (Document/BkToCstmrStmt/Stmt)",
                                  "BkToCstmrStmt")
    return StatementFile(
        message_id=_bounded(report, "BkToCstmrStmt", "GrpHdr", "MsgId")
        if report is not None else None,
        version=version,
        statements=tuple(_statement(stmt, f"Stmt[{n}]")
                         for n, stmt in enumerate(statements, start=1)),
    )


def _statement(statement: ET.Element, where: str) -> BankStatement:
    statement_id = _bounded(statement, where, "Id")
    if not statement_id:
        raise UnreadableStatement("the statement has no Id", f"{where}/Id")
    account = _iban_at(statement, where, "Acct", "Id", "IBAN")
    if not account:
        raise UnreadableStatement("the statement names no IBAN account", f"{where}/Acct/Id/IBAN")
    lines: list[StatementLine] = []
    booked: list[tuple[Decimal, str, str]] = []
    for index, entry in enumerate(_children(statement, "Ntry"), start=1):
        entry_lines, movement = _entry(entry, account, f"{where}/Ntry[{index}]")
        lines.extend(entry_lines)
        if movement is not None:
            booked.append(movement)
    _reconcile_balances(statement, where, booked)
    return BankStatement(statement_id, account, tuple(_numbered(lines)), where)


def _balances(statement: ET.Element, where: str) -> dict[str, tuple[Decimal, str]]:
    """The statement's balances by type code, signed (a DBIT balance is below zero)."""
    found: dict[str, tuple[Decimal, str]] = {}
    for index, balance in enumerate(_children(statement, "Bal"), start=1):
        at = f"{where}/Bal[{index}]"
        code = _text(balance, "Tp", "CdOrPrtry", "Cd")
        if code not in (*OPENING_BALANCES, CLOSING_BALANCE):
            continue
        if code in found:
            raise UnreadableStatement(f"the statement has two {code} balances", at)
        amount, currency = _required_amount(balance, at, positive=False)
        found[code] = (-amount if _direction(balance, at) == "DBIT" else amount, currency)
    return found


def _reconcile_balances(statement: ET.Element, where: str,
                        booked: list[tuple[Decimal, str, str]]) -> None:
    """Opening balance + credits - debits must be the closing balance, when both are given."""
    balances = _balances(statement, where)
    opening_code = next((code for code in OPENING_BALANCES if code in balances), None)
    if opening_code is None or CLOSING_BALANCE not in balances:
        return
    (opening, currency), (closing, closing_currency) = (balances[opening_code],
                                                         balances[CLOSING_BALANCE])
    if closing_currency != currency:
        raise UnreadableStatement(f"the {opening_code} balance is in {currency}, the "
                                  f"{CLOSING_BALANCE} balance in {closing_currency}",
                                  f"{where}/Bal")
    credits = debits = Decimal("0")
    for amount, entry_currency, at in booked:
        if entry_currency != currency:
            raise UnreadableStatement(f"the entry is in {entry_currency}, the statement's "
                                      f"balances in {currency}", f"{at}/Amt")
        credits, debits = (credits + amount, debits) if amount > 0 else (credits, debits - amount)
    if opening + credits - debits != closing:
        raise UnreadableStatement(
            f"opening balance {opening_code} {opening} + credits {credits} - debits {debits} "
            f"= {opening + credits - debits} {currency}, but the closing balance "
            f"{CLOSING_BALANCE} is {closing} {currency}", f"{where}/Bal")


def _pending(entry: ET.Element) -> bool:
    status = _text(entry, "Sts", "Cd") or _text(entry, "Sts")
    return status is not None and status != "BOOK"


@dataclass(frozen=True)
class _Detail:
    element: ET.Element
    where: str
    amount: Decimal
    credit: bool


def _details(entry: ET.Element, where: str, amount: Decimal, currency: str,
             indicator: str) -> list[_Detail]:
    """The entry's transaction details, whose amounts must add up to the entry's amount."""
    details = [(f"{where}/NtryDtls[{d}]/TxDtls[{t}]", tx)
               for d, dtls in enumerate(_children(entry, "NtryDtls"), start=1)
               for t, tx in enumerate(_children(dtls, "TxDtls"), start=1)]
    if not details:
        return [_Detail(entry, where, amount, indicator == "CRDT")]
    found: list[_Detail] = []
    total = Decimal("0")
    for at, tx in details:
        own = _detail_amount(tx, at)
        if own is None:
            if len(details) > 1:
                raise UnreadableStatement("one of several transaction details has no amount "
                                          "(Amt or AmtDtls/TxAmt/Amt)", at)
            own = amount, currency
        if own[1] != currency:
            raise UnreadableStatement(f"the transaction is in {own[1]}, its entry in {currency}",
                                      f"{at}/Amt")
        own_indicator = _direction(tx, at) if _child(tx, "CdtDbtInd") is not None else indicator
        total += own[0] if own_indicator == indicator else -own[0]
        found.append(_Detail(tx, at, own[0], own_indicator == "CRDT"))
    if total != amount:
        raise UnreadableStatement(
            f"the entry's amount {amount} {currency} is not the sum of its transaction "
            f"details, {total} {currency}{_entry_named(entry)}", f"{where}/Amt")
    return found


def _detail_amount(tx: ET.Element, where: str) -> tuple[Decimal, str] | None:
    """A transaction's amount (TxDtls/Amt, or AmtDtls/TxAmt/Amt in camt.053.001.02); when
    both are given they must agree."""
    amounts = [(_amount(found, f"{where}/{path}"), path)
               for path, found in (("Amt", _child(tx, "Amt")),
                                   ("AmtDtls/TxAmt/Amt", _child(tx, "AmtDtls", "TxAmt", "Amt")))
               if found is not None]
    if len(amounts) == 2 and amounts[0][0] != amounts[1][0]:
        raise UnreadableStatement("Amt and AmtDtls/TxAmt/Amt disagree", where)
    return amounts[0][0] if amounts else None


def _entry_named(entry: ET.Element) -> str:
    refs = [f"{name} {value[:35]}" for name in ("AcctSvcrRef", "NtryRef")
            if (value := _text(entry, name))]
    return f" (entry {', '.join(refs)})" if refs else ""


def _entry(entry: ET.Element, account: str, where: str
           ) -> tuple[list[StatementLine], tuple[Decimal, str, str] | None]:
    """The lines of one entry, and its movement on the booked balance (none when pending)."""
    amount, currency = _required_amount(entry, where)
    indicator = _direction(entry, where)
    booked_on = _booked_on(entry, where)
    pending = _pending(entry)
    reversal = _text(entry, "RvslInd") == "true"
    bank_ref = _bounded(entry, where, "AcctSvcrRef")
    entry_ref = _bounded(entry, where, "NtryRef")
    details = _details(entry, where, amount, currency, indicator)
    lines = []
    for position, detail in enumerate(details, start=1):
        tx, at = detail.element, detail.where
        own_ref = _bounded(tx, at, "Refs", "AcctSvcrRef") if tx is not entry else None
        structured = _bounded(tx, at, "RmtInf", "Strd", "CdtrRefInf", "Ref")
        unstructured = _unstructured(tx, at)
        payer_iban = _iban_at(tx, at, "RltdPties", "DbtrAcct", "Id", "IBAN")
        counterparty = payer_iban if detail.credit else _iban_at(
            tx, at, "RltdPties", "CdtrAcct", "Id", "IBAN")
        if own_ref:
            key = f"{account}:ref:{own_ref}"
        elif bank_ref:
            key = f"{account}:ref:{bank_ref}" + (f":{position}" if len(details) > 1 else "")
        else:
            key = f"{account}:content:" + _content_digest(
                account, booked_on, detail.amount, currency, detail.credit, counterparty,
                structured, unstructured, entry_ref)
        lines.append(StatementLine(
            dedup_key=key,
            amount=detail.amount,
            currency=currency,
            # a reversal undoes an earlier booking: never a client payment
            credit=detail.credit and not reversal,
            booked_on=booked_on,
            payer_name=_bounded(tx, at, "RltdPties", "Dbtr", "Nm", limit=TEXT_LENGTH)
            or _bounded(tx, at, "RltdPties", "Dbtr", "Pty", "Nm", limit=TEXT_LENGTH),
            payer_iban=payer_iban,
            remittance=structured or unstructured,
            structured_reference=find_reference(structured) or find_reference(unstructured),
            pending=pending,
        ))
    movement = None if pending else (amount if indicator == "CRDT" else -amount, currency, where)
    return lines, movement


def _unstructured(tx: ET.Element, where: str) -> str | None:
    lines = []
    for index, line in enumerate(_children(_child(tx, "RmtInf"), "Ustrd"), start=1):
        text = " ".join((line.text or "").split())
        if len(text) > TEXT_LENGTH:
            raise UnreadableStatement(f"is longer than {TEXT_LENGTH} characters",
                                      f"{where}/RmtInf/Ustrd[{index}]")
        lines.append(text)
    return " ".join(line for line in lines if line) or None


def _content_digest(account: str, booked_on: date, amount: Decimal, currency: str,
                    credit: bool, counterparty: str | None, structured: str | None,
                    unstructured: str | None, entry_ref: str | None) -> str:
    """What identifies a line the bank gave no reference: the same line in an overlapping
    statement (daily and monthly) has the same digest."""
    content = [account, booked_on.isoformat(), str(amount), currency,
               "CRDT" if credit else "DBIT", counterparty, structured, unstructured, entry_ref]
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:32]


def _numbered(lines: list[StatementLine]) -> list[StatementLine]:
    """Lines identified by their content get their occurrence within the statement, so two
    genuinely identical lines are two payments, and the same two again are recognised."""
    seen: Counter[str] = Counter()
    numbered = []
    for line in lines:
        if line.dedup_key.split(":", 2)[1] == "content":  # account:content:digest
            seen[line.dedup_key] += 1
            line = replace(line, dedup_key=f"{line.dedup_key}:{seen[line.dedup_key]}")
        numbered.append(line)
    return numbered
