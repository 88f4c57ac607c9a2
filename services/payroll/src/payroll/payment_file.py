"""The SEPA credit transfer file (ISO 20022 pain.001.001.09) of a payment run."""

from __future__ import annotations

from datetime import date

from smart_shared.sepa import SCHEMA, Debtor, Transfer, file_identifiers, sepa_credit_transfer_file
from smart_shared.settings import DebtorAccount, Settings

from payroll.domain.rules import Payer

__all__ = ["SCHEMA", "Transfer", "credit_transfer_file", "file_identifiers"]


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
    """A pain.001.001.09 document of the salaries, from the branch's salary account
    (``smart_shared.sepa``)."""
    return sepa_credit_transfer_file(Debtor(payer.name.value, debtor.iban, debtor.bic),
                                     execution_date, transfers)
