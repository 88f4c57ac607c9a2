"""Benchmark of the full SMart saga on the running platform (six service processes, the genuine
Kafka and mongod, the shared platform clock).

    python -m tests.performance.bench [--contracts N] [--members M] [--json out.json]
                                      [--platform private|local]

See ``tests/performance/README.md`` for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform as host
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from smart_shared.auth import mint_token
from smart_shared.clock import SharedClock
from smart_shared.events import TOPICS
from smart_shared.mongo import connect
from smart_shared.settings import Settings

from tests.performance import data
from tests.performance.baseline import run_baseline
from tests.performance.events import SERVICE_OF_TOPIC, EventCollector, EventLog
from tests.performance.httpload import Connection, percentile
from tests.performance.scaleout import ScaleOut
from tests.performance.stage import run_stage
from tests.platform import (
    MAILERS,
    SERVICES,
    PlatformProcesses,
    local_platform,
    private_platform,
    start_portal,
)

DEFAULT_KAFKA = "127.0.0.1:9092"
DEFAULT_MONGO = "mongodb://127.0.0.1:27017/?replicaSet=rs0&directConnection=true"

HOPS = (
    # (name, from event, to events, restricted to contracts whose guarantee was granted)
    ("ContractSigned→GuaranteeGranted", "ContractSigned", ("GuaranteeGranted",
                                                          "GuaranteeDeclined"), False),
    ("WorkCompleted→InvoiceIssued", "WorkCompleted", ("InvoiceIssued",), False),
    ("WorkCompleted→SalaryDue", "WorkCompleted", ("SalaryDue",), True),
    ("InvoicePaid→AdvanceRecovered", "InvoicePaid", ("AdvanceRecovered",), False),
)
BASELINE_STAGE = "WorkCompleted→InvoiceIssued"


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


class SagaError(RuntimeError):
    pass


# ---------------------------------------------------------------------------------- HTTP driver


@dataclass
class Answer:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class Api:
    """The public HTTP APIs, with bounded concurrency and a retry on transient failures.

    Requests go over pools of keep-alive connections of the load generator's minimal HTTP/1.1
    client: on a shared 2-core box a full-featured client spends more CPU per request than the
    services answering it."""

    def __init__(self, urls: dict[str, str], concurrency: int) -> None:
        self.urls = urls
        self.limit = asyncio.Semaphore(concurrency)
        settings = Settings()  # type: ignore[call-arg]
        self.staff = {"Authorization": f"Bearer {mint_token(settings, 'staff', 'BE')}"}
        self.pools: dict[str, list[Connection]] = defaultdict(list)
        self.calls = 0
        self.retries = 0

    async def close(self) -> None:
        for pool in self.pools.values():
            for connection in pool:
                connection.close()
            pool.clear()

    async def _send(self, method: str, url: str, json_body: Any,
                    headers: dict[str, str] | None, xml_body: bytes | None = None) -> Answer:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        pool = self.pools[origin]
        connection = pool.pop() if pool else Connection(origin)
        head = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        body = b""
        if json_body is not None:
            body = json.dumps(json_body).encode()
            head += "Content-Type: application/json\r\n"
        elif xml_body is not None:
            body = xml_body
            head += "Content-Type: application/xml\r\n"
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            async with asyncio.timeout(120):
                status, content = await connection.exchange(method, target, head, body)
        except BaseException:
            connection.close()
            raise
        pool.append(connection)
        return Answer(status, content)

    async def call(self, method: str, service: str, path: str, *, json_body: Any = None,
                   xml_body: bytes | None = None,
                   headers: dict[str, str] | None = None, ok: tuple[int, ...] = (200, 201),
                   retry_on: tuple[int, ...] = ()) -> Answer:
        url = f"{self.urls[service]}{path}"
        for attempt in range(60):
            async with self.limit:
                self.calls += 1
                try:
                    response = await self._send(method, url, json_body, headers, xml_body)
                except (OSError, ValueError, asyncio.IncompleteReadError) as error:
                    if attempt >= 4:
                        raise SagaError(f"{method} {path}: {error!r}") from error
                    self.retries += 1
                    await asyncio.sleep(0.2 * (attempt + 1))
                    continue
            if response.status_code in ok:
                return response
            transient = response.status_code >= 500 and attempt < 4
            if transient or response.status_code in retry_on:
                self.retries += 1
                await asyncio.sleep(0.25)
                continue
            raise SagaError(f"{method} {path} → {response.status_code}: {response.text[:500]}")
        raise SagaError(f"{method} {path}: gave up after retries")


async def gather_bounded(items: list[Any], work: Callable[[Any], Awaitable[Any]]) -> list[Any]:
    """Run ``work`` for every item (the Api's semaphore bounds what is in flight)."""
    return await asyncio.gather(*(work(item) for item in items))


# ---------------------------------------------------------------------------------- the saga


async def register_member(api: Api, spec: data.MemberSpec) -> str:
    member = (await api.call("POST", "members", "/v1/members", json_body=spec.body)).json()
    member_id = member["member_id"]
    share = (await api.call("POST", "members", f"/v1/members/{member_id}/shares",
                            json_body={"count": 1}, headers=api.staff)).json()
    await api.call(
        "POST", "members", f"/v1/members/{member_id}/shares/{share['share_id']}/payment",
        json_body={"amount": share["total"]},
        headers={**api.staff, "Idempotency-Key": f"bench-share-{member_id}"})
    return str(member_id)


async def sign_contract(api: Api, spec: data.ContractSpec, member_id: str, today: date) -> str:
    created = (await api.call("POST", "contracts", "/v1/contracts",
                              json_body=spec.body(member_id, today), headers=api.staff,
                              retry_on=(409,))).json()
    contract_id = created["contract_id"]
    submitted = (await api.call("POST", "contracts", f"/v1/contracts/{contract_id}/submit",
                                headers=api.staff)).json()
    signed = (await api.call("POST", "contracts", submitted["signing_path"])).json()
    if signed["status"] != "signed":
        raise SagaError(f"contract {contract_id} not signed: {signed}")
    return str(contract_id)


STATEMENT_LINES = 200
PORTAL_MEMBERS = 50  # the members whose dashboards the portal probe asks for, in turn


def camt053(statement_id: str, invoices: list[dict[str, Any]], booked_on: date) -> bytes:
    """The bank's statement (camt.053.001.02) crediting each invoice's total, paid by its client
    under the invoice's structured communication."""
    day = booked_on.isoformat()
    entries = "".join(
        f"<Ntry><NtryRef>{statement_id}-{n}</NtryRef>"
        f"<Amt Ccy=\"{invoice['total']['currency']}\">{invoice['total']['amount']}</Amt>"
        f"<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>{day}</Dt></BookgDt>"
        f"<ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>{statement_id}-{n}</AcctSvcrRef><BkTxCd/>"
        f"<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Benchmark client</Nm></Dbtr>"
        f"<DbtrAcct><Id><IBAN>BE68539007547034</IBAN></Id></DbtrAcct></RltdPties>"
        f"<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>BBA</Issr>"
        f"</Tp><Ref>{invoice['structured_reference']}</Ref></CdtrRefInf></Strd></RmtInf>"
        f"</TxDtls></NtryDtls></Ntry>"
        for n, invoice in enumerate(invoices, start=1))
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>"
            f"<GrpHdr><MsgId>{statement_id}</MsgId><CreDtTm>{day}T06:00:00</CreDtTm></GrpHdr>"
            f"<Stmt><Id>{statement_id}</Id><CreDtTm>{day}T06:00:00</CreDtTm>"
            "<Acct><Id><IBAN>BE68539007547034</IBAN></Id></Acct>"
            f"{entries}</Stmt></BkToCstmrStmt></Document>").encode()


