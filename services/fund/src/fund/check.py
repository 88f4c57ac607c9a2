"""Reconcile the stored balances with the transfers: ``python -m fund.check``.

Every account's balance, debits and credits are derived again from the transfers alone and
compared with what is stored; so are each contract's reservation and advance (the per-contract
sub-ledger) and the client and member exposures. Exit status 1 when anything differs.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import defaultdict
from decimal import Decimal
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.mongo import Document, connect
from smart_shared.settings import Settings

from fund import store
from fund.domain import ACCOUNTS, NORMAL_SIDE, Account, is_balanced

ZERO = Decimal("0.00")


async def _contract_ledgers(db: AsyncDatabase[Document],
                            branches: list[str]) -> dict[str, dict[str, Decimal]]:
    """Per contract: what its transfers leave reserved and advanced."""
    ledgers: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"reserved": ZERO,
                                                                  "advanced": ZERO})
    async for doc in store.contract_postings(db, branches):
        amount = store.dec(doc["amount"])
        for account, sign in ((doc["debit"], 1), (doc["credit"], -1)):
            if account == "reserved":
                ledgers[doc["contract_id"]]["reserved"] += sign * amount
            elif account == "advances":
                ledgers[doc["contract_id"]]["advanced"] += sign * amount
    return ledgers


async def _loan_mismatches(db: AsyncDatabase[Document],
                           branches: list[str]) -> list[dict[str, Any]]:
    """Each loan's capital in the ``loans`` account against what the loan says it is owed
    (its balance: nothing once repaid early or its loss booked)."""
    lent: dict[str, Decimal] = defaultdict(lambda: ZERO)
    async for doc in store.loan_postings(db, branches):
        amount = store.dec(doc["amount"])
        lent[doc["reference"]] += amount if doc["debit"] == "loans" else -amount
    found = []
    async for loan in store.paid_out_loans(db, branches):
        # a loan defaulted before collection took over had its loss booked at once
        owed = ZERO if loan.get("lost") else store.dec(loan["balance"])
        if lent.get(loan["_id"], ZERO) != owed:
            found.append({"loan_id": loan["_id"], "field": "balance", "loan": str(owed),
                          "from_transfers": str(lent.get(loan["_id"], ZERO))})
    return found


async def check_ledger(db: AsyncDatabase[Document], branches: list[str]) -> dict[str, Any]:
    """The reconciliation report: ``ok`` and every mismatch found, with the balances."""
    mismatches: list[dict[str, Any]] = []
    derived = await store.transfer_totals(db, branches)
    report: dict[str, Any] = {"branches": {}}
    stored_docs = await store.stored_accounts(db, branches)
    for branch in branches:
        balances: dict[Account, Decimal] = {}
        for account in ACCOUNTS:
            doc = stored_docs.get(store.account_id(branch, account), {})
            stored = {name: store.dec(doc.get(name)) for name in ("balance", "debits", "credits")}
            totals = derived[(branch, account)]
            from_transfers = {
                "debits": totals["debits"], "credits": totals["credits"],
                "balance": (totals["debits"] - totals["credits"]) if NORMAL_SIDE[account] == "debit"
                else (totals["credits"] - totals["debits"]),
            }
            for name, value in from_transfers.items():
                if stored[name] != value:
                    mismatches.append({"branch": branch, "account": account, "field": name,
                                       "stored": str(stored[name]), "from_transfers": str(value)})
            if stored["balance"] < 0:
                mismatches.append({"branch": branch, "account": account,
                                   "field": "balance", "problem": "below its floor",
                                   "stored": str(stored["balance"])})
            balances[account] = stored["balance"]
        if not is_balanced(balances):
            mismatches.append({"branch": branch, "problem": "assets differ from capital plus "
                               "contributions and interest less losses"})
        report["branches"][branch] = {a: str(v) for a, v in balances.items()}

    ledgers = await _contract_ledgers(db, branches)
    exposures: dict[str, Decimal] = defaultdict(lambda: ZERO)
    async for guarantee in store.decided_guarantees(db, branches):
        ledger = ledgers.get(guarantee.contract_id, {"reserved": ZERO, "advanced": ZERO})
        for name, expected in (("reserved", guarantee.reserved),
                               ("advanced", guarantee.outstanding_advance)):
            if ledger[name] != expected:
                mismatches.append({"contract_id": guarantee.contract_id, "field": name,
                                   "guarantee": str(expected), "from_transfers": str(ledger[name])})
        for ident in store.exposure_ids(guarantee.branch, guarantee.client_key,
                                        guarantee.member_id):
            exposures[ident] += guarantee.exposure
    for ident, amount in (await store.stored_exposures(db, branches)).items():
        exposures.setdefault(ident, ZERO)
        if amount != exposures[ident]:
            mismatches.append({"exposure": ident, "stored": str(amount),
                               "from_guarantees": str(exposures[ident])})
    mismatches += await _loan_mismatches(db, branches)
    report["transfers"] = await store.count_transfers(db, branches)
    report["mismatches"] = mismatches
    report["ok"] = not mismatches
    return report


async def _main() -> int:
    settings = Settings(SMART_SERVICE="fund")
    client = connect(settings.mongodb_uri, **settings.mongo_options())
    try:
        report = await check_ledger(client[settings.database_name], settings.branches)
    finally:
        await client.close()
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(_main()))
