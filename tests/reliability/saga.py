"""Driving the whole platform through its public APIs, and reading what it did.

Used by the reliability suites: members registered and activated, contracts drafted, submitted
and signed, invoices paid, salaries paid; then the events on Kafka, the service databases, the
dead-letter topics and the ``/metrics`` counters are read back to check the guarantees.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from schwifty import IBAN
from smart_shared.auth import mint_token
from smart_shared.events import TOPICS, decode, header_map
from smart_shared.mongo import connect
from smart_shared.settings import Settings

from tests.platform import SERVICES, PlatformProcesses

POISON_HEADER = "smart_test_poison"
"""Every message a test sends on purpose as poison carries this header (kept in the DLQ)."""

RETRYABLE = (httpx.TransportError,)


# ---------------------------------------------------------------- identities and tokens


def settings_of(platform: PlatformProcesses) -> Settings:
    return Settings(SMART_JWT_SECRET=platform.env.get(  # type: ignore[call-arg]
        "SMART_JWT_SECRET", Settings().jwt_secret))


def token(platform: PlatformProcesses, role: str, branch: str = "BE",
          member_id: str | None = None, **kwargs: Any) -> str:
    return mint_token(settings_of(platform), role, branch, member_id=member_id,  # type: ignore[arg-type]
                      **kwargs)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def staff(platform: PlatformProcesses, branch: str = "BE") -> dict[str, str]:
    return bearer(token(platform, "staff", branch))


def admin(platform: PlatformProcesses, branch: str = "BE") -> dict[str, str]:
    return bearer(token(platform, "admin", branch))


def member(platform: PlatformProcesses, member_id: str, branch: str = "BE") -> dict[str, str]:
    return bearer(token(platform, "member", branch, member_id))


def be_national_number(n: int) -> tuple[str, date]:
    """A valid Belgian national number (born 1940-1999) and its birth date; unique per ``n``."""
    born = date(1940, 1, 1) + timedelta(days=n % 21_900)
    serial = 1 + (n // 21_900) % 997
    base = f"{born:%y%m%d}{serial:03d}"
    check = 97 - int(base) % 97
    return f"{base}{check:02d}", born


def be_iban(n: int) -> str:
    """A valid Belgian IBAN, unique per ``n``."""
    return str(IBAN.generate("BE", bank_code="096", account_code=f"{n % 10_000_000:07d}"))


@dataclass
class Person:
    first_name: str
    last_name: str
    email: str
    national_id: str
    birth_date: date
    iban: str

    @classmethod
    def make(cls, n: int, tag: str | None = None) -> Person:
        tag = tag or secrets.token_hex(4)
        national_id, born = be_national_number(n)
        return cls(first_name=f"Ann{tag}", last_name=f"Peeters{tag}",
                   email=f"ann.{tag}.{n}@example.be", national_id=national_id,
                   birth_date=born, iban=be_iban(n))

    def registration(self) -> dict[str, Any]:
        return {
            "branch": "BE", "first_name": self.first_name, "last_name": self.last_name,
            "email": self.email, "birth_date": self.birth_date.isoformat(),
            "national_id": self.national_id,
            "address": {"street": "Rue Coenraets 72", "postal_code": "1060",
                        "city": "Saint-Gilles", "country": "BE"},
            "iban": self.iban,
            "activities": [{"name": "musician", "kind": "artistic", "joint_committee": "304"}],
        }


# ---------------------------------------------------------------- HTTP with patience


async def call(http: httpx.AsyncClient, method: str, url: str, *, expect: Iterable[int] = (200,),
               attempts: int = 180, **kwargs: Any) -> httpx.Response:
    """One HTTP call, retried while the service is down (restarting after a kill: start-up alone
    took up to 40 s on two crowded cores, more than 60 s with a load average of 13), as long as
    the restart bound of docs/reliability.md: 90 s."""
    expected = set(expect)
    last: Any = None
    for _ in range(attempts):
        try:
            response = await http.request(method, url, **kwargs)
        except RETRYABLE as error:
            last = error
            await asyncio.sleep(0.5)
            continue
        if response.status_code in expected:
            return response
        if response.status_code == 503:
            last = response.text
            await asyncio.sleep(0.5)
            continue
        raise AssertionError(f"{method} {url} → {response.status_code}: {response.text}")
    raise AssertionError(f"{method} {url} never answered: {last!r}")


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 60.0,
                     interval: float = 0.5, what: str = "condition") -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    result: Any = None
    while True:
        try:
            result = await check()
        except RETRYABLE as error:
            result = error
        if result and not isinstance(result, Exception):
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)


async def list_all(http: httpx.AsyncClient, url: str, headers: dict[str, str],
                   **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = dict(params, limit=500)
        if cursor:
            query["cursor"] = cursor
        page = (await call(http, "GET", url, headers=headers, params=query)).json()
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items


# ---------------------------------------------------------------- the saga


@dataclass
class Saga:
    """Members and contracts driven through the public APIs of a running platform."""

    platform: PlatformProcesses
    http: httpx.AsyncClient
    members: list[str] = field(default_factory=list)
    people: dict[str, Person] = field(default_factory=dict)
    contracts: list[str] = field(default_factory=list)
    contract_member: dict[str, str] = field(default_factory=dict)
    serial: int = 0
    drafted: int = 0

    def url(self, service: str, path: str) -> str:
        return self.platform.urls[service] + path

    async def register(self, person: Person | None = None) -> str:
        """Register an applicant, subscribe and pay a share: an active member."""
        self.serial += 1
        person = person or Person.make(self.serial + secrets.randbelow(10_000) * 1000)
        created = await call(self.http, "POST", self.url("members", "/v1/members"),
                             json=person.registration(), expect=(201,))
        member_id = created.json()["member_id"]
        shares = self.url("members", f"/v1/members/{member_id}/shares")
        share = await call(self.http, "POST", shares,
                           json={"count": 1}, headers=member(self.platform, member_id),
                           expect=(201,))
        body = share.json()
        await call(self.http, "POST",
                   f"{shares}/{body['share_id']}/payment",
                   json={"amount": body["total"]}, headers=staff(self.platform),
                   expect=(200,))
        self.members.append(member_id)
        self.people[member_id] = person
        return member_id

    def contract_body(self, n: int, first_day: date, days: int = 2) -> dict[str, Any]:
        amount = Decimal(300 + (n * 37) % 700).quantize(Decimal("0.01"))
        return {
            "activity": "musician",
            "client": {
                "name": f"Client {n} {secrets.token_hex(2)}", "kind": "consumer",
                "country": "BE", "email": f"client{n}@example.be", "language": "fr",
                "address": {"street": "Rue Haute 1", "postal_code": "1000",
                            "city": "Bruxelles", "country": "BE"},
            },
            "description": f"Concert {n}",
            "work_days": [(first_day + timedelta(days=i)).isoformat() for i in range(days)],
            "amount_excl_vat": {"amount": str(amount), "currency": "EUR"},
            "expenses": {"amount": "10.00", "currency": "EUR"},
        }

    async def draft(self, member_id: str, n: int, first_day: date) -> str:
        """Draft a contract (waiting until contracts learnt that the member is active)."""
        headers = member(self.platform, member_id)
        body = self.contract_body(n, first_day)
        for _ in range(120):
            try:
                response = await self.http.post(self.url("contracts", "/v1/contracts"),
                                                json=body, headers=headers)
            except RETRYABLE:
                await asyncio.sleep(0.5)
                continue
            if response.status_code == 201:
                contract_id: str = response.json()["contract_id"]
                self.contracts.append(contract_id)
                self.contract_member[contract_id] = member_id
                return contract_id
            if response.status_code in (409, 503) and (
                    response.status_code == 503 or "not active" in response.text.lower()
                    or "member" in response.text.lower()):
                await asyncio.sleep(0.5)
                continue
            raise AssertionError(f"draft → {response.status_code}: {response.text}")
        raise AssertionError("contracts never learnt the member is active")

    async def submit_and_sign(self, contract_id: str) -> None:
        headers = member(self.platform, self.contract_member[contract_id])
        submitted = await call(self.http, "POST",
                               self.url("contracts", f"/v1/contracts/{contract_id}/submit"),
                               headers=headers)
        signed = await call(self.http, "POST",
                            self.url("contracts", submitted.json()["signing_path"]))
        assert signed.json()["status"] == "signed", signed.text

    async def contract(self, first_day: date) -> str:
        # numbered before the first await: contracts drafted side by side go to the members in
        # turn, never many to one member (whose guarantee cap they would exceed)
        n, self.drafted = self.drafted, self.drafted + 1
        member_id = self.members[n % len(self.members)]
        contract_id = await self.draft(member_id, n, first_day)
        await self.submit_and_sign(contract_id)
        return contract_id

    async def today(self) -> date:
        from smart_shared.clock import SharedClock

        client = connect(self.platform.env["MONGODB_URI"])
        try:
            clock = SharedClock(client, self.platform.env["SMART_CLOCK_ID"])
            await clock.refresh()
            return clock.today()
        finally:
            await client.close()

    async def invoices(self) -> dict[str, dict[str, Any]]:
        """Invoices of this saga's contracts, by contract id (staff of BE)."""
        items = await list_all(self.http, self.url("billing", "/v1/invoices"),
                               staff(self.platform))
        mine = set(self.contracts)
        return {i["contract_id"]: i for i in items if i["contract_id"] in mine}

    async def pay(self, invoice: dict[str, Any], on: date,
                  key: str | None = None) -> dict[str, Any]:
        headers = dict(staff(self.platform), **{"Idempotency-Key": key or invoice["invoice_id"]})
        body = {"amount": {"amount": invoice["total"], "currency": "EUR"},
                "received_on": on.isoformat(), "payer_iban": "BE68539007547034",
                "invoice_id": invoice["invoice_id"]}
        response = await call(self.http, "POST", self.url("billing", "/v1/payments"),
                              json=body, headers=headers, expect=(201,))
        return dict(response.json())


