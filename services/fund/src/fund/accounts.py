"""The fund's accounts: opened at start-up, capital brought in, the position staff read."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from smart_shared.money import Money
from smart_shared.mongo import Database, UnitOfWork

from fund import store
from fund.domain import Account, capital_injection, coverage_ratio, lendable

SEED_KEY = "initial"


@dataclass(frozen=True)
class InjectCapital:
    """Capital brought into the branch's fund; ``key`` makes it happen once."""

    branch: str
    key: str
    amount: Money
    note: str


def position_of(branch: str, balances: dict[Account, Decimal]) -> dict[str, Any]:
    """Every account's balance and the coverage ratio = free / (reserved + advanced)."""
    ratio = coverage_ratio(balances)

    def money(value: Decimal) -> dict[str, str]:
        return {"amount": str(value), "currency": "EUR"}

    return {
        "branch": branch,
        "capital": money(balances["capital"]),
        "free_balance": money(balances["free"]),
        "reserved": money(balances["reserved"]),
        "advanced": money(balances["advances"]),
        "losses": money(balances["losses"]),
        "contributions": money(balances["contributions"]),
        "loans": money(balances["loans"]),
        "interest": money(balances["interest"]),
        "lendable": money(lendable(balances)),
        "coverage_ratio": str(ratio) if ratio is not None else None,
    }


async def open_the_fund(database: Database, branches: list[str],
                        capital: dict[str, Decimal]) -> None:
    """Open every account, and book the initial capital once (its transfer id says so)."""
    await store.open_accounts(database.db, branches)
    for branch, amount in capital.items():
        async def book_seed(uow: UnitOfWork, branch: str = branch,
                            amount: Decimal = amount) -> None:
            await store.book(uow, capital_injection(branch, SEED_KEY, amount))

        await database.transaction(book_seed)


async def inject_capital(uow: UnitOfWork, command: InjectCapital) -> dict[str, Any]:
    """Book the injection; the fund's position as this transaction leaves it."""
    transfer = capital_injection(command.branch, f"api:{command.key}", command.amount.amount)
    await store.book(uow, transfer)
    return {"transfer_id": transfer.id, "branch": command.branch,
            "amount": command.amount.to_document(), "note": command.note,
            "fund": position_of(command.branch,
                                await store.branch_balances(uow, command.branch))}


async def fund_position(database: Database, branch: str) -> dict[str, Any]:
    """The branch's position as committed."""
    return position_of(branch, await store.stored_balances(database.db, branch))