async def pay_by_statement(api: Api, statement_id: str, invoices: list[dict[str, Any]],
                           received_on: date) -> None:
    """Import one statement paying ``invoices`` (those without a structured communication are
    paid one by one through the API)."""
    referenced = [i for i in invoices if i.get("structured_reference")]
    for invoice in invoices:
        if not invoice.get("structured_reference"):
            await pay_invoice(api, invoice, received_on)
    if not referenced:
        return
    answer = (await api.call("POST", "billing", "/v1/bank-statements", headers=api.staff,
                             xml_body=camt053(statement_id, referenced, received_on))).json()
    booked = sum(answer["summary"].get(outcome, 0) for outcome in ("matched", "already_booked"))
    if booked != len(referenced):
        raise SagaError(f"statement {statement_id} booked {answer['summary']}")


async def pay_invoice(api: Api, invoice: dict[str, Any], received_on: date) -> None:
    body: dict[str, Any] = {
        "amount": invoice["total"],
        "received_on": received_on.isoformat(),
        "payer_iban": "BE68539007547034",
        "payer_name": "Benchmark client",
    }
    if invoice.get("structured_reference"):
        body["structured_reference"] = invoice["structured_reference"]
    else:
        body["invoice_id"] = invoice["invoice_id"]
    answer = (await api.call("POST", "billing", "/v1/payments", json_body=body,
                             headers={**api.staff,
                                      "Idempotency-Key": f"bench-pay-{invoice['invoice_id']}"})
              ).json()
    if answer.get("outcome") not in ("matched", "already_booked"):
        raise SagaError(f"payment of {invoice['invoice_id']} was {answer}")


async def platform_today(mongo_uri: str, clock_id: str) -> date:
    client = connect(mongo_uri)
    try:
        clock = SharedClock(client, clock_id)
        await clock.refresh()
        return clock.today()
    finally:
        await client.close()


async def start_http_load(urls: dict[str, str], member_ids: list[str], rate: float,
                          seconds: float) -> asyncio.subprocess.Process:
    config = {
        "members_url": urls["members"], "payroll_url": urls["payroll"], "rate": rate,
        "seconds": seconds, "member_ids": member_ids,
        "token": mint_token(Settings(), "staff", "BE"),  # type: ignore[call-arg]
    }
    return await _probe(config, "tests.performance.httpload")


async def start_portal_load(plat: PlatformProcesses, member_ids: list[str], rate: float,
                            seconds: float) -> asyncio.subprocess.Process:
    """Members at their portal dashboards, ``rate`` pages a second in turn, in a process of its
    own (``tests.performance.portal --probe``)."""
    from portal.sessions import SESSION_COOKIE

    from tests.performance.portal import open_member_session

    sessions = [await open_member_session(plat, member) for member in member_ids[:PORTAL_MEMBERS]]
    config = {"url": plat.urls["portal"], "rate": rate, "seconds": seconds,
              "targets": [("/dashboard", f"Cookie: {SESSION_COOKIE}={session}\r\n")
                          for session in sessions]}
    return await _probe(config, "tests.performance.portal", "--probe")


