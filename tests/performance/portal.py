"""How fast the portal answers its two busiest pages: a member's dashboard and a client's
signing page, each under an open-loop load of 50 requests per second.

    python -m tests.performance.portal [--rate 50] [--seconds 20] [--recent-reads-seconds 5]

Starts a private platform (six services and the portal, the genuine Kafka and mongod), makes one
active member with one contract waiting for its client's signature, then requests each page on
a fixed schedule whatever the answers take, over keep-alive connections. Prints one JSON object
per page (p50/p95/p99 from sending to the complete answer, and the CPU the portal and the six
services spent per page, from ``/proc``). A measurement, not a timed test.
One member reloads their dashboard, so it mostly reuses their recent reads (the portal's
``SMART_PORTAL_RECENT_READS_SECONDS``); ``--recent-reads-seconds 0`` makes every dashboard ask
the four services, as a member's first visit does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from portal.sessions import SESSION_COOKIE, SESSIONS, session_document
from smart_shared.auth import Principal, mint_token
from smart_shared.mongo import connect
from smart_shared.settings import Settings

from tests.demo.scenario import belgian_national_number, belgian_vat_number, platform_today
from tests.performance.bench import CpuClock
from tests.performance.httpload import Connection, summary
from tests.platform import SERVICES, PlatformProcesses, private_platform, start_portal

DEFAULT_KAFKA = "127.0.0.1:9092"
DEFAULT_MONGO = "mongodb://127.0.0.1:27017/?replicaSet=rs0&directConnection=true"


def contract_body(start: date, client_name: str, client_email: str, client_language: str,
                  rng: random.Random) -> dict[str, Any]:
    """A BE illustrator's one-day contract for a Belgian business client, as the API takes it."""
    return {"activity": "illustrator", "description": "Poster series",
            "work_days": [start.isoformat()],
            "amount_excl_vat": {"amount": "900.00", "currency": "EUR"},
            "client": {"name": client_name, "kind": "business", "country": "BE",
                       "vat_number": belgian_vat_number(rng), "email": client_email,
                       "language": client_language,
                       "address": {"street": "Dok 1", "postal_code": "9000", "city": "Gent",
                                   "country": "BE"}}}


async def member_with_a_contract(platform: PlatformProcesses, client_email: str =
                                 "a@noord.example.be", client_language: str = "en",
                                 ) -> tuple[str, str]:
    """An active BE member's id and the signing token of their submitted contract (whose
    client is also mailed the signing link, at ``client_email`` in ``client_language``)."""
    staff = {"Authorization": f"Bearer {mint_token(Settings(), 'staff', 'BE')}"}
    rng = random.Random()
    number, born = belgian_national_number(rng)
    async with httpx.AsyncClient(timeout=30) as http:
        member = (await http.post(f"{platform.urls['members']}/v1/members", json={
            "branch": "BE", "first_name": "Lena", "last_name": "Maes",
            "email": f"lena.{number}@example.be", "birth_date": born.isoformat(),
            "national_id": number, "iban": "BE62510007547061",
            "address": {"street": "Korenmarkt 5", "postal_code": "9000", "city": "Gent",
                        "country": "BE"},
            "activities": [{"name": "illustrator", "kind": "artistic"}]})).json()
        member_id = member["member_id"]
        own = {"Authorization": f"Bearer {mint_token(Settings(), 'member', 'BE', member_id)}"}
        share = (await http.post(f"{platform.urls['members']}/v1/members/{member_id}/shares",
                                 json={"count": 1}, headers=own)).json()
        await http.post(f"{platform.urls['members']}/v1/members/{member_id}/shares/"
                        f"{share['share_id']}/payment", json={"amount": share["total"]},
                        headers=staff)
        start = await platform_today(platform) + timedelta(days=10)
        body = contract_body(start, "Drukkerij Noord BV", client_email, client_language, rng)
        for _ in range(60):  # contracts learns of the activation from the members topic
            created = await http.post(f"{platform.urls['contracts']}/v1/contracts", headers=own,
                                      json=body)
            if created.status_code == 201:
                break
            await asyncio.sleep(0.5)
        contract_id = created.json()["contract_id"]
        submitted = (await http.post(
            f"{platform.urls['contracts']}/v1/contracts/{contract_id}/submit",
            headers=own)).json()
    return member_id, submitted["signing_token"]


