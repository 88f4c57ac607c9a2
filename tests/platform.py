"""The whole platform as separate processes: six services on the genuine Kafka and mongod.

Used by the end-to-end tests (a private platform: own databases, topics, consumer groups and
clock, on free ports) and by the demo (the platform that ``make up`` started).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from smart_shared.clock import SharedClock
from smart_shared.mongo import connect
from smart_testing import forget_deployment, free_port, unique_name

SERVICES = ("members", "contracts", "billing", "payroll", "fund", "collection")
LOCAL_PORTS = {name: 8001 + n for n, name in enumerate(SERVICES)}
# the services deployed with a mailer of their own (smart_shared.mailer): their mails attach
# documents (invoices, payslips, letters) that take CPU to render
MAILERS = ("billing", "payroll", "collection")


def replica_key(name: str, replica: int) -> str:
    """How ``processes`` and ``urls`` name a replica: the service's name for the first,
    ``fund@2`` for the second, and so on."""
    return name if replica == 1 else f"{name}@{replica}"


@dataclass
class PlatformProcesses:
    """Where each service answers, and how to move the platform's shared clock."""

    urls: dict[str, str]
    env: dict[str, str]
    home: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # the services whose mails their mailer sends, a process of its own (``billing-mailer``)
    mailers: tuple[str, ...] = ()

    def database(self, service: str) -> str:
        """The name of ``service``'s database in this platform."""
        return f"{self.env.get('SMART_DATABASE_PREFIX', '')}smart_{service}"

    async def advance_clock(self, delta: timedelta) -> None:
        """Move the time of every service at once, then give their schedulers a moment."""
        client = connect(self.env["MONGODB_URI"])
        try:
            await SharedClock(client, self.env.get("SMART_CLOCK_ID", "clock")).advance(delta)
        finally:
            await client.close()
        await asyncio.sleep(1.5)  # every process polls the shared clock twice a second

    def start(self, name: str, replica: int = 1) -> None:
        """Start one replica of a service; a restart is the same replica, taking over at once
        (its process is ``replica_key(name, replica)`` in ``processes`` and ``urls``)."""
        key = replica_key(name, replica)
        env = dict(self.env, SMART_REPLICA=str(replica))
        if name in self.mailers:
            env["SMART_SEPARATE_MAILER"] = "true"
        self._spawn(key, [name], env)

    def start_mailer(self, name: str) -> None:
        """Start the mailer of a service (``processes`` and ``urls`` key ``billing-mailer``)."""
        key = f"{name}-mailer"
        self.urls.setdefault(key, f"http://127.0.0.1:{free_port()}")
        self._spawn(key, [name, "mailer"], dict(self.env, SMART_REPLICA="1"))

    def _spawn(self, key: str, arguments: list[str], env: dict[str, str]) -> None:
        env["SMART_SERVICE_PORT"] = self.urls[key].rsplit(":", 1)[1]
        with open(self.home / f"{key}.log", "ab") as log:  # the child keeps its own handle
            self.processes[key] = subprocess.Popen(
                [sys.executable, "-m", *arguments], env=env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )

    def kill(self, name: str) -> None:
        """SIGKILL one service, or one replica by its key (a crash: no clean shutdown)."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()

    async def forget(self) -> None:
        """Drop the private platform's databases and topics (nothing else is touched)."""
        await forget_deployment(self.env["MONGODB_URI"], self.env["KAFKA_BOOTSTRAP_SERVERS"],
                                [self.database(name) for name in SERVICES],
                                self.env["SMART_TOPIC_NAMESPACE"])

    def wait_ready(self, names: tuple[str, ...] = SERVICES, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        for name in names:
            while True:
                try:
                    with urllib.request.urlopen(f"{self.urls[name]}/health/ready", timeout=2):
                        break
                except OSError:
                    process = self.processes.get(name)
                    if process and process.poll() is not None:
                        log = (self.home / f"{name}.log").read_text(errors="replace")  # a key
                        raise RuntimeError(f"{name} exited:\n{log[-3000:]}") from None
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{name} not ready within {timeout}s") from None
                    time.sleep(0.3)


def private_platform(home: Path, kafka: str, mongo: str, replicas: int = 1,
                     mailers: tuple[str, ...] = (), **extra: str) -> PlatformProcesses:
    """Start a private platform (own databases, topics, groups, clock) and wait until ready.

    With ``replicas`` > 1 every service runs that many replicas in its consumer group; the
    extra replicas start first, so they hold the outbox relays' leases and replica 1 (where
    ``urls[name]`` points) is the one left when they are killed. The services in ``mailers``
    leave their mails to a mailer of their own (``smart_shared.mailer``), as deployed."""
    home.mkdir(parents=True, exist_ok=True)
    run = unique_name("e2e")
    env = dict(os.environ)
    env.update({
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "MONGODB_URI": mongo,
        "SMART_BRANCHES": "BE,FR",
        "SMART_DEPLOYMENT": run,
        "SMART_DATABASE_PREFIX": f"{run}_",
        "SMART_TOPIC_NAMESPACE": f"{run}.",
        "SMART_CLOCK": "shared",
        "SMART_CLOCK_ID": run,
        "SMART_HOME": str(home),
        "SMART_SCHEDULER_INTERVAL": "0.5",
        # these platforms play each payment run as staff do (payroll's tests cover the automatic)
        "SMART_AUTOMATIC_PAYMENT_RUNS": "false",
        "SMART_FUND_INITIAL_CAPITAL_BE": "500000.00",
        "SMART_FUND_INITIAL_CAPITAL_FR": "300000.00",
        "SMART_LOG_LEVEL": "INFO",
        # every client of a test platform (clients signing, applicants) is one loopback address
        "SMART_PUBLIC_RATE_PER_MINUTE": "1000000",
        "SMART_PUBLIC_BURST": "100000",
        # the links the services mail (sign-in, signing, invoice) lead to this platform's portal
        "SMART_PORTAL_URL": f"http://127.0.0.1:{free_port()}",
    })
    env.update(extra)
    urls = {replica_key(name, r): f"http://127.0.0.1:{free_port()}"
            for name in SERVICES for r in range(1, replicas + 1)}
    # the tokens of this platform's sign-ins are verified with its own members' keys
    if "SMART_JWKS_URL" not in extra:
        env["SMART_JWKS_URL"] = f"{urls['members']}/.well-known/jwks.json"
    platform = PlatformProcesses(urls, env, home, mailers=mailers)
    try:
        for name in mailers:
            platform.start_mailer(name)
        for replica in range(replicas, 0, -1):
            for name in SERVICES:
                platform.start(name, replica)
            platform.wait_ready(tuple(replica_key(name, replica) for name in SERVICES))
        platform.wait_ready(tuple(f"{name}-mailer" for name in mailers))
    except BaseException:
        platform.stop_all()
        raise
    return platform


def start_portal(platform: PlatformProcesses) -> str:
    """Start the portal beside a private platform's six services, calling their APIs, where
    their mails' links lead; its URL."""
    platform.urls["portal"] = platform.env["SMART_PORTAL_URL"]
    platform.env.update({f"SMART_{name.upper()}_URL": platform.urls[name] for name in SERVICES})
    platform.start("portal")
    platform.wait_ready(("portal",))
    return platform.urls["portal"]


def local_platform() -> PlatformProcesses:
    """The platform ``make up`` started on ports 8001-8006 (for the demo)."""
    env = dict(os.environ)
    env.setdefault("MONGODB_URI",
                   "mongodb://127.0.0.1:27017/?replicaSet=rs0&directConnection=true")
    home = Path(env.get("SMART_HOME", ".local"))
    urls = {name: f"http://127.0.0.1:{port}" for name, port in LOCAL_PORTS.items()}
    return PlatformProcesses(urls, env, home)
