"""A loan's movements in the fund's ledger: paid out, repaid instalment by instalment. No I/O."""

from __future__ import annotations

from decimal import Decimal

from fund.domain.ledger import Account, Transfer, check_lending_floor


def disbursement(branch: str, loan_id: str, amount: Decimal,
                 balances: dict[Account, Decimal]) -> Transfer:
    """The loan paid out from the free balance (``GuaranteeReserveNeeded`` when lending it would
    eat what the guarantees need); its id makes it happen once."""
    check_lending_floor(branch, balances, amount)
    return Transfer(id=f"disbursement:{loan_id}", branch=branch, kind="disbursement",
                    amount=amount, reference=loan_id)
