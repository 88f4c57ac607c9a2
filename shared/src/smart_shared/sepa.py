"""SEPA files, via ``sepaxml``: credit transfers (ISO 20022 pain.001.001.09) for the salaries of
a payment run (payroll), the refunds of overpayments (billing) and the loans paid out (fund), and
direct debits (pain.008.001.02) for the loan instalments payroll could not withhold (fund).

Every file is validated against its ISO 20022 schema (the XSDs sepaxml ships) before it leaves.
sepaxml would build the schema again for each file it exports, which costs more CPU than
validating a file of thousands of transfers; here each schema is built once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from xml.etree import ElementTree as ET

import sepaxml
import xmlschema
from sepaxml import SepaDD, SepaTransfer
from sepaxml.validation import ValidationError

SCHEMA = "pain.001.001.09"
DIRECT_DEBIT_SCHEMA = "pain.008.001.02"


@cache
def iso20022_schema(name: str) -> xmlschema.XMLSchema:
    """The ISO 20022 schema ``name`` (e.g. ``pain.001.001.09``) as sepaxml ships it."""
    return xmlschema.XMLSchema(Path(sepaxml.__file__).parent / "schemas" / f"{name}.xsd")


def _validated(content: bytes, schema: str) -> bytes:
    """``content`` if it is valid against ``schema``; sepaxml's ``ValidationError`` if not."""
    try:
        iso20022_schema(schema).validate(content.decode())
    except xmlschema.XMLSchemaValidationError as error:
        raise ValidationError(f"the {schema} file is not valid: {error.reason}") from error
    return content


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
    ``execution_date``, validated against the ISO 20022 schema."""
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
    return _validated(bytes(sepa.export(validate=False)), SCHEMA)


@dataclass(frozen=True)
class Creditor:
    """The cooperative's account direct debits are collected to, and its SEPA creditor
    identifier (the one the debtors' banks check mandates against)."""

    name: str
    iban: str
    bic: str
    creditor_id: str


@dataclass(frozen=True)
class Collection:
    """One direct debit to collect under a signed mandate: from whom, how much, the mandate,
    and the id the bank reports back."""

    end_to_end_id: str
    holder_name: str
    iban: str
    amount: Decimal
    description: str
    mandate_id: str
    mandate_signed_on: date
    sequence: str = "RCUR"  # FRST for a mandate's first collection, RCUR after


def sepa_direct_debit_file(creditor: Creditor, collection_date: date,
                           collections: list[Collection]) -> bytes:
    """A pain.008.001.02 document (SEPA Core direct debit) of ``collections`` to ``creditor``'s
    account on ``collection_date``, validated against the ISO 20022 schema."""
    sepa = SepaDD(
        {"name": creditor.name, "IBAN": creditor.iban, "BIC": creditor.bic, "batch": True,
         "creditor_id": creditor.creditor_id, "currency": "EUR", "instrument": "CORE"},
        schema=DIRECT_DEBIT_SCHEMA,
        clean=True,
    )
    for collection in collections:
        sepa.add_payment({
            "name": collection.holder_name,
            "IBAN": collection.iban,
            "amount": int(collection.amount * 100),
            "type": collection.sequence,
            "collection_date": collection_date,
            "mandate_id": collection.mandate_id,
            "mandate_date": collection.mandate_signed_on,
            "description": collection.description,
            "endtoend_id": collection.end_to_end_id,
        })
    return _validated(bytes(sepa.export(validate=False)), DIRECT_DEBIT_SCHEMA)


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
