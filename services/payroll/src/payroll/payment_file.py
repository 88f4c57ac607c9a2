"""The SEPA credit transfer file (ISO 20022 pain.001.001.09) of a payment run, via ``sepaxml``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.etree import ElementTree as ET

from sepaxml import SepaTransfer
from smart_shared.settings import DebtorAccount, Settings

from payroll.domain.rules import Payer

SCHEMA = "pain.001.001.09"


@dataclass(frozen=True)
class Transfer:
    """One salary to pay: who, where, how much, and the id the bank reports back."""

    end_to_end_id: str
    holder_name: str
    iban: str
    amount: Decimal
    description: str


class NoDebtorAccount(LookupError):
    """No salary account is configured for the branch (start-up refuses this outside local)."""


def debtor_account(settings: Settings, branch: str, payer: Payer) -> DebtorAccount:
    """The account the salaries of ``branch`` leave from: ``SMART_DEBTOR_ACCOUNTS``; on a
    local machine only, the rule pack's example account stands in."""
    configured = settings.debtor_accounts.get(branch)
    if configured is not None:
        return configured
    if settings.env == "local":
        return DebtorAccount(iban=payer.iban.value, bic=payer.bic.value)
    raise NoDebtorAccount(f"SMART_DEBTOR_ACCOUNTS has no salary account for branch {branch}")


def credit_transfer_file(payer: Payer, debtor: DebtorAccount, execution_date: date,
                         transfers: list[Transfer]) -> bytes:
    """A pain.001.001.09 document from ``debtor``, validated against the ISO 20022 schema by
    ``sepaxml``."""
    sepa = SepaTransfer(
        {
            "name": payer.name.value,
            "IBAN": debtor.iban,
            "BIC": debtor.bic,
            "batch": True,
            "currency": "EUR",
        },
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
