"""The fund's double-entry ledger: accounts with floors and transfers that always balance.

Every transfer debits one account and credits another by the same amount, so the ledger balances
by construction. A balance is kept on the account's normal side (debit for assets and expenses,
credit for equity and income) and may never go below zero: the floor. Transfers have ids derived
from the fact that caused them, so booking the same fact twice books nothing the second time;
they are never edited, a correction is a new transfer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from smart_shared.money import CENT

Account = Literal["capital", "free", "reserved", "advances", "contributions", "losses", "loans",
                  "interest"]
Side = Literal["debit", "credit"]
TransferKind = Literal[
    "capital",        # capital injected into the fund
    "reserve",        # a guarantee granted: free balance earmarked (pending)
    "advance",        # the reservation posted: salary cost paid out, owed by the client
    "release",        # the reservation voided: earmarked money back to the free balance
    "recover",        # the client paid: the advance comes back
    "contribution",   # 1 % of a paid invoice into the fund
    "loss",           # the debt was written off: the fund bears the advance
    "loss_recovery",  # a written-off debt was paid after all
    "disbursement",   # a loan paid out to a member (or a lease's supplier)
    "repayment",      # the capital part of an instalment came back
    "loan_interest",  # the interest part of an instalment, the fund's income
    "loan_loss",      # a defaulted loan's balance: the fund bears it
]

ACCOUNTS: tuple[Account, ...] = (
    "capital", "free", "reserved", "advances", "contributions", "losses", "loans", "interest",
)

NORMAL_SIDE: dict[Account, Side] = {
    "capital": "credit",        # equity
    "free": "debit",            # asset: money available for new guarantees
    "reserved": "debit",        # asset: money earmarked for granted guarantees
    "advances": "debit",        # asset: salary costs advanced, receivable from clients
    "contributions": "credit",  # income
    "losses": "debit",          # expense
    "loans": "debit",           # asset: capital lent to members, receivable
    "interest": "credit",       # income: interest paid on loans
}

POSTINGS: dict[TransferKind, tuple[Account, Account]] = {
    # kind: (debited account, credited account)
    "capital": ("free", "capital"),
    "reserve": ("reserved", "free"),
    "advance": ("advances", "reserved"),
    "release": ("free", "reserved"),
    "recover": ("free", "advances"),
    "contribution": ("free", "contributions"),
    "loss": ("losses", "advances"),
    "loss_recovery": ("free", "losses"),
    "disbursement": ("loans", "free"),
    "repayment": ("free", "loans"),
    "loan_interest": ("free", "interest"),
    "loan_loss": ("losses", "loans"),
}


class FloorBreached(Exception):
    """A transfer would take an account below its floor (zero on its normal side)."""

    def __init__(self, branch: str, account: Account, balance: Decimal, amount: Decimal) -> None:
        super().__init__(
            f"{branch} {account}: balance {balance} cannot give {amount} without going below zero"
        )
        self.branch = branch
        self.account = account


@dataclass(frozen=True)
class Transfer:
    """One balanced movement between two accounts of a branch's fund."""

    id: str
    branch: str
    kind: TransferKind
    amount: Decimal
    contract_id: str | None = None
    pending_id: str | None = None  # the reservation an advance or a release settles
    reference: str | None = None   # what caused it: invoice id, salary id, idempotency key

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValueError(f"transfer {self.id}: amount must be positive, not {self.amount}")
        if self.amount != self.amount.quantize(CENT):
            raise ValueError(f"transfer {self.id}: amount {self.amount} has more than 2 decimals")

    @property
    def debit(self) -> Account:
        return POSTINGS[self.kind][0]

    @property
    def credit(self) -> Account:
        return POSTINGS[self.kind][1]

    def effects(self) -> dict[Account, Decimal]:
        """How each account's normal-side balance moves."""
        return {
            self.debit: self.amount if NORMAL_SIDE[self.debit] == "debit" else -self.amount,
            self.credit: self.amount if NORMAL_SIDE[self.credit] == "credit" else -self.amount,
        }


