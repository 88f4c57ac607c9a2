"""Time-driven steps: declare the employment before the first work day, complete the work after
the last one, and finish cancelling declarations. Each continues the trace of the client's
signature, and each transition is a conditional update so it happens once across replicas."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from prometheus_client import Gauge
from smart_shared.mongo import UnitOfWork
from smart_shared.scheduler import ScheduledJob
from smart_shared.service import Platform
from smart_shared.telemetry import continue_trace

from contracts.contracting import cancel_declaration, contract_rules, gateway_of
from contracts.domain import Contract, ContractStatus, EmploymentGateway, GatewayUnavailable
from contracts.store import CONTRACTS, contract_from, load_contract, save_contract

log = logging.getLogger("contracts.jobs")

DECLARATION_RETRY_DELAY = timedelta(minutes=1)
BATCH = 500
LATE_DECLARATIONS = Gauge(
    "smart_contracts_late_declarations",
    "Signed contracts still undeclared with the first work day near or past (last tick)",
)


async def _record_declarations(platform: Platform,
                               declared: list[tuple[Contract, str]]) -> list[tuple[Contract, str]]:
    """Record a tick's declarations in one transaction; returns those whose contract was
    cancelled meanwhile (their declaration must be withdrawn)."""
    withdrawn: list[tuple[Contract, str]] = []

    async def work(uow: UnitOfWork) -> None:
        withdrawn.clear()
        for seen, reference in declared:
            with continue_trace("record declaration", seen.traceparent,
                                contract_id=seen.contract_id):
                contract = await load_contract(uow, seen.contract_id)
                if contract is None or contract.status != ContractStatus.SIGNED:
                    withdrawn.append((seen, reference))
                    continue
                event = contract.record_declaration(reference, uow.clock.now())
                if not await save_contract(uow, contract, ContractStatus.SIGNED.value):
                    withdrawn.append((seen, reference))
                    continue
                uow.publish(event)

    if declared:
        await platform.database.transaction(work)
    return withdrawn


async def _record_failure(platform: Platform, contract_id: str, error: str) -> Contract | None:
    async def work(uow: UnitOfWork) -> Contract | None:
        contract = await load_contract(uow, contract_id)
        if contract is None or contract.status != ContractStatus.SIGNED:
            return None
        now = uow.clock.now()
        contract.declaration_failed(error, now, now + DECLARATION_RETRY_DELAY)
        await save_contract(uow, contract, ContractStatus.SIGNED.value)
        return contract

    return await platform.database.transaction(work)


async def declare_employments(platform: Platform, gateway: EmploymentGateway) -> int:
    """Declare every signed contract whose (next) attempt is due; failures are retried later
    and staff alerted when the first work day is near."""
    now = platform.clock.now()
    due = platform.db[CONTRACTS].find({
        "status": ContractStatus.SIGNED.value,
        "$or": [{"declaration.next_attempt_at": None},
                {"declaration.next_attempt_at": {"$lte": now}}],
    }).sort("first_work_day", 1).limit(BATCH)
    declared: list[tuple[Contract, str]] = []
    async for doc in due:
        contract = contract_from(doc)
        with continue_trace("declare employment", contract.traceparent,
                            contract_id=contract.contract_id):
            try:
                reference = await gateway.declare(contract.contract_id, contract.member_id,
                                                  contract.branch, contract.work_days)
            except GatewayUnavailable as error:
                failed = await _record_failure(platform, contract.contract_id, str(error))
                if failed is not None:
                    _alert_if_late(platform, failed)
                continue
            declared.append((contract, reference))
    withdrawn = await _record_declarations(platform, declared)
    for contract, reference in withdrawn:
        # cancelled while the gateway was answering: withdraw what was just declared
        try:
            await gateway.cancel(reference)
        except GatewayUnavailable:
            log.warning("declaration %s of cancelled contract %s left to cancel",
                        reference, contract.contract_id)
    await _count_late(platform)
    return len(declared) - len(withdrawn)


def _alert_if_late(platform: Platform, contract: Contract) -> None:
    today = platform.clock.today()
    alert_days = contract_rules(contract.branch, today).declaration_alert_days.value
    if contract.is_declaration_late(today, alert_days):
        log.warning(
            "LATE employment declaration: contract %s (branch %s) starts %s and is still "
            "undeclared after %d attempts: %s", contract.contract_id, contract.branch,
            contract.first_work_day.isoformat(), contract.declaration.attempts,
            contract.declaration.last_error,
        )


async def _count_late(platform: Platform) -> None:
    today = platform.clock.today()
    late = 0
    for branch in platform.settings.branches:
        try:
            alert_days = contract_rules(branch, today).declaration_alert_days.value
        except Exception:
            continue
        late += await platform.db[CONTRACTS].count_documents({
            "branch": branch, "status": ContractStatus.SIGNED.value,
            "first_work_day": {"$lte": (today + timedelta(days=alert_days)).isoformat()},
        })
    LATE_DECLARATIONS.set(late)


async def complete_work(platform: Platform) -> int:
    """Mark declared contracts whose last work day is over as completed: ``WorkCompleted``."""
    today = platform.clock.today()
    due = await platform.db[CONTRACTS].find(
        {"status": ContractStatus.DECLARED.value, "last_work_day": {"$lt": today.isoformat()}},
        {"traceparent": 1},
    ).sort("last_work_day", 1).limit(BATCH).to_list(BATCH)
    if not due:
        return 0

    async def work(uow: UnitOfWork) -> int:
        # one transaction for the whole batch: per-contract commits cap the rate near 100/s
        completed = 0
        for doc in due:
            with continue_trace("complete work", doc.get("traceparent"), contract_id=doc["_id"]):
                completed += await _complete(doc["_id"], uow)
        return completed

    return await platform.database.transaction(work)


async def _complete(contract_id: str, uow: UnitOfWork) -> int:
    contract = await load_contract(uow, contract_id)
    if contract is None or contract.status != ContractStatus.DECLARED:
        return 0
    today = uow.clock.today()
    if today <= contract.last_work_day:
        return 0
    event = contract.complete(today, uow.clock.now())
    if not await save_contract(uow, contract, ContractStatus.DECLARED.value):
        return 0
    uow.publish(event)
    return 1


async def finish_declaration_cancellations(platform: Platform,
                                           gateway: EmploymentGateway) -> int:
    """Retry cancelling the declarations of cancelled contracts the gateway did not take yet."""
    pending = platform.db[CONTRACTS].find({"declaration.cancel_pending": True}).limit(BATCH)
    done = 0
    async for doc in pending:
        with continue_trace("cancel declaration", doc.get("traceparent"), contract_id=doc["_id"]):
            done += await cancel_declaration(platform, gateway, doc["_id"])
    return done


def contract_jobs(platform: Platform) -> list[ScheduledJob]:
    """The scheduler's jobs, in the order a tick runs them."""
    gateway = gateway_of(platform)
    return [
        ScheduledJob("declare-employment", partial(declare_employments, platform, gateway)),
        ScheduledJob("complete-work", partial(complete_work, platform)),
        ScheduledJob("cancel-declarations",
                     partial(finish_declaration_cancellations, platform, gateway)),
    ]