async def _probe(config: dict[str, Any], *module: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", *module,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(json.dumps(config).encode())
    await process.stdin.drain()
    process.stdin.close()
    return process


async def http_load_result(process: asyncio.subprocess.Process) -> dict[str, Any]:
    out, err = await process.communicate()
    if process.returncode != 0:
        return {"error": err.decode(errors="replace")[-2000:]}
    return dict(json.loads(out))


# ---------------------------------------------------------------------------------- figures


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def hop_figures(events: EventLog, contracts: set[str]) -> dict[str, Any]:
    granted = set(events.at["GuaranteeGranted"])
    out: dict[str, Any] = {}
    for name, source, targets, guaranteed_only in HOPS:
        starts = events.at[source]
        latencies, ends = [], []
        for contract_id, began in starts.items():
            if contract_id not in contracts or (guaranteed_only and contract_id not in granted):
                continue
            end = min((events.at[t][contract_id] for t in targets
                       if contract_id in events.at[t]), default=None)
            if end is None:
                continue
            latencies.append(float(end - began))
            ends.append(end)
        first_source = min((starts[c] for c in contracts if c in starts), default=None)
        last_source = max((starts[c] for c in contracts if c in starts), default=None)
        span = (max(ends) - first_source) / 1000 if ends and first_source is not None else None
        offered = ((last_source - first_source) / 1000
                   if first_source is not None and last_source is not None else None)
        out[name] = {
            "count": len(latencies),
            "p50_ms": _ms(percentile(latencies, 50)),
            "p95_ms": _ms(percentile(latencies, 95)),
            "p99_ms": _ms(percentile(latencies, 99)),
            "max_ms": _ms(max(latencies) if latencies else None),
            "stage_seconds": round(span, 3) if span is not None else None,
            "stage_events_per_s": round(len(latencies) / span, 1) if span else None,
            "input_events_per_s": (round(len(latencies) / offered, 1) if offered else None),
        }
    return out


def service_rates(events: EventLog) -> dict[str, Any]:
    """Per service, the events it published on all its topics (the fund has two) over the time
    from its first to its last."""
    rates = {}
    for service in dict.fromkeys(SERVICE_OF_TOPIC[topic] for topic in TOPICS):
        published = [stats for topic in TOPICS if SERVICE_OF_TOPIC[topic] == service
                     and (stats := events.topics.get(topic)) is not None and stats.count
                     and stats.first_ms is not None and stats.last_ms is not None]
        if not published:
            rates[service] = {"events": 0, "active_seconds": 0.0, "events_per_s": None}
            continue
        count = sum(stats.count for stats in published)
        active = (max(s.last_ms for s in published if s.last_ms is not None)
                  - min(s.first_ms for s in published if s.first_ms is not None)) / 1000
        rates[service] = {
            "events": count,
            "active_seconds": round(active, 3),
            "events_per_s": round(count / active, 1) if active > 0 else None,
        }
    return rates


def peak_memory(processes: dict[str, Any]) -> dict[str, float | None]:
    """VmHWM (peak resident set) of each service process, in MiB."""
    pids = {name: process.pid for name, process in processes.items()}
    if not pids:
        pids = _local_service_pids()
    memory: dict[str, float | None] = {}
    for name in SERVICES:
        pid = pids.get(name)
        memory[name] = None
        if pid is None:
            continue
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    memory[name] = round(int(line.split()[1]) / 1024, 1)
    return memory


def _command_lines() -> Iterator[tuple[int, list[bytes]]]:
    """Every process's pid and command line."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            yield int(entry.name), (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue


def _local_service_pids() -> dict[str, int]:
    """The ``make up`` services and mailers, found by their command line (``python -m
    <service>``, ``python -m <service> mailer``)."""
    found: dict[str, int] = {}
    for pid, argv in _command_lines():
        for name in SERVICES:
            if b"-m" in argv and name.encode() in argv:
                found.setdefault(f"{name}-mailer" if b"mailer" in argv else name, pid)
    return found


class CpuClock:
    """CPU seconds (user + system, from ``/proc``) of the platform's processes over the run: the
    six services, mongod and the Kafka broker (found by their command lines; a shared mongod or
    broker counts whatever else it serves meanwhile) and the load generator (this process and
    its finished children: the HTTP probe)."""

    def __init__(self, services: dict[str, int]) -> None:
        self.pids: dict[str, int] = dict(services)
        for pid, argv in _command_lines():
            if argv and Path(argv[0].decode(errors="replace")).name == "mongod":
                self.pids.setdefault("mongod", pid)
            elif b"kafka.Kafka" in argv:
                self.pids.setdefault("kafka", pid)
        self.start = self._read()
        self.final: dict[str, float] = {}

    def freeze(self, name: str) -> None:
        """Keep a process's CPU time as it is now (it is about to be killed)."""
        reading = self._read()
        if name in reading:
            self.final[name] = reading[name]

    def _read(self) -> dict[str, float]:
        ticks = os.sysconf("SC_CLK_TCK")
        seconds: dict[str, float] = {}
        for name, pid in self.pids.items():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                seconds[name] = (int(fields[11]) + int(fields[12])) / ticks
        own = os.times()
        seconds["load generator"] = own.user + own.system + own.children_user + own.children_system
        return seconds

    def spent(self, contracts: int) -> dict[str, Any]:
        end = {**self._read(), **self.final}
        spent = {name: round(end[name] - self.start[name], 1)
                 for name in self.start if name in end}
        total = sum(spent.values())
        return {"seconds": spent, "total_seconds": round(total, 1),
                "per_contract_ms": round(1000 * total / contracts, 1) if contracts else None}


# ---------------------------------------------------------------------------------- invariants


async def mails_drained(mongo_uri: str, prefix: str, timeout: float) -> dict[str, Any]:
    """Wait until no service of the platform has a mail left to send (or ``timeout``); the
    mails sent, still pending and dead, in all and per service."""
    from smart_shared.mail.outbox import MAILS, PENDING_INDEX, summary
    from smart_shared.mongo import LEASES

    client = connect(mongo_uri)
    deadline = time.monotonic() + timeout
    outboxes = {service: client[f"{prefix}smart_{service}"][MAILS] for service in SERVICES}
    try:
        while True:
            # the relays' own index holds exactly the pending mails: the poll reads only them,
            # not every mail sent so far (that was mongod CPU charged to the platform)
            pending = {service: await rows.count_documents({"pending": True},
                                                           hint=PENDING_INDEX)
                       for service, rows in outboxes.items()}
            if sum(pending.values()) == 0 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        counts = {service: {"sent": await rows.count_documents({"status": "sent"}),
                            "pending": pending[service],
                            "dead": await rows.count_documents({"status": "dead"})}
                  for service, rows in outboxes.items()}
        for service, count in counts.items():
            if count["pending"] or count["dead"]:
                # what a reader of a failed run needs: whether the relay ever tried the mails
                # (attempts, the last error, when they are due) and who holds its lease
                database = client[f"{prefix}smart_{service}"]
                stuck = [summary(row) for row in await outboxes[service].find(
                    {"status": {"$in": ["pending", "dead"]}}).limit(3).to_list(3)]
                lease = await database[LEASES].find_one({"_id": "mail-relay"})
                count.update(json.loads(json.dumps({"stuck": stuck, "lease": lease},
                                                   default=str)))
        return {"sent": sum(c["sent"] for c in counts.values()),
                "pending": sum(pending.values()),
                "dead": sum(c["dead"] for c in counts.values()), "per_service": counts}
    finally:
        await client.close()


async def storage(mongo_uri: str, prefix: str) -> dict[str, dict[str, int]]:
    """Each service database's size at the end of the run: documents, data and index bytes
    (``dbStats``), the basis of the MongoDB sizing in docs/capacity.md."""
    client = connect(mongo_uri)
    try:
        sizes = {}
        for service in SERVICES:
            stats = await client[f"{prefix}smart_{service}"].command("dbStats")
            sizes[service] = {"objects": int(stats.get("objects", 0)),
                              "data_bytes": int(stats.get("dataSize", 0)),
                              "index_bytes": int(stats.get("indexSize", 0))}
        return sizes
    finally:
        await client.close()


async def check_invariants(api: Api, events: EventLog, contracts: set[str]) -> dict[str, Any]:
    numbers: list[str] = []
    cursor = None
    while True:
        path = "/v1/invoices?limit=500" + (f"&cursor={cursor}" if cursor else "")
        page = (await api.call("GET", "billing", path, headers=api.staff)).json()
        numbers += [item["number"] for item in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    by_year: dict[str, list[int]] = defaultdict(list)
    for number in numbers:
        branch, year, seq = number.rsplit("-", 2)
        by_year[f"{branch}-{year}"].append(int(seq))
    gaps = {series: sorted(set(range(1, max(seqs) + 1)) - set(seqs))[:20]
            for series, seqs in by_year.items() if sorted(seqs) != list(range(1, len(seqs) + 1))}
    salaries = {c: len(events.salary_ids.get(c, ())) for c in contracts}
    not_one = {c: n for c, n in salaries.items() if n != 1}
    check = (await api.call("GET", "fund", "/v1/fund/check", headers=api.staff)).json()
    return {
        "invoice_numbers_gapless": not gaps and len(numbers) == len(set(numbers)),
        "invoices_listed": len(numbers),
        "invoice_number_gaps": gaps,
        "one_salary_due_per_contract": not not_one,
        "contracts_without_exactly_one_salary": len(not_one),
        "fund_ledger_balanced": bool(check.get("ok")),
        "fund_check_mismatches": check.get("mismatches", [])[:20],
        "fund_transfers": check.get("transfers"),
    }


# ---------------------------------------------------------------------------------- the run


async def run_saga(plat: PlatformProcesses, namespace: str, bootstrap: str, mongo_uri: str,
                   options: argparse.Namespace, from_beginning: bool) -> dict[str, Any]:
    n_contracts, n_members = options.contracts, options.members
    seed = options.seed if options.seed is not None else random.randrange(1, 1_000_000)
    member_specs = data.members(n_members, seed)
    contract_specs = data.contracts(n_contracts, member_specs, seed)
    timeout = options.timeout or 180 + n_contracts * 0.25
    phases: dict[str, float] = {}
    collector = EventCollector(bootstrap, namespace, from_beginning=from_beginning)
    await collector.start()
    api = Api(plat.urls, options.concurrency)
    clock_id = plat.env.get("SMART_CLOCK_ID", "clock")
    pending_invoices: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    contract_ids: set[str] = set()
    member_set: set[str] = set()

    def on_event(kind: str, body: dict[str, Any]) -> None:
        if kind == "InvoiceIssued" and body.get("contract_id") in contract_ids:
            pending_invoices.put_nowait(body)

    collector.log.on_event.append(on_event)
    load: asyncio.subprocess.Process | None = None
    load_result: dict[str, Any] = {}
    pages: asyncio.subprocess.Process | None = None
    pages_result: dict[str, Any] = {}
    began = time.perf_counter()
    cpu = CpuClock({name: process.pid for name, process in plat.processes.items()}
                   or _local_service_pids())
    scale = (ScaleOut(plat, mongo_uri, options.replicas, cpu.freeze)
             if options.replicas > 1 else None)
    try:
        # 1. members: register, subscribe a share, pay it → MemberActivated
        mark = time.perf_counter()
        log(f"registering and activating {n_members} members (seed {seed})")
        member_ids = await gather_bounded(member_specs, lambda s: register_member(api, s))
        member_set.update(member_ids)
        await collector.wait_for(
            lambda e: len(member_set & set(_ids(e, "MemberActivated"))) >= n_members,
            timeout, "MemberActivated of every member")
        phases["members"] = time.perf_counter() - mark

        # 2. contracts: draft, submit, client signs → ContractSigned, guarantee, declaration
        mark = time.perf_counter()
        today = await platform_today(mongo_uri, clock_id)
        log(f"drafting, submitting and signing {n_contracts} contracts (platform day {today}); "
            f"HTTP load {options.http_rate:.0f} req/s for {options.http_seconds:.0f}s alongside")
        if options.http_seconds > 0:
            load = await start_http_load(plat.urls, member_ids, options.http_rate,
                                         options.http_seconds)
        if options.portal_rate > 0 and options.http_seconds > 0:
            pages = await start_portal_load(plat, member_ids, options.portal_rate,
                                            options.http_seconds)

        async def one_contract(spec: data.ContractSpec) -> str:
            contract_id = await sign_contract(api, spec, member_ids[spec.member], today)
            contract_ids.add(contract_id)
            if scale is not None and len(contract_ids) >= n_contracts // 2:
                scale.kill_soon()  # halfway: every replica but the first dies
            return contract_id

        await gather_bounded(contract_specs, one_contract)
        phases["contracts_http"] = time.perf_counter() - mark
        await collector.wait_for(
            lambda e: _count(e, "ContractSigned", contract_ids) >= n_contracts
            and _count(e, "GuaranteeGranted", contract_ids)
            + _count(e, "GuaranteeDeclined", contract_ids) >= n_contracts
            and _count(e, "EmploymentDeclared", contract_ids) >= n_contracts,
            timeout, "ContractSigned, the guarantee decision and EmploymentDeclared")
        phases["contracts_until_declared"] = time.perf_counter() - mark

        # 3. the clock moves past the last work day → WorkCompleted → invoice, salary
        mark = time.perf_counter()
        days = max(s.first_offset + s.days for s in contract_specs) + 1
        log(f"advancing the platform clock {days} days: work completes, invoices are issued")
        await plat.advance_clock(timedelta(days=days))
        paid_on = await platform_today(mongo_uri, clock_id)

        async def payer() -> None:
            while True:
                invoice = await pending_invoices.get()
                try:
                    await pay_invoice(api, invoice, paid_on)
                finally:
                    pending_invoices.task_done()

        statements = iter(range(1, 1_000_000))

        async def statement_payer() -> None:
            # a statement gathers the payments of about a second, at most STATEMENT_LINES
            while True:
                invoices = [await pending_invoices.get()]
                deadline = time.monotonic() + 1.0
                while len(invoices) < STATEMENT_LINES and time.monotonic() < deadline:
                    try:
                        invoices.append(pending_invoices.get_nowait())
                    except asyncio.QueueEmpty:
                        await asyncio.sleep(0.1)
                try:
                    await pay_by_statement(api, f"BENCH-{seed}-{next(statements)}", invoices,
                                           paid_on)
                finally:
                    for _ in invoices:
                        pending_invoices.task_done()

        if options.payments == "statements":
            payers = [asyncio.create_task(statement_payer()) for _ in range(4)]
        else:
            payers = [asyncio.create_task(payer()) for _ in range(options.concurrency)]
        # invoices issued before the payers started are already queued by the callback
        try:
            await collector.wait_for(
                lambda e: _count(e, "InvoiceIssued", contract_ids) >= n_contracts,
                timeout, "InvoiceIssued for every contract")
            phases["until_all_invoiced"] = time.perf_counter() - mark
            await pending_invoices.join()
            phases["payments_http"] = time.perf_counter() - mark
            await collector.wait_for(
                lambda e: _count(e, "InvoicePaid", contract_ids) >= n_contracts
                and _count(e, "AdvanceRecovered", contract_ids) >= n_contracts
                and _count(e, "SalaryDue", contract_ids) >= n_contracts,
                timeout, "InvoicePaid, AdvanceRecovered and SalaryDue for every contract")
        finally:
            for task in payers:
                task.cancel()
        phases["until_all_paid_and_salaries_due"] = time.perf_counter() - mark

        # 4. payment runs (one per pay date) and their confirmation → SalaryPaid
        mark = time.perf_counter()
        pay_dates = sorted({b["pay_date"] for b in collector.log.bodies["SalaryDue"]
                            if b.get("contract_id") in contract_ids})
        runs = []
        for pay_date in pay_dates:
            response = await api.call(
                "POST", "payroll", "/v1/payment-runs", json_body={"pay_date": pay_date},
                headers={**api.staff, "Idempotency-Key": f"bench-run-{seed}-{pay_date}"},
                ok=(200, 201, 409))
            if response.status_code == 409:
                continue  # nothing left for that date (an earlier run took it)
            run = response.json()
            await api.call("POST", "payroll",
                           f"/v1/payment-runs/{run['payment_run_id']}/confirm",
                           headers=api.staff)
            runs.append({"pay_date": pay_date, "count": run["count"],
                         "excluded": len(run["excluded"])})
        log(f"{len(runs)} payment run(s) confirmed: {sum(r['count'] for r in runs)} salaries")
        await collector.wait_for(
            lambda e: _count(e, "SalaryPaid", contract_ids) >= n_contracts,
            timeout, "SalaryPaid for every contract")
        phases["payment_runs"] = time.perf_counter() - mark
        # 5. the mails the saga wrote (signing links, invoices, payslips) all reach the server
        mark = time.perf_counter()
        mails = await mails_drained(mongo_uri, plat.env.get("SMART_DATABASE_PREFIX", ""),
                                    timeout)
        phases["until_all_mailed"] = time.perf_counter() - mark
        wall = time.perf_counter() - began
        if load is not None:
            load_result = await http_load_result(load)
            load = None
        if pages is not None:
            pages_result = await http_load_result(pages)
            pages = None
        await asyncio.sleep(0.5)  # let the last events of the tail arrive

        memory = peak_memory(plat.processes)
        cpu_spent = cpu.spent(n_contracts)
        invariants = await check_invariants(api, collector.log, contract_ids)
        invariants["every_mail_sent"] = mails["pending"] == 0 and mails["dead"] == 0
        invariants["mails"] = mails
        scale_out = await scale.report() if scale is not None else None
        sizes = await storage(mongo_uri, plat.env.get("SMART_DATABASE_PREFIX", ""))
        events = collector.log
        return {
            "seed": seed,
            "phases_seconds": {k: round(v, 2) for k, v in phases.items()},
            "bench_wall_seconds": round(wall, 2),
            "http_calls": api.calls,
            "http_retries": api.retries,
            "payment_runs": runs,
            "guarantees": {"granted": _count(events, "GuaranteeGranted", contract_ids),
                           "declined": _count(events, "GuaranteeDeclined", contract_ids)},
            "events_seen": dict(sorted(events.counts.items())),
            "saga": saga_figures(events, contract_ids, n_contracts),
            "hops": hop_figures(events, contract_ids),
            "services": service_rates(events),
            "peak_memory_mib": memory,
            "cpu": cpu_spent,
            "storage": sizes,
            "http_load": load_result,
            **({"portal_load": pages_result} if pages_result else {}),
            "invariants": invariants,
            **({"scale_out": scale_out} if scale_out else {}),
        }
    finally:
        for probe in (load, pages):
            if probe is not None:
                with contextlib.suppress(ProcessLookupError):
                    probe.kill()
                await probe.wait()
        await api.close()
        await collector.stop()


def _ids(events: EventLog, kind: str) -> list[str]:
    return list(events.member_at.get(kind, {}))


def _count(events: EventLog, kind: str, contracts: set[str]) -> int:
    at = events.at.get(kind, {})
    return sum(1 for c in at if c in contracts)


def saga_figures(events: EventLog, contracts: set[str], n: int) -> dict[str, Any]:
    signed = [events.at["ContractSigned"][c] for c in contracts
              if c in events.at["ContractSigned"]]
    ends = [events.at[k][c] for k in ("SalaryPaid", "InvoicePaid", "AdvanceRecovered")
            for c in contracts if c in events.at[k]]
    if not signed or not ends:
        return {"contracts": n, "end_to_end_seconds": None, "contracts_per_s": None}
    seconds = (max(ends) - min(signed)) / 1000
    return {
        "contracts": n,
        "first_contract_signed": datetime.fromtimestamp(min(signed) / 1000, UTC).isoformat(),
        "last_salary_or_invoice_paid": datetime.fromtimestamp(max(ends) / 1000, UTC).isoformat(),
        "end_to_end_seconds": round(seconds, 2),
        "contracts_per_s": round(n / seconds, 2) if seconds > 0 else None,
    }


async def bench(options: argparse.Namespace) -> dict[str, Any]:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_KAFKA)
    mongo_uri = os.environ.get("MONGODB_URI", DEFAULT_MONGO)
    home: Path | None = None
    if options.platform == "private":
        home = Path(tempfile.mkdtemp(prefix="smart-bench-"))
        capital = max(1_000_000, options.contracts * 3_000)
        log(f"starting a private platform in {home}")
        plat = await asyncio.to_thread(
            private_platform, home, bootstrap, mongo_uri, options.replicas, options.mailers,
            SMART_FUND_INITIAL_CAPITAL_BE=f"{capital}.00",
            SMART_LOG_LEVEL=options.log_level,
        )
        if options.portal_rate > 0:
            await asyncio.to_thread(start_portal, plat)
        namespace = plat.env["SMART_TOPIC_NAMESPACE"]
    else:
        plat = local_platform()
        namespace = plat.env.get("SMART_TOPIC_NAMESPACE", "")
        bootstrap = plat.env.get("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    started_at = datetime.now(UTC)
    result: dict[str, Any] | None = None
    try:
        result = await run_saga(plat, namespace, bootstrap, mongo_uri, options,
                                from_beginning=options.platform == "private")
        alone: dict[str, Any] | None = None
        if options.platform == "private":
            log(f"one stage alone: the fund deciding {options.contracts} guarantees")
            alone = await run_stage(plat, bootstrap, options.contracts,
                                    options.timeout or 180 + options.contracts * 0.25)
        log(f"baseline: a raw aiokafka + PyMongo stage over {options.contracts} events")
        baseline = await run_baseline(bootstrap, mongo_uri, options.contracts,
                                      namespace or "bench.")
    finally:
        if options.platform == "private":
            log("stopping the private platform")
            await asyncio.to_thread(plat.stop_all)
            if not options.keep:
                await _drop_private(plat, bootstrap, mongo_uri)
            if home is not None:
                _show_logs_of_failures(home, result)
                if not options.keep:
                    shutil.rmtree(home, ignore_errors=True)
    stage = result["hops"][BASELINE_STAGE]["stage_events_per_s"]
    alone_rate = alone["events_per_s"] if alone else None
    result["stage_alone"] = alone
    result["baseline"] = {
        **baseline,
        "compared_stage": alone["stage"] if alone else BASELINE_STAGE,
        "platform_stage_events_per_s": alone_rate if alone else stage,
        "ratio_platform_over_baseline": _ratio(alone_rate if alone else stage,
                                               baseline.get("events_per_s")),
        # the saga's stages, sharing the machine with everything else, over the same baseline
        "ratios_by_stage": {
            name: _ratio(hop["stage_events_per_s"], baseline.get("events_per_s"))
            for name, hop in result["hops"].items()
        },
    }
    result["run"] = {
        "started_at": started_at.isoformat(),
        "platform": options.platform,
        "contracts": options.contracts,
        "members": options.members,
        "concurrency": options.concurrency,
        "replicas": options.replicas,
        "mailers": list(options.mailers),
        "portal_rate": options.portal_rate,
        "payments": options.payments,
        "http_rate": options.http_rate,
        "http_seconds": options.http_seconds,
        "machine": {"cpus": os.cpu_count(), "python": host.python_version(),
                    "load_average_at_end": list(os.getloadavg())},
    }
    return result


def _show_logs_of_failures(home: Path, result: dict[str, Any] | None) -> None:
    """The end of the logs of the processes a failed run points at: every process when the
    saga did not finish, else the services whose mails were not all sent and their mailers."""
    if result is not None and invariants_hold(result):
        return
    names = None
    if result is not None:
        per_service = result["invariants"].get("mails", {}).get("per_service", {})
        names = {f"{service}{suffix}" for service, count in per_service.items()
                 if count["pending"] or count["dead"] for suffix in ("", "-mailer")}
    for path in sorted(home.glob("*.log")):
        if names is None or path.stem in names:
            tail = path.read_text(errors="replace")[-3000:]
            log(f"{path.name} ends with:\n{tail or '(nothing logged)'}")


def _ratio(platform: float | None, baseline: float | None) -> float | None:
    return round(platform / baseline, 3) if platform and baseline else None


async def _drop_private(plat: PlatformProcesses, bootstrap: str, mongo_uri: str) -> None:
    """Remove the private platform's databases, clock and topics."""
    prefix = plat.env["SMART_DATABASE_PREFIX"]
    namespace = plat.env["SMART_TOPIC_NAMESPACE"]
    client = connect(mongo_uri)
    try:
        for name in await client.list_database_names():
            if name.startswith(prefix):
                await client.drop_database(name)
        await client["smart_platform"]["clock"].delete_one({"_id": plat.env["SMART_CLOCK_ID"]})
    finally:
        await client.close()
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(namespace)]
        if topics:
            await admin.delete_topics(topics)
    except Exception as error:  # leftovers only cost disk; never fail the run for them
        log(f"could not delete the private topics: {error!r}")
    finally:
        await admin.close()


# ---------------------------------------------------------------------------------- output


def table(result: dict[str, Any]) -> str:
    lines: list[str] = []
    run, saga = result["run"], result["saga"]

    def row(label: str, *values: Any) -> None:
        lines.append(f"  {label:<38}" + "".join(f"{_fmt(v):>12}" for v in values))

    lines.append(f"SMart saga benchmark — {run['contracts']} contracts, {run['members']} members, "
                 f"{run['platform']} platform, payments by {run['payments']}, "
                 f"{run['machine']['cpus']} CPUs")
    lines.append("")
    lines.append("Full saga (first ContractSigned → last SalaryPaid/InvoicePaid/AdvanceRecovered)")
    row("end-to-end seconds", saga["end_to_end_seconds"])
    row("contracts per second", saga["contracts_per_s"])
    row("bench wall seconds (incl. members)", result["bench_wall_seconds"])
    for name, seconds in result["phases_seconds"].items():
        row(f"  phase {name} (s)", seconds)
    lines.append("")
    lines.append("Per hop (Kafka record timestamps)      count     p50 ms     p95 ms     p99 ms"
                 "   stage ev/s  input ev/s")
    for name, hop in result["hops"].items():
        row(name, hop["count"], hop["p50_ms"], hop["p95_ms"], hop["p99_ms"],
            hop["stage_events_per_s"], hop["input_events_per_s"])
    lines.append("")
    lines.append("Per service                             events  active s     ev/s   peak MiB"
                 "      CPU s")
    cpu = result["cpu"]["seconds"]
    for service, rate in result["services"].items():
        row(service, rate["events"], rate["active_seconds"], rate["events_per_s"],
            result["peak_memory_mib"].get(service), cpu.get(service))
    for other in (*sorted(n for n in cpu if n.endswith("-mailer")), "mongod", "kafka",
                  "load generator"):
        if other in cpu:
            row(f"{other} (CPU s)", cpu[other])
    row("CPU s in all, ms per contract", result["cpu"]["total_seconds"],
        result["cpu"]["per_contract_ms"])
    lines.append("")
    load = result.get("http_load") or {}
    if "error" in load:
        lines.append(f"HTTP load failed: {load['error'][:300]}")
    elif load:
        lines.append(f"HTTP under load ({load['offered_rate']:.0f} req/s offered, "
                     f"{load['sent_rate']} sent, {load['achieved_rate']} answered, "
                     f"{load['seconds']} s)"
                     "     requests     errors     p50 ms     p99 ms")
        for endpoint in ("GET /v1/members/{id}", "POST /v1/simulations"):
            figures = load[endpoint]
            row(endpoint, figures["requests"], figures["errors"], figures["p50_ms"],
                figures["p99_ms"])
    pages = result.get("portal_load") or {}
    if "error" in pages:
        lines.append(f"Portal load failed: {pages['error'][:300]}")
    elif pages:
        row(f"GET /dashboard (portal, {pages['rate_per_s']:.0f}/s)", pages["requests"],
            pages["errors"], pages["p50_ms"], pages["p99_ms"])
    lines.append("")
    base = result["baseline"]
    lines.append("Baseline (raw aiokafka + PyMongo, one stage, batches ≤ 500)")
    row("baseline events per second", base["events_per_s"])
    if result.get("stage_alone"):
        alone = result["stage_alone"]
        row("platform stage alone: events", alone["decided"], alone["events"])
    row(f"platform {base['compared_stage']} ev/s", base["platform_stage_events_per_s"])
    row("ratio platform / baseline", base["ratio_platform_over_baseline"])
    lines.append("")
    inv = result["invariants"]
    lines.append("Invariants")
    row("invoice numbers gapless", inv["invoice_numbers_gapless"], inv["invoices_listed"])
    row("exactly one SalaryDue per contract", inv["one_salary_due_per_contract"])
    row("fund ledger balanced (/v1/fund/check)", inv["fund_ledger_balanced"])
    if "mails" in inv:  # figures written before the mails were counted have none
        row("every mail sent (sent, pending, dead)", inv["every_mail_sent"],
            inv["mails"]["sent"], inv["mails"]["pending"], inv["mails"]["dead"])
    if result.get("scale_out"):
        lines.append("")
        lines.extend(scale_out_table(result["scale_out"], cpu))
    return "\n".join(lines)


def scale_out_table(scale: dict[str, Any], cpu: dict[str, float]) -> list[str]:
    lines = [f"Scale-out: {scale['replicas']} replicas per service, all but the first killed "
             f"after {scale['killed_after_seconds']} s"
             "      handled  alive s     ev/s      CPU s"]
    for name, service in scale["services"].items():
        for replica, figures in service["replicas"].items():
            key = name if replica == "1" else f"{name}@{replica}"
            lines.append(f"  {key:<38}" + "".join(
                f"{_fmt(v):>12}" for v in (figures["events_handled"], figures["seconds_alive"],
                                            figures["events_per_s"], cpu.get(key))))
        lines.append(f"    relay lease: replica {service['relay_lease_before_kill']} before the "
                     f"kill, replica {service['relay_lease_at_end']} at the end")
    return lines


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        if abs(value) >= 10:
            return f"{value:,.1f}"
        return f"{value:.2f}" if abs(value) >= 0.1 or value == 0 else f"{value:.4f}"
    return str(value)


def invariants_hold(result: dict[str, Any]) -> bool:
    inv = result["invariants"]
    scale = result.get("scale_out")
    # the survivors took every relay over: no service was left without one
    leases_moved = scale is None or all(
        service["relay_lease_at_end"] == "1" for service in scale["services"].values())
    return bool(inv["invoice_numbers_gapless"] and inv["one_salary_due_per_contract"]
                and inv["fund_ledger_balanced"] and inv["every_mail_sent"] and leases_moved)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.performance.bench",
                                     description="Benchmark the full SMart saga.")
    parser.add_argument("--contracts", type=int, default=10_000, help="contracts (default 10000)")
    parser.add_argument("--members", type=int, default=None, help="members (default N/10)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--platform", choices=("private", "local"), default="private",
                        help="private: started and stopped by the bench (default); "
                        "local: the platform `make up` started on ports 8001-8006")
    parser.add_argument("--concurrency", type=int, default=32, help="HTTP calls in flight")
    parser.add_argument("--payments", choices=("statements", "api"), default="statements",
                        help="statements: the clients' payments arrive in camt.053 bank "
                        f"statements of up to {STATEMENT_LINES} lines (default); api: one "
                        "POST /v1/payments per invoice")
    parser.add_argument("--http-rate", type=float, default=200.0,
                        help="requests/s of the concurrent HTTP latency probe")
    parser.add_argument("--http-seconds", type=float, default=10.0,
                        help="duration of the HTTP latency probe (0: skip)")
    parser.add_argument("--seed", type=int, default=None, help="data seed (default random)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds to wait for each stage (default 180 + N/4)")
    parser.add_argument("--log-level", default="WARNING",
                        help="SMART_LOG_LEVEL of the private platform's services")
    parser.add_argument("--replicas", type=int, default=1,
                        help="replicas of every service (private platform); above 1, all but "
                        "the first are killed halfway through the contracts (scale-out run)")
    parser.add_argument("--mailers", default=",".join(MAILERS),
                        type=lambda text: tuple(n for n in text.split(",") if n),
                        help="services whose mails a mailer process of their own sends, as "
                        f"deployed (private platform; default {','.join(MAILERS)}; '' for none)")
    parser.add_argument("--portal-rate", type=float, default=0.0,
                        help="members' portal dashboards per second while the contracts are "
                        "signed, beside the HTTP probe and for as long (private platform; starts "
                        "the portal; default 0: none)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the private platform's databases and topics")
    options = parser.parse_args(argv)
    if options.members is None:
        options.members = max(1, options.contracts // 10)
    if options.contracts < 1 or options.members < 1:
        parser.error("--contracts and --members must be at least 1")
    if options.replicas < 1 or (options.replicas > 1 and options.platform != "private"):
        parser.error("--replicas must be at least 1, and above 1 only on the private platform")
    if options.portal_rate < 0 or (options.portal_rate > 0 and options.platform != "private"):
        parser.error("--portal-rate must be positive, and only on the private platform")
    if set(options.mailers) - set(SERVICES):
        parser.error(f"--mailers: services are {', '.join(SERVICES)}")
    return options


async def amain(options: argparse.Namespace) -> dict[str, Any]:
    result = await bench(options)
    print(table(result))
    if options.json:
        options.json.write_text(json.dumps(result, indent=2, default=str))
        log(f"figures written to {options.json}")
    return result


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    result = asyncio.run(amain(options))
    return 0 if invariants_hold(result) else 1


if __name__ == "__main__":
    raise SystemExit(main())