# ---------------------------------------------------------------- databases and Kafka


def database_names(platform: PlatformProcesses) -> dict[str, str]:
    prefix = platform.env["SMART_DATABASE_PREFIX"]
    return {name: f"{prefix}smart_{name}" for name in SERVICES}


def topic_names(platform: PlatformProcesses) -> list[str]:
    namespace = platform.env["SMART_TOPIC_NAMESPACE"]
    return [f"{namespace}{topic}" for topic in TOPICS]


async def read_topic(bootstrap: str, topic: str) -> list[Any]:
    """Every record of ``topic`` from the beginning (no consumer group)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    records: list[Any] = []
    try:
        partitions = consumer.assignment()
        while not partitions:
            await asyncio.sleep(0.1)
            partitions = consumer.assignment()
        ends = await consumer.end_offsets(list(partitions))
        async def behind() -> bool:
            for tp, end in ends.items():
                if end and await consumer.position(tp) < end:
                    return True
            return False

        while await behind():
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()
    return records


@dataclass
class Published:
    """What the platform published: decoded events, by type; raw duplicates counted."""

    by_type: dict[str, list[tuple[str, Any]]]  # event class name -> [(event id, event)]
    records: int
    redelivered_copies: int  # same event id on the topic more than once (relay at-least-once)

    def distinct(self, kind: str) -> dict[str, Any]:
        """Distinct events (by id) of one class (``SalaryDue``), keyed by event id."""
        return dict(self.by_type.get(kind, []))

    def per_contract(self, kind: str) -> Counter[str]:
        return Counter(e.contract_id for e in self.distinct(kind).values())


async def published(platform: PlatformProcesses) -> Published:
    bootstrap = platform.env["KAFKA_BOOTSTRAP_SERVERS"]
    by_type: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    ids: Counter[str] = Counter()
    total = 0
    for topic in topic_names(platform):
        for record in await read_topic(bootstrap, topic):
            total += 1
            headers = header_map(record.headers or [])
            if POISON_HEADER in headers:
                continue
            envelope, event = decode(headers, record.value)
            ids[envelope.id] += 1
            if ids[envelope.id] == 1:
                by_type[type(event).__name__].append((envelope.id, event))
    return Published(dict(by_type), total, sum(n - 1 for n in ids.values()))


async def dead_letters(platform: PlatformProcesses) -> list[dict[str, str]]:
    """Headers of every message in the deployment's dead-letter topics."""
    bootstrap = platform.env["KAFKA_BOOTSTRAP_SERVERS"]
    found: list[dict[str, str]] = []
    for topic in topic_names(platform):
        for record in await read_topic(bootstrap, f"{topic}.dlq"):
            headers = header_map(record.headers or [])
            headers["_value"] = (record.value or b"")[:200].decode("utf-8", "replace")
            found.append(headers)
    return found