def zero_balances() -> dict[Account, Decimal]:
    return {account: Decimal("0.00") for account in ACCOUNTS}


@dataclass
class Ledger:
    """An in-memory ledger with the same rules as the stored one (used to reason and to test)."""

    transfers: dict[str, Transfer] = field(default_factory=dict)
    balances: dict[str, dict[Account, Decimal]] = field(default_factory=dict)

    def balance(self, branch: str, account: Account) -> Decimal:
        return self.balances.get(branch, zero_balances())[account]

    def book(self, transfer: Transfer) -> bool:
        """Book ``transfer``; False (and nothing booked) when its id was booked already."""
        if transfer.id in self.transfers:
            return False
        self.balances.setdefault(transfer.branch, zero_balances())
        post_in_order([transfer], self.balances)
        self.transfers[transfer.id] = transfer
        return True


def check_floors(transfer: Transfer, balances: dict[Account, Decimal]) -> None:
    """Raise ``FloorBreached`` when ``transfer`` would take an account below zero."""
    for account, delta in transfer.effects().items():
        if balances[account] + delta < 0:
            raise FloorBreached(transfer.branch, account, balances[account], transfer.amount)


class GuaranteeReserveNeeded(Exception):
    """A loan would leave the free balance below what the guarantees already stand behind."""

    def __init__(self, branch: str, lendable: Decimal, amount: Decimal) -> None:
        super().__init__(f"{branch}: {amount} cannot be lent, only {lendable} is beyond what "
                         "the guarantees need")
        self.branch = branch
        self.lendable = lendable


def lendable(balances: dict[Account, Decimal]) -> Decimal:
    """What the fund may lend: the free balance beyond everything its guarantees stand behind
    (reserved and advanced), so lending never eats the guarantee reserve."""
    return max(balances["free"] - balances["reserved"] - balances["advances"], Decimal("0.00"))


def check_lending_floor(branch: str, balances: dict[Account, Decimal], amount: Decimal) -> None:
    """Raise ``GuaranteeReserveNeeded`` when lending ``amount`` goes below the lending floor."""
    available = lendable(balances)
    if amount > available:
        raise GuaranteeReserveNeeded(branch, available, amount)


def post_in_order(transfers: list[Transfer],
                  balances: dict[str, dict[Account, Decimal]]) -> None:
    """Move each branch's balances (branch → account → balance) by the transfers in turn.

    Every floor must hold after each transfer, not only at the end: ``FloorBreached`` at the
    first that would break one, and then no balance has moved.
    """
    moved = {branch: dict(accounts) for branch, accounts in balances.items()}
    for transfer in transfers:
        accounts = moved[transfer.branch]
        check_floors(transfer, accounts)
        for account, delta in transfer.effects().items():
            accounts[account] += delta
    for branch, accounts in moved.items():
        balances[branch].update(accounts)


def is_balanced(balances: dict[Account, Decimal]) -> bool:
    """Assets equal equity plus income less expenses (debits equal credits)."""
    assets = balances["free"] + balances["reserved"] + balances["advances"] + balances["loans"]
    return assets == (balances["capital"] + balances["contributions"] + balances["interest"]
                      - balances["losses"])


def coverage_ratio(balances: dict[Account, Decimal]) -> Decimal | None:
    """free / (reserved + advanced), to four decimals; None when nothing is committed."""
    committed = balances["reserved"] + balances["advances"]
    return (balances["free"] / committed).quantize(Decimal("0.0001")) if committed else None


def balances_from(transfers: list[Transfer] | tuple[Transfer, ...]) -> dict[Account, Decimal]:
    """Every account's balance derived from the transfers alone (what the check compares with)."""
    balances = zero_balances()
    for transfer in transfers:
        for account, delta in transfer.effects().items():
            balances[account] += delta
    return balances
