"""ISO 20022 pain.002 customer payment status reports: what the bank did with a payment run.

Read with ``smart_shared.xml`` (no DTD, no entity). Versions pain.002.001.03 and
pain.002.001.10 are read: the elements payroll needs sit at the same place in both
(GrpHdr/MsgId; OrgnlGrpInfAndSts with OrgnlMsgId, GrpSts and StsRsnInf; OrgnlPmtInfAndSts with
OrgnlPmtInfId, PmtInfSts, StsRsnInf and TxInfAndSts with OrgnlEndToEndId, TxSts, StsRsnInf).

A transaction without a status of its own takes its payment information's status, else the
group's. Status codes are ISO 20022 ExternalPaymentTransactionStatus1Code and
ExternalPaymentGroupStatus1Code: ACCP, ACSP, ACSC, ACWC, ACCC and ACWP mean the bank accepted
the transfer for payment; RJCT that it refused it; RCVD, ACTC (technical validation only), PDNG
and PART (a group partly accepted: each transaction's own status says which) decide nothing yet.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Literal

from smart_shared.text import clean
from smart_shared.xml import UnreadableXml, child, children, namespace, parse_untrusted, text

SUPPORTED_VERSIONS = ("03", "10")
"""pain.002.001.03 and pain.002.001.10: the versions banks send for SEPA credit transfers."""
ACCEPTED = frozenset({"ACCP", "ACSP", "ACSC", "ACWC", "ACCC", "ACWP"})
REJECTED = "RJCT"
NOT_YET = frozenset({"RCVD", "ACTC", "PDNG", "PART"})
IDENTIFIER_LENGTH = 35
"""ISO 20022 Max35Text: message, payment information and end-to-end ids."""
ADDITIONAL_INFORMATION_LENGTH = 105
"""ISO 20022 Max105Text: each AddtlInf line of a status reason."""
_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:pain\.002\.001\.([0-9]{2})")
_STATUS = re.compile(r"[A-Z]{4}")
_REASON = re.compile(r"[A-Z0-9]{1,4}")
_PROPRIETARY_REASON_LENGTH = 35

# ISO 20022 ExternalStatusReason1Code, in words, for a reason the bank gave no text for
REASONS = {
    "AC01": "the account number is incorrect",
    "AC03": "the creditor account number is invalid",
    "AC04": "the account is closed",
    "AC06": "the account is blocked",
    "AC13": "the account type is invalid",
    "AG01": "the bank forbids this transaction on the account",
    "AG02": "the bank operation code is invalid",
    "AM04": "the funds on the paying account are insufficient",
    "AM05": "the transfer is a duplicate",
    "BE01": "the account holder's name does not match the account",
    "BE04": "the creditor's address is missing or incorrect",
    "CNOR": "the creditor's bank is not registered under this BIC",
    "DNOR": "the debtor's bank is not registered under this BIC",
    "FF01": "the file format is invalid",
    "MD07": "the account holder is deceased",
    "MS02": "the account holder refused it, without a reason",
    "MS03": "the bank refused it, without a reason",
    "RC01": "the bank identifier is incorrect",
    "RR01": "the debtor's account or identification is missing",
    "RR03": "the creditor's name or address is missing",
    "RR04": "regulatory reasons",
}
ACCOUNT_REASONS = frozenset({"AC01", "AC03", "AC04", "AC06", "AC13", "BE01", "MD07"})
"""Rejections that say the payout account cannot receive the transfer: the salary is not sent
to that account again until the member gives other payout details."""

Outcome = Literal["accepted", "rejected", "not_yet"]


class UnreadableReport(ValueError):
    """Not a pain.002 report payroll can apply; ``where`` names the failing element."""

    def __init__(self, message: str, where: str = "report") -> None:
        super().__init__(message)
        self.where = where


@dataclass(frozen=True)
class StatusReason:
    """Why the bank gave a status: the ISO reason code (or the bank's own) and its text."""

    code: str | None
    text: str

    @property
    def account_unusable(self) -> bool:
        return self.code in ACCOUNT_REASONS


@dataclass(frozen=True)
class TransactionStatus:
    """One transfer's status as the report gives it, or as its block or group gives it."""

    end_to_end_id: str
    status: str
    reason: StatusReason | None
    where: str

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.status)


@dataclass(frozen=True)
class StatusReport:
    """A pain.002 document: which original message it reports on, the group's status and each
    transaction it names."""

    message_id: str
    version: str
    original_message_id: str
    group_status: str | None
    group_reason: StatusReason | None
    block_statuses: tuple[tuple[str, str, StatusReason | None], ...]
    """(OrgnlPmtInfId, PmtInfSts, reason) of each block that has a status of its own."""
    transactions: tuple[TransactionStatus, ...]


def outcome_of(status: str) -> Outcome:
    """What a status code means for the salary: paid, back to due, or nothing yet."""
    if status in ACCEPTED:
        return "accepted"
    if status == REJECTED:
        return "rejected"
    return "not_yet"


def _bounded(element: ET.Element | None, where: str, *path: str,
             limit: int = IDENTIFIER_LENGTH) -> str | None:
    value = text(element, *path)
    if value is None:
        return None
    at = "/".join((where, *path))
    try:
        value = clean(value)  # the platform's text policy: reasons travel into mails
    except ValueError as error:
        raise UnreadableReport(str(error), at) from None
    if len(value) > limit:
        raise UnreadableReport(f"is longer than {limit} characters", at)
    return value


