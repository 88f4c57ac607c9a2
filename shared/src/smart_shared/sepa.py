"""SEPA credit transfer files (ISO 20022 pain.001.001.09), via ``sepaxml``: the salaries of a
payment run (payroll) and the refunds of overpayments (billing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.etree import ElementTree as ET

from sepaxml import SepaTransfer

SCHEMA = "pain.001.001.09"


@dataclass(frozen=True)
class Debtor:
    """The cooperative's account the transfers leave from."""

    name: str
    iban: str
    bic: str


@dataclass(frozen=True)
class Transfer:
    """One transfer to make: who, where, how much, and the id the bank reports back."""

    end_to_end_id: str
    holder_name: str
    iban: str
    amount: Decimal
    description: str


def sepa_credit_transfer_file(debtor: Debtor, execution_date: date,
                              transfers: list[Transfer]) -> bytes:
    """A pain.001.001.09 document of ``transfers`` from ``debtor``'s account on
    ``execution_date``, validated against the ISO 20022 schema by ``sepaxml``."""
    sepa = SepaTransfer(
        {"name": debtor.name, "IBAN": debtor.iban, "BIC": debtor.bic, "batch": True,
         "currency": "EUR"},
        schema=SCHEMA,
        clean=True,
    )
    for transfer in transfers:
        sepa.add_payment({
            "name": transfer.holder_name,
            "IBAN": transfer.iban,
            "amount": int(transfer.amount * 100),
            "execution_date": execution_date,
            "description": transfer.description,
            "endtoend_id": transfer.end_to_end_id,
        })
    return bytes(sepa.export(validate=True))


def file_identifiers(content: bytes) -> tuple[str, list[str]]:
    """The message id and payment information ids of a file this module made, which the bank's
    pain.002 status reports name (``OrgnlMsgId``, ``OrgnlPmtInfId``)."""
    root = ET.fromstring(content)  # our own file, never a document from outside
    ns = {"p": f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"}
    message_id = root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=ns)
    blocks = [b.text or "" for b in root.findall("p:CstmrCdtTrfInitn/p:PmtInf/p:PmtInfId", ns)]
    if not message_id:
        raise ValueError("the payment file has no message id")
    return message_id, blocks
