"""Time-driven steps: declare the employment before the first work day, complete the work after
the last one, and finish cancelling declarations. Each continues the trace of the client's
signature, and each transition is a conditional update so it happens once across replicas.
A tick costs the same few MongoDB commands whatever the number of contracts due: one read of
the due contracts, one call of the gateway for the batch, one bulk write of the transitions."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from functools import partial

from prometheus_client import Gauge
from smart_shared.events import Event
from smart_shared.mail.digest import staff_digest_job
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.scheduler import ScheduledJob
from smart_shared.service import Platform
from smart_shared.telemetry import continue_trace

from contracts.declarations import cancel_declaration, gateway_of
from contracts.domain import (
    Contract,
    Employment,
    EmploymentGateway,
    GatewayUnavailable,
    TransitionRefused,
)
from contracts.refusals import contract_rules
from contracts.store import (
    ContractsChanged,
    contract_from,
    contracts_to_complete,
    contracts_to_declare,
    count_late_declarations,
    count_undeclared_near,
    declarations_to_cancel,
    record_declaration_failures,
    save_steps,
)

log = logging.getLogger("contracts.jobs")

DECLARATION_RETRY_DELAY = timedelta(minutes=1)
BATCH = 500
LATE_DECLARATIONS = Gauge(
    "smart_contracts_late_declarations",
    "Signed contracts still undeclared with the first work day near or past (last tick)",
)

Step = tuple[Document, Contract, Event]
"""A due contract as the tick read it, the contract after its step, and the event it causes."""


async def _write_steps(platform: Platform, steps: Sequence[Step], span: str) -> set[str]:
    """Write a batch's steps and publish their events in one transaction, each only if its
    contract is still as the tick read it; returns the ids of the contracts written."""

    def work_for(recheck: bool) -> Callable[[UnitOfWork], Awaitable[set[str]]]:
        async def work(uow: UnitOfWork) -> set[str]:
            written = await save_steps(uow, [(read, contract) for read, contract, _ in steps],
                                       recheck)
            for _, contract, event in steps:
                if contract.contract_id in written:
                    with continue_trace(span, contract.traceparent,
                                        contract_id=contract.contract_id):
                        uow.publish(event)
            return written

        return work

    if not steps:
        return set()
    try:
        return await platform.database.transaction(work_for(recheck=False))
    except ContractsChanged:
        # one changed since the tick read it (cancelled, or stepped by another replica)
        return await platform.database.transaction(work_for(recheck=True))


async def _record_failures(platform: Platform, seen: list[tuple[Document, Contract]],
                           error: str) -> list[Contract]:
    """Note a failed attempt on each contract still signed, with one bulk write (no event, so
    no transaction); returns those contracts."""
    now = platform.clock.now()
    retry_at = now + DECLARATION_RETRY_DELAY
    for _, contract in seen:
        contract.declaration_failed(error, now, retry_at)
    still_signed = await record_declaration_failures(
        platform.db, [read["_id"] for read, _ in seen], error, retry_at)
    return [contract for _, contract in seen if contract.contract_id in still_signed]


async def declare_employments(platform: Platform, gateway: EmploymentGateway) -> int:
    """Declare every signed contract whose (next) attempt is due, as one batch with the
    gateway; failures are retried later and staff alerted when the first work day is near."""
    now = platform.clock.now()
    due = await contracts_to_declare(platform.db, now, BATCH)
    seen = [(doc, contract_from(doc)) for doc in due]
    declared = 0
    # each branch declares to its own gateway: one branch's outage never holds up another's
    for branch in sorted({contract.branch for _, contract in seen}):
        declared += await _declare(platform, gateway,
                                   [item for item in seen if item[1].branch == branch])
    await _count_late(platform)
    return declared


async def _declare(platform: Platform, gateway: EmploymentGateway,
                   seen: list[tuple[Document, Contract]]) -> int:
    try:
        references = await gateway.declare_all([
            Employment(contract.contract_id, contract.member_id, contract.branch,
                       contract.work_days)
            for _, contract in seen])
    except GatewayUnavailable as error:
        for failed in await _record_failures(platform, seen, str(error)):
            with continue_trace("declare employment", failed.traceparent,
                                contract_id=failed.contract_id):
                _alert_if_late(platform, failed)
        return 0
    now = platform.clock.now()
    steps = [(read, contract, contract.record_declaration(references[contract.contract_id], now))
             for read, contract in seen]
    written = await _write_steps(platform, steps, "record declaration")
    for _, contract, _ in steps:
        if contract.contract_id in written:
            continue
        # cancelled while the gateway was answering: withdraw what was just declared
        reference = references[contract.contract_id]
        try:
            await gateway.cancel(reference)
        except GatewayUnavailable:
            log.warning("declaration %s of cancelled contract %s left to cancel",
                        reference, contract.contract_id)
    return len(written)


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
    """Set the gauge with one count over the branches served."""
    today = platform.clock.today()
    starting_by: dict[str, date] = {}
    for branch in platform.settings.branches:
        try:
            alert_days = contract_rules(branch, today).declaration_alert_days.value
        except Exception:
            continue
        starting_by[branch] = today + timedelta(days=alert_days)
    LATE_DECLARATIONS.set(await count_undeclared_near(platform.db, starting_by))


async def complete_work(platform: Platform) -> int:
    """Mark declared contracts whose last work day is over as completed: ``WorkCompleted``."""
    today = platform.clock.today()
    due = await contracts_to_complete(platform.db, today, BATCH)
    now = platform.clock.now()
    steps: list[Step] = []
    for read in due:
        contract = contract_from(read)
        try:
            steps.append((read, contract, contract.complete(today, now)))
        except TransitionRefused:
            continue
    # one transaction for the whole batch: per-contract commits cap the rate near 100/s
    return len(await _write_steps(platform, steps, "complete work"))


async def finish_declaration_cancellations(platform: Platform,
                                           gateway: EmploymentGateway) -> int:
    """Retry cancelling the declarations of cancelled contracts the gateway did not take yet."""
    done = 0
    for doc in await declarations_to_cancel(platform.db, BATCH):
        with continue_trace("cancel declaration", doc.get("traceparent"), contract_id=doc["_id"]):
            done += await cancel_declaration(platform, gateway, doc["_id"])
    return done


async def late_declarations(uow: UnitOfWork, branch: str, today: date) -> dict[str, int]:
    """The staff digest's part: signed contracts still undeclared close to their start."""
    alert_days = contract_rules(branch, today).declaration_alert_days.value
    count = await count_late_declarations(uow, branch, today + timedelta(days=alert_days))
    return {"late_declarations": count}


def contract_jobs(platform: Platform) -> list[ScheduledJob]:
    """The scheduler's jobs, in the order a tick runs them."""
    gateway = gateway_of(platform)
    return [
        ScheduledJob("declare-employment", partial(declare_employments, platform, gateway)),
        ScheduledJob("complete-work", partial(complete_work, platform)),
        ScheduledJob("cancel-declarations",
                     partial(finish_declaration_cancellations, platform, gateway)),
        staff_digest_job("contracts", platform.settings, platform.database, platform.clock,
                         late_declarations),
    ]
