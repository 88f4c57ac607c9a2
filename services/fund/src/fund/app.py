"""Wiring: the fund service (port 8005)."""

from __future__ import annotations

import os
from decimal import Decimal

from smart_shared.money import to_decimal
from smart_shared.service import Platform, Service, build_service
from smart_shared.settings import Settings

from fund import store
from fund.accounts import open_the_fund
from fund.api import (
    DirectDebitController,
    DisbursementController,
    FundController,
    GuaranteeController,
    LoanController,
)
from fund.domain.rules import FundRules, LendingRules
from fund.handlers import handlers
from fund.jobs import jobs


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


def create_service(settings: Settings | None = None,
                   initial_capital: dict[str, Decimal] | None = None) -> Service:
    """The fund service; ``initial_capital`` overrides the environment's start-up seed."""

    async def open_accounts(platform: Platform) -> None:
        branches = platform.settings.branches
        capital = (initial_capital_from_environment(branches) if initial_capital is None
                   else initial_capital)
        await open_the_fund(platform.database, branches, capital)

    return build_service(
        "fund",
        port=8005,
        rules={"fund": FundRules, "lending": LendingRules},
        controllers=[FundController, GuaranteeController, LoanController,
                     DisbursementController, DirectDebitController],
        handlers=handlers,
        indexes=store.create_indexes,
        on_start=open_accounts,
        jobs=jobs,
        settings=settings,
    )


service = create_service()
app = service.app
