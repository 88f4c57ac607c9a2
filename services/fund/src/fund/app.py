"""Wiring: the fund service (port 8005)."""

from __future__ import annotations

import os
from decimal import Decimal
from functools import partial

from smart_shared.money import to_decimal
from smart_shared.mongo import UnitOfWork
from smart_shared.service import Platform, Service, build_service
from smart_shared.settings import Settings

from fund import store
from fund.api import FundController, GuaranteeController
from fund.domain import capital_injection
from fund.handlers import handlers

SEED_KEY = "initial"


def initial_capital_from_environment(branches: list[str]) -> dict[str, Decimal]:
    """``SMART_FUND_INITIAL_CAPITAL_<BRANCH>="500000.00"``: capital booked once at start-up."""
    capital: dict[str, Decimal] = {}
    for branch in branches:
        text = os.environ.get(f"SMART_FUND_INITIAL_CAPITAL_{branch}")
        if text:
            amount = to_decimal(text)
            if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
                raise ValueError(f"SMART_FUND_INITIAL_CAPITAL_{branch} must be a positive amount "
                                 f"in cents, not {text!r}")
            capital[branch] = amount
    return capital


async def open_the_fund(capital: dict[str, Decimal] | None, platform: Platform) -> None:
    """Open every account, and book the initial capital once (its transfer id says so)."""
    branches = platform.settings.branches
    await store.open_accounts(platform.db, branches)
    seed = initial_capital_from_environment(branches) if capital is None else capital
    for branch, amount in seed.items():
        async def book_seed(uow: UnitOfWork, branch: str = branch,
                            amount: Decimal = amount) -> None:
            await store.book(uow, capital_injection(branch, SEED_KEY, amount))

        await platform.database.transaction(book_seed)


def build_fund_service(settings: Settings | None = None,
                       initial_capital: dict[str, Decimal] | None = None) -> Service:
    """The fund service; ``initial_capital`` overrides the environment's start-up seed."""
    return build_service(
        "fund",
        controllers=[FundController, GuaranteeController],
        handlers=handlers,
        indexes=store.create_indexes,
        on_start=partial(open_the_fund, initial_capital),
        settings=settings,
    )


service = build_fund_service()
app = service.app
