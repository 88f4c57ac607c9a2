"""Wiring: the fund service (port 8005)."""

from __future__ import annotations

from decimal import Decimal

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


def create_service(settings: Settings | None = None,
                   initial_capital: dict[str, Decimal] | None = None) -> Service:
    """The fund service; ``initial_capital`` overrides the start-up seed of the settings
    (``SMART_FUND_INITIAL_CAPITAL_<BRANCH>``)."""

    async def open_accounts(platform: Platform) -> None:
        capital = (platform.settings.fund_initial_capital if initial_capital is None
                   else initial_capital)
        await open_the_fund(platform.database, platform.settings.branches, capital)

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