async def open_member_session(platform: PlatformProcesses, member_id: str) -> str:
    session_id = secrets.token_urlsafe(32)
    token = mint_token(Settings(), "member", "BE", member_id)
    client = connect(platform.env["MONGODB_URI"])
    try:
        database = client[platform.database("portal")]
        await database[SESSIONS].insert_one(session_document(
            session_id, token, Principal(member_id, "member", "BE", member_id),
            datetime.now(UTC) + timedelta(hours=1)))
    finally:
        await client.close()
    return session_id


async def load(url: str, targets: list[tuple[str, str]], rate: float, seconds: float,
               connections: int = 32) -> dict[str, Any]:
    """Request the ``targets`` (path and headers, in turn) ``rate`` times a second for
    ``seconds``, on schedule."""
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(Connection(url))
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0

    async def one(path: str, headers: str) -> None:
        nonlocal errors
        connection = await pool.get()
        sent = time.perf_counter()
        try:
            status = await connection.request("GET", path, headers)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if status == 200:
                latencies.append(time.perf_counter() - sent)
            else:
                errors += 1
        except OSError:
            errors += 1
            connection.close()
        finally:
            pool.put_nowait(connection)

    tasks = []
    begin = time.perf_counter()
    for n in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, begin + n / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one(*targets[n % len(targets)])))
    await asyncio.gather(*tasks)
    return {"rate_per_s": rate, **summary(latencies, errors, statuses)}


def cpu_per_page(clock: CpuClock, pages: int) -> dict[str, float]:
    """CPU milliseconds per page spent by the portal and by the six services it calls: what a
    page costs whatever else the machine runs (its latency depends on that)."""
    spent = clock.spent(pages)["seconds"]
    return {"portal": round(1000 * spent.get("portal", 0.0) / pages, 1),
            "services": round(1000 * sum(spent.get(name, 0.0) for name in SERVICES) / pages, 1)}


async def main(rate: float, seconds: float, recent_reads_seconds: float) -> None:
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_KAFKA)
    mongo = os.environ.get("MONGODB_URI", DEFAULT_MONGO)
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as home:
        # traces sampled as under production load (README: Configuration)
        platform = private_platform(Path(home), kafka, mongo, SMART_LOG_LEVEL="WARNING",
                                    OTEL_TRACES_SAMPLER="parentbased_traceidratio",
                                    OTEL_TRACES_SAMPLER_ARG="0.01",
                                    SMART_PORTAL_RECENT_READS_SECONDS=str(recent_reads_seconds))
        try:
            url = start_portal(platform)
            member_id, signing_token = await member_with_a_contract(platform)
            session_id = await open_member_session(platform, member_id)
            pages = {
                "member dashboard": ("/dashboard", f"Cookie: {SESSION_COOKIE}={session_id}\r\n"),
                "signing page": (f"/sign/{signing_token}", ""),
            }
            processes = {name: process.pid for name, process in platform.processes.items()}
            for name, target in pages.items():
                await load(url, [target], rate, 3)  # warm: connections, caches
                clock = CpuClock(processes)
                result = await load(url, [target], rate, seconds)
                print(json.dumps({"page": name, **result,
                                  "cpu_ms_per_page": cpu_per_page(clock, result["requests"])}),
                      flush=True)
        finally:
            platform.stop_all()
            await platform.forget()


async def probe(config: dict[str, Any]) -> dict[str, Any]:
    """The load of ``--probe``: the saga benchmark's members at their dashboards."""
    targets = [(path, headers) for path, headers in config["targets"]]
    await load(config["url"], targets, config["rate"], 2)  # warm: connections
    return await load(config["url"], targets, config["rate"], config["seconds"])


if __name__ == "__main__":
    if sys.argv[1:] == ["--probe"]:  # a JSON config on stdin: url, targets, rate, seconds
        print(json.dumps(asyncio.run(probe(json.load(sys.stdin)))))
        sys.exit(0)
    arguments = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    arguments.add_argument("--rate", type=float, default=50)
    arguments.add_argument("--seconds", type=float, default=20)
    arguments.add_argument("--recent-reads-seconds", type=float, default=5)
    options = arguments.parse_args()
    asyncio.run(main(options.rate, options.seconds, options.recent_reads_seconds))
    sys.exit(0)