def _status(element: ET.Element, where: str, name: str) -> str | None:
    value = text(element, name)
    if value is None:
        return None
    if not _STATUS.fullmatch(value):
        raise UnreadableReport(f"{value[:40]!r} is not a status code (four capital letters)",
                               f"{where}/{name}")
    if value not in ACCEPTED and value != REJECTED and value not in NOT_YET:
        raise UnreadableReport(f"{value!r} is not an ISO 20022 payment status payroll knows",
                               f"{where}/{name}")
    return value


def _reason(element: ET.Element, where: str) -> StatusReason | None:
    """The first status reason (StsRsnInf) of an element: its code and every AddtlInf line."""
    found = children(element, "StsRsnInf")
    if not found:
        return None
    info, at = found[0], f"{where}/StsRsnInf[1]"
    code = text(info, "Rsn", "Cd")
    if code is not None and not _REASON.fullmatch(code):
        raise UnreadableReport(f"{code[:40]!r} is not an ISO reason code", f"{at}/Rsn/Cd")
    if code is None:
        code = _bounded(info, at, "Rsn", "Prtry", limit=_PROPRIETARY_REASON_LENGTH)
    lines = []
    for index, line in enumerate(children(info, "AddtlInf"), start=1):
        value = _bounded(line, f"{at}/AddtlInf[{index}]",
                         limit=ADDITIONAL_INFORMATION_LENGTH)
        if value:
            lines.append(value)
    words = " ".join(lines) or REASONS.get(code or "", "the bank gave no reason")
    return StatusReason(code, words)


def pain002_version(root: ET.Element) -> str:
    """The pain.002 version of the document (``pain.002.001.03``), if payroll reads it."""
    declared = _NAMESPACE.fullmatch(namespace(root) or "")
    if (declared is None or root.tag.rsplit("}", 1)[-1] != "Document"
            or declared.group(1) not in SUPPORTED_VERSIONS):
        shown = (namespace(root) or "none")[:80]
        raise UnreadableReport(
            f"namespace {shown!r} is not pain.002.001.03 or pain.002.001.10 "
            "(urn:iso:std:iso:20022:tech:xsd:pain.002.001.NN Document)", "Document")
    return f"pain.002.001.{declared.group(1)}"


def parse_status_report(content: bytes) -> StatusReport:
    """The report's statuses, or ``UnreadableReport`` naming the first element at fault."""
    try:
        root = parse_untrusted(content)
    except UnreadableXml as error:
        raise UnreadableReport(str(error)) from None
    version = pain002_version(root)
    report = child(root, "CstmrPmtStsRpt")
    if report is None:
        raise UnreadableReport("not a pain.002 document (Document/CstmrPmtStsRpt)", "Document")
    where = "CstmrPmtStsRpt"
    message_id = _bounded(report, where, "GrpHdr", "MsgId")
    if not message_id:
        raise UnreadableReport("the report has no message id", f"{where}/GrpHdr/MsgId")
    group = child(report, "OrgnlGrpInfAndSts")
    group_at = f"{where}/OrgnlGrpInfAndSts"
    if group is None:
        raise UnreadableReport("the report names no original message", group_at)
    original = _bounded(group, group_at, "OrgnlMsgId")
    if not original:
        raise UnreadableReport("the report names no original message id",
                               f"{group_at}/OrgnlMsgId")
    blocks: list[tuple[str, str, StatusReason | None]] = []
    transactions: list[TransactionStatus] = []
    seen: dict[str, str] = {}
    group_status = _status(group, group_at, "GrpSts")
    for b, block in enumerate(children(report, "OrgnlPmtInfAndSts"), start=1):
        block_at = f"{where}/OrgnlPmtInfAndSts[{b}]"
        block_status = _status(block, block_at, "PmtInfSts")
        block_reason = _reason(block, block_at)
        block_id = _bounded(block, block_at, "OrgnlPmtInfId")
        if block_status and block_id:
            blocks.append((block_id, block_status, block_reason))
        for t, tx in enumerate(children(block, "TxInfAndSts"), start=1):
            at = f"{block_at}/TxInfAndSts[{t}]"
            end_to_end = _bounded(tx, at, "OrgnlEndToEndId")
            if not end_to_end:
                raise UnreadableReport("the transaction names no end-to-end id",
                                       f"{at}/OrgnlEndToEndId")
            if end_to_end in seen:
                raise UnreadableReport(f"end-to-end id {end_to_end} is also reported at "
                                       f"{seen[end_to_end]}", f"{at}/OrgnlEndToEndId")
            seen[end_to_end] = at
            own = _status(tx, at, "TxSts")
            if own is not None:
                transactions.append(TransactionStatus(end_to_end, own, _reason(tx, at), at))
            elif block_status is not None:
                transactions.append(TransactionStatus(end_to_end, block_status, block_reason,
                                                      at))
            elif group_status is not None:
                transactions.append(TransactionStatus(end_to_end, group_status,
                                                      _reason(group, group_at), at))
            else:
                raise UnreadableReport("the transaction has no status, nor has its payment "
                                       "information or group", f"{at}/TxSts")
    if group_status is None and not blocks and not transactions:
        raise UnreadableReport("the report gives no status", f"{group_at}/GrpSts")
    return StatusReport(
        message_id=message_id, version=version, original_message_id=original,
        group_status=group_status, group_reason=_reason(group, group_at),
        block_statuses=tuple(blocks), transactions=tuple(transactions),
    )