async def unintended_dead_letters(platform: PlatformProcesses) -> list[dict[str, str]]:
    return [h for h in await dead_letters(platform) if POISON_HEADER not in h]


async def pending_outbox(platform: PlatformProcesses) -> int:
    client = connect(platform.env["MONGODB_URI"])
    try:
        total = 0
        for db in database_names(platform).values():
            total += await client[db]["outbox"].count_documents({"pending": True})
        return total
    finally:
        await client.close()


async def consumer_lag(platform: PlatformProcesses) -> int:
    """Messages not yet committed by the services' consumer groups, over every topic."""
    bootstrap = platform.env["KAFKA_BOOTSTRAP_SERVERS"]
    admin_client = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin_client.start()
    await consumer.start()
    try:
        lag = 0
        deployment = platform.env["SMART_DEPLOYMENT"]
        groups = {g[0] for g in await admin_client.list_consumer_groups()
                  if g[0].startswith(f"smart.{deployment}.")}
        for group in groups:
            committed = await admin_client.list_consumer_group_offsets(group)
            if not committed:
                continue
            ends = await consumer.end_offsets(list(committed))
            lag += sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items())
        return lag
    finally:
        await consumer.stop()
        await admin_client.close()


VOLATILE_COLLECTIONS = {"outbox", "inbox", "leases", "scheduler", "jobs", "scheduled_jobs"}


