"""Crash faults of the infrastructure: Kafka and mongod SIGKILLed mid-flow, then restarted.

Never the shared broker and mongod other suites use: this module starts a PRIVATE Kafka broker
and a PRIVATE mongod with the local launcher (own ``SMART_HOME``, free ports, the launcher's
cached binaries), runs a private platform on them, kills each with SIGKILL while contracts are
in flight, restarts it, and checks the same end state as the service crash run. Each restart is
timed until every consuming service handled its first event and drained what waited
(``tests/reliability/recovery.py``); the figures are printed per service and fault.

It takes a few minutes (two broker starts), so it runs on request:

    SMART_INFRA_CRASH=1 .venv/bin/pytest tests/reliability -m infrastructure_crash -q
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from smart_testing import free_port

from tests.platform import PlatformProcesses, private_platform
from tests.reliability.checks import assert_saga_completed
from tests.reliability.recovery import RESTART_BOUND, RecoveryWatch
from tests.reliability.saga import Saga, Tally, eventually, quiesce

pytestmark = [
    pytest.mark.integration,
    pytest.mark.infrastructure_crash,
    pytest.mark.timeout(1800),
    pytest.mark.skipif(os.environ.get("SMART_INFRA_CRASH") != "1",
                       reason="kills a private Kafka and mongod: set SMART_INFRA_CRASH=1"),
]

REPO = Path(__file__).resolve().parents[2]
SMARTCTL = REPO / "deploy" / "local" / "smartctl.py"
CONTRACTS = int(os.environ.get("SMART_INFRA_CRASH_CONTRACTS", "16"))


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self, what: str) -> None:
        print(f"[{time.monotonic() - self.start:6.1f}s] {what}", flush=True)


class PrivateInfrastructure:
    """A Kafka broker and a mongod of our own, started and killed through the launcher."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = dict(os.environ, SMART_HOME=str(home),
                        SMART_KAFKA_PORT=str(free_port()),
                        SMART_KAFKA_CONTROLLER_PORT=str(free_port()),
                        SMART_MONGO_PORT=str(free_port()))
        shared_cache = Path(os.environ.get("SMART_HOME", REPO / ".local")) / "cache"
        if not (shared_cache / "kafka-libs").exists() or not (shared_cache / "mongodb").exists():
            pytest.skip(f"no cached Kafka and mongod in {shared_cache} (run make infra first)")
        home.mkdir(parents=True, exist_ok=True)
        (home / "cache").symlink_to(shared_cache.resolve())

    @property
    def kafka(self) -> str:
        return f"127.0.0.1:{self.env['SMART_KAFKA_PORT']}"

    @property
    def mongo(self) -> str:
        return (f"mongodb://127.0.0.1:{self.env['SMART_MONGO_PORT']}/"
                "?replicaSet=rs0&directConnection=true")

    def smartctl(self, *args: str) -> None:
        subprocess.run([sys.executable, str(SMARTCTL), *args], env=self.env, check=True,
                       cwd=REPO, stdout=subprocess.DEVNULL, timeout=300)

    def up(self) -> None:
        self.smartctl("up", "--infra-only")

    def kill(self, name: str) -> None:
        """SIGKILL the private ``kafka`` or ``mongod`` (its pid file is in our own home)."""
        pid = int((self.home / "run" / f"{name}.pid").read_text())
        os.killpg(pid, signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)

    def down(self) -> None:
        self.smartctl("down")


@pytest.fixture(scope="module")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateInfrastructure]:
    home = tmp_path_factory.mktemp("private-infra")
    private = PrivateInfrastructure(home)
    try:
        private.up()
        yield private
    finally:
        private.down()
        shutil.rmtree(home / "data", ignore_errors=True)


@pytest.fixture(scope="module")
def infra_platform(infra: PrivateInfrastructure,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcesses]:
    running = private_platform(tmp_path_factory.mktemp("infra-platform"), infra.kafka,
                               infra.mongo)
    yield running
    running.stop_all()


async def test_kafka_and_mongod_killed_mid_flow_lose_nothing_and_double_nothing(
    infra: PrivateInfrastructure, infra_platform: PlatformProcesses, tally: Tally,
) -> None:
    platform = infra_platform
    watch = await RecoveryWatch.around(
        platform, lambda watch: _kill_the_infrastructure(infra, platform, tally, watch))
    # the services kept running: the first event after the broker or mongod is back
    assert watch.slower_than(RESTART_BOUND, RESTART_BOUND) == [], "too long to recover"


async def _kill_the_infrastructure(infra: PrivateInfrastructure, platform: PlatformProcesses,
                                   tally: Tally, watch: RecoveryWatch) -> None:
    lap = Stopwatch()
    async with httpx.AsyncClient(timeout=30) as http:
        saga = Saga(platform, http)
        for _ in range(4):
            await saga.register()
        first_day = await saga.today() + timedelta(days=1)
        for _ in range(CONTRACTS // 2):
            await saga.contract(first_day)

        lap('# Kafka dies with')
        # Kafka dies with ContractSigned events still to relay and consume
        infra.kill("kafka")
        tally.faults["SIGKILL kafka"] += 1
        for _ in range(CONTRACTS - CONTRACTS // 2):  # signing goes on: the outbox keeps them
            await saga.contract(first_day)
        await asyncio.sleep(3)
        await asyncio.to_thread(infra.up)
        await watch.all_restarted("SIGKILL kafka")
        await asyncio.to_thread(platform.wait_ready, timeout=180)

        lap('# mongod dies while')
        # mongod dies while the completions flow into invoices and salary decisions
        await platform.advance_clock(timedelta(days=4))
        infra.kill("mongod")
        tally.faults["SIGKILL mongod"] += 1
        await asyncio.sleep(3)
        await asyncio.to_thread(infra.up)
        await watch.all_restarted("SIGKILL mongod")
        await asyncio.to_thread(platform.wait_ready, timeout=180)

        async def invoiced() -> dict[str, object] | None:
            invoices = await saga.invoices()
            return invoices if len(invoices) == CONTRACTS else None

        lap('invoices = await eventually(in')
        invoices = await eventually(invoiced, timeout=240, what="every invoice")
        today = await saga.today()
        paid = sorted(invoices.values(), key=lambda i: str(i["number"]))[: CONTRACTS // 2]
        for invoice in paid[: len(paid) // 2]:
            await saga.pay(invoice, today)
        infra.kill("kafka")  # again, with payments' events in flight
        tally.faults["SIGKILL kafka"] += 1
        for invoice in paid[len(paid) // 2:]:
            await saga.pay(invoice, today)
        await asyncio.to_thread(infra.up)
        await watch.all_restarted("SIGKILL kafka")
        await asyncio.to_thread(platform.wait_ready, timeout=180)

        lap('await platform.advance_clock(t')
        await platform.advance_clock(timedelta(days=14))
        await quiesce(platform, timeout=240)
        _, summary = await assert_saga_completed(saga, {str(i["contract_id"]) for i in paid})
        await tally.bank_all(http, platform)
        print(f"\ninfrastructure crash: {summary}")
