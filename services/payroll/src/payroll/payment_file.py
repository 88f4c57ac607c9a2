"""The SEPA credit transfer file (ISO 20022 pain.001.001.09) of a payment run."""

from __future__ import annotations

from datetime import date

from smart_shared.sepa import SCHEMA, Debtor, Transfer, file_identifiers, sepa_credit_transfer_file

from payroll.domain.rules import Payer

__all__ = ["SCHEMA", "Transfer", "credit_transfer_file", "file_identifiers"]


def credit_transfer_file(payer: Payer, execution_date: date, transfers: list[Transfer]) -> bytes:
    """A pain.001.001.09 document from the branch's payer account (``smart_shared.sepa``)."""
    debtor = Debtor(payer.name.value, payer.iban.value, payer.bic.value)
    return sepa_credit_transfer_file(debtor, execution_date, transfers)