async def snapshot(platform: PlatformProcesses,
                   services: Iterable[str] = SERVICES) -> dict[str, dict[str, list[Any]]]:
    """Every business document of the services' databases (outbox, inbox and leases left out)."""
    client = connect(platform.env["MONGODB_URI"])
    try:
        result: dict[str, dict[str, list[Any]]] = {}
        names = database_names(platform)
        for service in services:
            db = client[names[service]]
            collections: dict[str, list[Any]] = {}
            for name in sorted(await db.list_collection_names()):
                if name in VOLATILE_COLLECTIONS or name.startswith("system."):
                    continue
                collections[name] = await db[name].find().sort("_id", 1).to_list(None)
            result[service] = collections
        return result
    finally:
        await client.close()


def differences(before: dict[str, dict[str, list[Any]]],
                after: dict[str, dict[str, list[Any]]]) -> list[str]:
    """Documents added, removed or changed between two snapshots, readably."""
    found: list[str] = []
    for service in sorted(set(before) | set(after)):
        old_cols, new_cols = before.get(service, {}), after.get(service, {})
        for name in sorted(set(old_cols) | set(new_cols)):
            old = {str(d["_id"]): d for d in old_cols.get(name, [])}
            new = {str(d["_id"]): d for d in new_cols.get(name, [])}
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    found.append(f"{service}.{name}[{key}]:\n  before {old.get(key)!r}"
                                 f"\n  after  {new.get(key)!r}")
    return found


async def settled(platform: PlatformProcesses) -> dict[str, dict[str, list[Any]]]:
    """The snapshot once the platform is quiet and its databases stopped changing
    (a scheduler may still be catching up after the clock moved)."""
    previous = None
    for _ in range(30):
        await quiesce(platform)
        current = await snapshot(platform)
        if current == previous:
            return current
        previous = current
        await asyncio.sleep(2)
    raise AssertionError("the databases never stopped changing")


async def quiesce(platform: PlatformProcesses, timeout: float = 120.0) -> None:
    """Wait until every outbox is drained and every consumer group has caught up."""

    async def calm() -> bool:
        if await pending_outbox(platform):
            return False
        return await consumer_lag(platform) == 0

    await eventually(calm, timeout=timeout, interval=1.0, what="platform quiet")
    await asyncio.sleep(1.0)
    await eventually(calm, timeout=timeout, interval=1.0, what="platform quiet")


# ---------------------------------------------------------------- metrics


METRIC_LINE = re.compile(r'^(smart_events_\w+?)(?:_total)?\{([^}]*)\}\s+([0-9.eE+-]+)$')


async def metrics(http: httpx.AsyncClient, base_url: str) -> dict[tuple[str, str], float]:
    """``smart_events_*`` counters of one process as {(metric, label text): value}."""
    response = await http.get(f"{base_url}/metrics", timeout=5)
    found: dict[tuple[str, str], float] = {}
    for line in response.text.splitlines():
        match = METRIC_LINE.match(line)
        if match and not match[1].endswith("_created"):
            found[(match[1], match[2])] = found.get((match[1], match[2]), 0.0) + float(match[3])
    return found


def total(counters: dict[tuple[str, str], float], metric: str, label: str = "") -> float:
    return sum(v for (name, labels), v in counters.items()
               if name == metric and label in labels)


@dataclass
class Tally:
    """Counts kept across process restarts (a killed process takes its counters with it).

    Each process's counters are read before it dies and at the end; only what grew since the
    last reading of the same process is added, so reading twice counts nothing twice."""

    faults: Counter[str] = field(default_factory=Counter)
    processed: float = 0.0
    duplicates: float = 0.0
    skipped: float = 0.0
    seen: dict[tuple[str, int], tuple[float, float, float]] = field(default_factory=dict)

    async def bank(self, http: httpx.AsyncClient, platform: PlatformProcesses,
                   name: str) -> None:
        """Read a process's counters (just before it dies, or at the end)."""
        process = platform.processes.get(name)
        if process is None:
            return
        try:
            counters = await metrics(http, platform.urls[name])
        except httpx.HTTPError:
            return
        now = (total(counters, "smart_events_processed"),
               total(counters, "smart_events_skipped", 'reason="duplicate"'),
               total(counters, "smart_events_skipped"))
        before = self.seen.get((platform.urls[name], process.pid), (0.0, 0.0, 0.0))
        self.seen[(platform.urls[name], process.pid)] = now
        self.processed += now[0] - before[0]
        self.duplicates += now[1] - before[1]
        self.skipped += now[2] - before[2]

    async def bank_all(self, http: httpx.AsyncClient, platform: PlatformProcesses) -> None:
        for name in SERVICES:
            await self.bank(http, platform, name)
