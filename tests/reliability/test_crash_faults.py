"""Crash faults: every service SIGKILLed in turn, several times, with contracts in flight.

``SMART_CRASH_CONTRACTS`` contracts (40 by default, 500 for the full run) go through the whole
saga — signed, declared, completed, invoiced, some paid, salaries due and paid — while each
service is killed with SIGKILL (no clean shutdown) and restarted: ``SMART_CRASH_ROUNDS`` times
(1 by default) while contracts are signed and as many times while they complete, plus billing,
fund and payroll again around payments and the payment run. At the end: every contract
completed, one invoice each with gapless numbers, exactly one ``SalaryDue`` and at most one
``SalaryPaid`` per contract, the fund's ledger balanced and equal to the events, nothing in a
dead-letter topic. Each restart is timed until the service handled its first event and drained
what waited for it (``tests/reliability/recovery.py``); the figures are printed per service, and
every first event must come within the bound the reliability document states.

    SMART_CRASH_CONTRACTS=500 .venv/bin/pytest tests/reliability/test_crash_faults.py -q
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta

import httpx
import pytest

from tests.platform import SERVICES, PlatformProcesses
from tests.reliability.checks import assert_saga_completed
from tests.reliability.recovery import FIRST_EVENT_BOUND, RESTART_BOUND, RecoveryWatch
from tests.reliability.saga import Saga, Tally, call, eventually, list_all, quiesce, staff

pytestmark = pytest.mark.integration

CONTRACTS = int(os.environ.get("SMART_CRASH_CONTRACTS", "40"))
ROUNDS = int(os.environ.get("SMART_CRASH_ROUNDS", "1"))
CONCURRENCY = 8


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def lap(self, what: str) -> None:
        print(f"[{time.monotonic() - self.start:6.1f}s] phase {what}", flush=True)


class Crasher:
    """Kills services with SIGKILL and brings them back, counting what it did."""

    def __init__(self, platform: PlatformProcesses, http: httpx.AsyncClient, tally: Tally,
                 watch: RecoveryWatch):
        self.platform = platform
        self.http = http
        self.tally = tally
        self.watch = watch
        self.down: list[str] = []

    async def kill(self, name: str) -> None:
        await self.tally.bank(self.http, self.platform, name)
        self.platform.kill(name)
        self.tally.faults[f"SIGKILL {name}"] += 1
        self.down.append(name)

    async def restart(self) -> None:
        for name in self.down:
            await self.watch.restarted(name, "SIGKILL")
            self.platform.start(name)
        self.down.clear()

    async def crash(self, name: str, down_for: float = 0.0) -> None:
        """Kill ``name`` now and start it again after ``down_for`` seconds."""
        await self.kill(name)
        await asyncio.sleep(down_for)
        await self.restart()

    async def ready(self) -> None:
        await self.restart()
        await asyncio.to_thread(self.platform.wait_ready)


async def in_parallel(count: int, work: object) -> list[object]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> object:
        async with gate:
            return await work(n)  # type: ignore[operator]

    return list(await asyncio.gather(*(one(n) for n in range(count))))


@pytest.mark.timeout(300 + 3 * CONTRACTS)
async def test_every_service_killed_in_turn_loses_nothing_and_doubles_nothing(
    platform: PlatformProcesses, http: httpx.AsyncClient, tally: Tally,
) -> None:
    watch = await RecoveryWatch.around(
        platform, lambda watch: _crash_run(platform, http, tally, watch))
    assert watch.slower_than(FIRST_EVENT_BOUND, RESTART_BOUND) == [], "too long to recover"


async def _crash_run(platform: PlatformProcesses, http: httpx.AsyncClient, tally: Tally,
                     watch: RecoveryWatch) -> None:
    clock = Stopwatch()
    saga = Saga(platform, http)
    crasher = Crasher(platform, http, tally, watch)
    members = max(4, CONTRACTS // 8)
    await in_parallel(members, lambda n: saga.register())
    today = await saga.today()
    first_day = today + timedelta(days=1)

    clock.lap('1.')
    # 1. contracts drafted, submitted and signed in chunks; after each chunk a service dies.
    #    Consumers (fund, billing, payroll, collection) stay down while the next chunk is
    #    signed, so their events pile up; an HTTP-facing one comes back before it is called.
    order = ["fund", "billing", "payroll", "collection", "contracts", "members"] * ROUNDS
    chunks = len(order)
    signed = 0
    for n, victim in enumerate(order):
        size = CONTRACTS * (n + 1) // chunks - signed
        await in_parallel(size, lambda _: saga.contract(first_day))
        signed += size
        await crasher.restart()
        if victim in ("contracts", "members"):
            await crasher.crash(victim)
            await crasher.ready()
        else:
            await crasher.kill(victim)
    await crasher.ready()
    assert len(saga.contracts) == CONTRACTS

    clock.lap('2.')
    # 2. the clock passes the last work day: declarations, completions, invoices and salary
    #    decisions flow through every service while they are killed one after another
    await platform.advance_clock(timedelta(days=4))
    for _ in range(ROUNDS):
        for victim in ("contracts", "billing", "payroll", "fund", "collection", "members"):
            await asyncio.sleep(0.7)
            await crasher.crash(victim, down_for=0.5)
    await crasher.ready()

    invoices = await eventually(
        lambda: _all_invoices(saga), timeout=180, what=f"{CONTRACTS} invoices issued")

    clock.lap('3.')
    # 3. half the invoices paid by staff, billing killed in the middle; every payment is sent
    #    twice with the same Idempotency-Key (a client retrying after a lost answer)
    today = await saga.today()
    to_pay = sorted(invoices.values(), key=lambda i: i["number"])[: CONTRACTS // 2]
    half = len(to_pay) // 2
    for invoice in to_pay[:half]:
        await saga.pay(invoice, today)
    await crasher.crash("billing", down_for=0.5)
    await crasher.crash("fund", down_for=0.2)
    for invoice in to_pay[half:]:
        await saga.pay(invoice, today)
    retried = [await saga.pay(invoice, today) for invoice in to_pay]
    tally.faults["payment retried with the same Idempotency-Key"] += len(retried)
    paid_contracts = {i["contract_id"] for i in to_pay}

    clock.lap('4.')
    # 4. past every pay date: salaries due; a payment run opened, payroll killed, confirmed
    await platform.advance_clock(timedelta(days=14))
    await crasher.crash("payroll", down_for=0.5)
    await crasher.ready()
    await eventually(lambda: _salaries_due(saga), timeout=180, what="every salary due")
    today = await saga.today()
    run = await call(http, "POST", saga.url("payroll", "/v1/payment-runs"),
                     json={"pay_date": today.isoformat()},
                     headers=dict(staff(platform), **{"Idempotency-Key": f"run-{today}"}),
                     expect=(200, 201))
    run_id = run.json()["payment_run_id"]
    await crasher.crash("payroll")
    await crasher.ready()
    for _ in range(2):  # confirming twice pays nothing twice
        await call(http, "POST", saga.url("payroll", f"/v1/payment-runs/{run_id}/confirm"),
                   headers=staff(platform))
    await crasher.crash("fund", down_for=0.3)
    await crasher.ready()

    clock.lap('5.')
    # 5. once everything settled: the guarantees
    await quiesce(platform)
    _, summary = await assert_saga_completed(saga, paid_contracts)
    await tally.bank_all(http, platform)
    summary.update(faults=sum(tally.faults.values()), processed=tally.processed,
                   duplicates_suppressed=tally.duplicates)
    print(f"\ncrash faults: {dict(tally.faults)}\nsummary: {summary}")
    assert set(SERVICES) <= {k.split()[-1] for k in tally.faults if k.startswith("SIGKILL")}


async def _all_invoices(saga: Saga) -> dict[str, dict[str, object]] | None:
    invoices = await saga.invoices()
    return invoices if len(invoices) == len(saga.contracts) else None


async def _salaries_due(saga: Saga) -> bool:
    mine = set(saga.contracts)
    salaries = await list_all(saga.http, saga.url("payroll", "/v1/salaries"), staff(saga.platform))
    return len({s["contract_id"] for s in salaries if s["contract_id"] in mine}) == len(mine)
