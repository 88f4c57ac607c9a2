"""Kill -9 between a withholding and its booking: a member's loan instalments withheld from
three salaries while the fund is SIGKILLed (the withholding waits on Kafka for it) and while
payroll is SIGKILLed the moment it has stored the salary that withholds (its outbox may not have
published yet). After each restart every instalment is booked once, none is lost and none is
withheld from a second salary; the fund's ledger balances.

Runs on a platform of its own, as it moves the clock by months.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from smart_shared.mongo import connect
from smart_testing import Infrastructure

from tests.e2e.lending import ACTIVE_LONG_ENOUGH, Lending, Member, amount_of
from tests.platform import PlatformProcesses, private_platform
from tests.reliability.saga import database_names, published, quiesce

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

SALARY = Decimal("2500.00")  # a net of about 1,420: a fifth of it covers an instalment


@pytest.fixture(scope="module")
def platform(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory,
             ) -> Iterator[PlatformProcesses]:
    home: Path = tmp_path_factory.mktemp("loan-crash")
    running = private_platform(home, infrastructure.kafka_bootstrap_servers,
                               infrastructure.mongodb_uri)
    yield running
    running.stop_all()
    asyncio.run(running.forget())


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def lending(platform: PlatformProcesses) -> AsyncIterator[Lending]:
    # a fresh connection per call: a kept-alive one may be closed by the service while the
    # clock moves, just as the next call reuses it
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_keepalive_connections=0),
                                 ) as http:
        yield Lending(platform, http)


async def restarted(platform: PlatformProcesses, name: str) -> None:
    platform.start(name)
    await asyncio.to_thread(platform.wait_ready, (name,))


async def salary_stored(platform: PlatformProcesses, contract_id: str) -> None:
    """Return the moment payroll has committed the contract's salary."""
    client = connect(platform.env["MONGODB_URI"])
    try:
        salaries = client[database_names(platform)["payroll"]]["salaries"]
        for _ in range(1200):
            if await salaries.find_one({"contract_id": contract_id}, {"_id": 1}):
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"payroll stored no salary for contract {contract_id}")
    finally:
        await client.close()


async def withheld(lending: Lending, member: Member, contract_id: str) -> Decimal:
    salary = await lending.salary_of(member, contract_id)
    assert salary is not None
    return amount_of(salary["breakdown"]["loan_withheld"])


async def test_no_instalment_is_lost_or_withheld_twice_when_the_fund_or_payroll_is_killed(
        platform: PlatformProcesses, lending: Lending) -> None:
    lena = await lending.member("Lena", "BE71096123456769")
    salary = await lending.contract_done(lena, Decimal("3000.00"))
    await lending.invoice_paid(salary["contract_id"])
    await lending.move_to(await lending.today() + ACTIVE_LONG_ENOUGH)
    [loan] = await lending.loans_paid_out(await lending.loan_applied(lena, "600.00", 3))
    schedule = loan["schedule"]
    due = [amount_of(entry["amount"]) for entry in schedule]

    # 1. the fund is down while payroll withholds instalment 1: the withholding waits for it
    await lending.move_to(date.fromisoformat(schedule[0]["due_date"]))
    first = await lending.contract_declared(lena, SALARY)
    platform.kill("fund")
    await lending.work_completed(lena, first)
    assert await withheld(lending, lena, first) == due[0]
    await restarted(platform, "fund")
    await lending.instalment_paid(loan["loan_id"], 1)
    await lending.ledger_checks()

    # 2. payroll is killed the moment it stored the salary withholding instalment 2
    await lending.move_to(date.fromisoformat(schedule[1]["due_date"]))
    second = await lending.contract_declared(lena, SALARY)
    work_day = date.fromisoformat((await lending.contract(second))["work_days"][-1])
    stored = asyncio.create_task(salary_stored(platform, second))
    await lending.move_to(work_day + timedelta(days=1))
    await stored
    platform.kill("payroll")
    await restarted(platform, "payroll")
    await lending.work_completed(lena, second)
    assert await withheld(lending, lena, second) == due[1]
    await lending.instalment_paid(loan["loan_id"], 2)
    await lending.ledger_checks()

    # 3. the next salary withholds instalment 3 only: nothing of 1 or 2 again
    await lending.move_to(date.fromisoformat(schedule[2]["due_date"]))
    third = await lending.contract_done(lena, SALARY)
    assert amount_of(third["breakdown"]["loan_withheld"]) == due[2]
    ended = await lending.poll_loan(loan["loan_id"], "repaid")
    assert [len(entry["withheld_from"]) for entry in ended["schedule"]] == [1, 1, 1]

    await quiesce(platform)
    events = await published(platform)
    withholdings = [e for e in events.distinct("InstalmentWithheld").values()
                    if e.loan_id == loan["loan_id"]]
    payments = [e for e in events.distinct("InstalmentPaid").values()
                if e.loan_id == loan["loan_id"]]
    assert Counter(e.number for e in withholdings) == Counter({1: 1, 2: 1, 3: 1})
    assert Counter(e.number for e in payments) == Counter({1: 1, 2: 1, 3: 1})
    assert [e.amount.amount for e in sorted(payments, key=lambda e: e.number)] == due
    assert {e.salary_id for e in payments} == {e.salary_id for e in withholdings}
    await lending.ledger_checks()
