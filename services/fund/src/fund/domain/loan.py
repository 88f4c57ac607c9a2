"""A loan's movements in the fund's ledger: paid out, repaid instalment by instalment. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fund.domain.ledger import Account, Transfer, check_lending_floor
from fund.domain.lending import add_months


def disbursement(branch: str, loan_id: str, amount: Decimal,
                 balances: dict[Account, Decimal]) -> Transfer:
    """The loan paid out from the free balance (``GuaranteeReserveNeeded`` when lending it would
    eat what the guarantees need); its id makes it happen once."""
    check_lending_floor(branch, balances, amount)
    return Transfer(id=f"disbursement:{loan_id}", branch=branch, kind="disbursement",
                    amount=amount, reference=loan_id)


@dataclass(frozen=True)
class Due:
    """Where one instalment of a loan stands."""

    number: int
    due: date
    capital: Decimal
    interest: Decimal
    paid: Decimal = Decimal("0.00")
    collecting: bool = False  # in a direct debit file the bank has not answered yet

    @property
    def amount(self) -> Decimal:
        return self.capital + self.interest

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid


def allocate(due: Due, amount: Decimal) -> tuple[Decimal, Decimal]:
    """(capital, interest) of a repayment of ``amount`` on ``due``: its interest is paid
    first, and nothing above what is outstanding."""
    amount = min(amount, due.outstanding)
    interest_left = max(due.interest - due.paid, Decimal("0.00"))
    interest = min(amount, interest_left)
    return amount - interest, interest


def repayment_transfers(branch: str, loan_id: str, number: int, cause: str,
                        capital: Decimal, interest: Decimal) -> list[Transfer]:
    """The ledger's movements of one repayment (ids from the loan, instalment and cause, so the
    same repayment books once)."""
    transfers = []
    if capital > 0:
        transfers.append(Transfer(id=f"repayment:{loan_id}:{number}:{cause}", branch=branch,
                                  kind="repayment", amount=capital, reference=loan_id))
    if interest > 0:
        transfers.append(Transfer(id=f"loan_interest:{loan_id}:{number}:{cause}", branch=branch,
                                  kind="loan_interest", amount=interest, reference=loan_id))
    return transfers


def missed(plan: list[Due], today: date) -> int:
    """Instalments missed: not fully paid when the next one fell due (the last one: a month
    after its own due date), unless the fund is collecting it by direct debit."""
    count = 0
    for index, due in enumerate(plan):
        deadline = plan[index + 1].due if index + 1 < len(plan) else add_months(due.due, 1)
        if due.outstanding > 0 and deadline <= today and not due.collecting:
            count += 1
    return count


def loan_loss(branch: str, loan_id: str, balance: Decimal) -> Transfer:
    """A defaulted loan's balance borne by the fund."""
    return Transfer(id=f"loan_loss:{loan_id}", branch=branch, kind="loan_loss", amount=balance,
                    reference=loan_id)
