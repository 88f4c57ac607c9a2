"""The HTTP command path: what a contract's three requests cost, beside a minimal Litestar app.

    .venv/bin/python -m tests.performance.command_path --contracts 1000

A private platform is started and its members activated; then every contract is drafted
(``POST /v1/contracts``), then every one submitted (``/submit``), then every one signed by its
client (the signing link), each phase on its own, 16 calls in flight. For each phase the
contracts process's CPU time (``/proc``) is divided by the requests: CPU ms per request, the figure
that limits a 2-core box. Beside it, a minimal Litestar app under the same uvicorn, with no
layer of ours (no token, no tracing, no metrics, no problem documents, no rule pack), does the
same MongoDB work per request on its own database: the draft reads the member and inserts the
contract; the submit and the signature each read the contract, update it and insert an outbox
row in one transaction (snapshot read concern, majority writes). The ratio service / minimal
says what our layers cost per request. The contracts process also runs its consumer, relay and
scheduler meanwhile (the signature publishes ``ContractSigned``; the guarantee comes back): that
work is counted too, as it is the price of a command.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.performance import data
from tests.performance.bench import (
    DEFAULT_KAFKA,
    DEFAULT_MONGO,
    Api,
    _drop_private,
    gather_bounded,
    log,
    platform_today,
    register_member,
)
from tests.platform import private_platform, replica_key

PHASES = ("draft", "submit", "sign")


def minimal_app(mongo_uri: str, database: str) -> Any:
    """A Litestar app doing, per request, the MongoDB work of the three contract commands."""
    from litestar import Litestar, post
    from pymongo import AsyncMongoClient, ReadPreference
    from pymongo.read_concern import ReadConcern
    from pymongo.write_concern import WriteConcern

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
    db = client[database]

    async def in_transaction(contract_id: str, status: str, row: dict[str, Any]) -> None:
        async with client.start_session() as session, await session.start_transaction(
                read_concern=ReadConcern("snapshot"), write_concern=WriteConcern("majority"),
                read_preference=ReadPreference.PRIMARY):
            contract = await db.contracts.find_one({"_id": contract_id}, session=session)
            if contract is None:
                raise ValueError(contract_id)
            await db.contracts.update_one({"_id": contract_id}, {"$set": {"status": status}},
                                          session=session)
            await db.outbox.insert_one(row, session=session)

    @post("/draft", status_code=201)
    async def draft(data: dict[str, Any]) -> dict[str, Any]:
        member = await db.members.find_one({"_id": data["member_id"]})
        if member is None:
            raise ValueError(data["member_id"])
        contract_id = os.urandom(12).hex()
        await db.contracts.insert_one({"_id": contract_id, "status": "draft", **data})
        return {"contract_id": contract_id, "status": "draft"}

    @post("/submit/{contract_id:str}")
    async def submit(contract_id: str) -> dict[str, Any]:
        await in_transaction(contract_id, "submitted",
                             {"_id": os.urandom(12).hex(), "mail": "signing-link"})
        return {"contract_id": contract_id, "status": "submitted"}

    @post("/sign/{contract_id:str}")
    async def sign(contract_id: str) -> dict[str, Any]:
        await in_transaction(contract_id, "signed",
                             {"_id": os.urandom(12).hex(), "event": "ContractSigned"})
        return {"contract_id": contract_id, "status": "signed"}

    return Litestar([draft, submit, sign], debug=False)


def serve_minimal(port: int, mongo_uri: str, database: str) -> None:
    import uvicorn

    uvicorn.run(minimal_app(mongo_uri, database), host="127.0.0.1", port=port,
                log_config=None, access_log=False, log_level="warning")


def profile(pid: int, output: Path) -> subprocess.Popen[bytes]:
    """py-spy (``uvx`` fetches it) sampling the contracts process while the phases run: its
    collapsed stacks for a ``.txt`` file, else speedscope's format."""
    fmt = "raw" if output.suffix == ".txt" else "speedscope"
    return subprocess.Popen(["uvx", "--from", "py-spy==0.4.1", "py-spy", "record", "--pid",
                             str(pid), "--format", fmt, "--output", str(output),
                             "--rate", "200", "--nonblocking"])


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured(name: str, pid: int, requests: int,
                   work: Any) -> dict[str, Any]:
    """Run one phase; its wall rate and the server process's CPU ms per request."""
    cpu, began = process_cpu(pid), time.perf_counter()
    await work()
    seconds, spent = time.perf_counter() - began, process_cpu(pid) - cpu
    log(f"{name}: {requests} requests in {seconds:.1f}s, {1000 * spent / requests:.2f} CPU ms each")
    return {"requests": requests, "seconds": round(seconds, 2),
            "requests_per_s": round(requests / seconds, 1),
            "cpu_ms_per_request": round(1000 * spent / requests, 2)}


async def service_side(options: argparse.Namespace) -> dict[str, Any]:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_KAFKA)
    mongo_uri = os.environ.get("MONGODB_URI", DEFAULT_MONGO)
    home = Path(tempfile.mkdtemp(prefix="smart-command-path-"))
    plat = await asyncio.to_thread(private_platform, home, bootstrap, mongo_uri,
                                   SMART_LOG_LEVEL="WARNING")
    api = Api(plat.urls, options.concurrency)
    try:
        seed = options.seed
        member_specs = data.members(max(1, options.contracts // 10), seed)
        specs = data.contracts(options.contracts, member_specs, seed)
        member_ids = await gather_bounded(member_specs, lambda s: register_member(api, s))
        today = await platform_today(mongo_uri, plat.env["SMART_CLOCK_ID"])
        pid = plat.processes[replica_key("contracts", 1)].pid
        await asyncio.sleep(3)  # the members' activations reach contracts before it is timed
        created: list[str] = []
        signing: list[str] = []

        async def draft_all() -> None:
            async def one(spec: data.ContractSpec) -> None:
                answer = await api.call("POST", "contracts", "/v1/contracts",
                                        json_body=spec.body(member_ids[spec.member], today),
                                        headers=api.staff, retry_on=(409,))
                created.append(answer.json()["contract_id"])
            await gather_bounded(specs, one)

        async def submit_all() -> None:
            async def one(contract_id: str) -> None:
                answer = await api.call("POST", "contracts", f"/v1/contracts/{contract_id}/submit",
                                        headers=api.staff)
                signing.append(answer.json()["signing_path"])
            await gather_bounded(list(created), one)

        async def sign_all() -> None:
            await gather_bounded(list(signing),
                                 lambda path: api.call("POST", "contracts", path))

        n = options.contracts
        profiler = profile(pid, options.py_spy) if options.py_spy else None
        try:
            return {"draft": await measured("service draft", pid, n, draft_all),
                    "submit": await measured("service submit", pid, n, submit_all),
                    "sign": await measured("service sign", pid, n, sign_all)}
        finally:
            if profiler is not None:
                profiler.send_signal(2)  # py-spy writes its profile on SIGINT
                profiler.wait(timeout=60)
    finally:
        await api.close()
        await asyncio.to_thread(plat.stop_all)
        await _drop_private(plat, bootstrap, mongo_uri)
        shutil.rmtree(home, ignore_errors=True)


async def minimal_side(options: argparse.Namespace) -> dict[str, Any]:
    from smart_shared.mongo import connect
    from smart_testing import free_port

    mongo_uri = os.environ.get("MONGODB_URI", DEFAULT_MONGO)
    database = f"bench_minimal_{os.urandom(4).hex()}"
    client = connect(mongo_uri)
    await client[database].members.insert_many(
        [{"_id": f"m{i}", "status": "active"} for i in range(max(1, options.contracts // 10))])
    await client[database].create_collection("contracts")
    await client[database].create_collection("outbox")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tests.performance.command_path",
                               "--serve-minimal", str(port), database])
    url = f"http://127.0.0.1:{port}"
    api = Api({"minimal": url}, options.concurrency)
    try:
        for _ in range(100):
            try:
                await api.call("POST", "minimal", "/draft", json_body={"member_id": "m0"})
                break
            except Exception:
                await asyncio.sleep(0.2)
        rng = random.Random(options.seed)
        members = max(1, options.contracts // 10)
        bodies = [{**data.contracts(1, data.members(1, options.seed), options.seed)[0]
                   .body_without_dates, "member_id": f"m{rng.randrange(members)}"}
                  for _ in range(options.contracts)]
        created: list[str] = []

        async def draft_all() -> None:
            async def one(body: dict[str, Any]) -> None:
                created.append((await api.call("POST", "minimal", "/draft",
                                               json_body=body)).json()["contract_id"])
            await gather_bounded(bodies, one)

        async def step_all(step: str) -> None:
            await gather_bounded(list(created),
                                 lambda c: api.call("POST", "minimal", f"/{step}/{c}"))

        n = options.contracts
        return {"draft": await measured("minimal draft", server.pid, n, draft_all),
                "submit": await measured("minimal submit", server.pid, n,
                                         lambda: step_all("submit")),
                "sign": await measured("minimal sign", server.pid, n, lambda: step_all("sign"))}
    finally:
        await api.close()
        server.terminate()
        server.wait(timeout=20)
        await client.drop_database(database)
        await client.close()


def table(result: dict[str, Any]) -> str:
    lines = [f"HTTP command path — {result['contracts']} contracts, "
             f"{result['concurrency']} calls in flight, {os.cpu_count()} CPUs",
             "                       service ms  minimal ms     ratio   service/s  minimal/s"]
    for phase in (*PHASES, "per contract"):
        s, m = result["service"][phase], result["minimal"][phase]
        lines.append(f"  {phase:<18}{s['cpu_ms_per_request']:>12}{m['cpu_ms_per_request']:>12}"
                     f"{result['ratio'][phase]:>10}{s.get('requests_per_s', '-'):>12}"
                     f"{m.get('requests_per_s', '-'):>11}")
    return "\n".join(lines)


def totals(side: dict[str, Any]) -> dict[str, Any]:
    return {**side, "per contract": {"cpu_ms_per_request": round(
        sum(side[p]["cpu_ms_per_request"] for p in PHASES), 2)}}


async def amain(options: argparse.Namespace) -> dict[str, Any]:
    service = totals(await service_side(options))
    minimal = totals(await minimal_side(options))
    result = {
        "contracts": options.contracts, "concurrency": options.concurrency,
        "service": service, "minimal": minimal,
        "ratio": {phase: round(service[phase]["cpu_ms_per_request"]
                               / minimal[phase]["cpu_ms_per_request"], 2)
                  for phase in (*PHASES, "per contract")},
        "load_average_at_end": list(os.getloadavg()),
    }
    print(table(result))
    if options.json:
        options.json.write_text(json.dumps(result, indent=2))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.performance.command_path",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16, help="HTTP calls in flight")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--py-spy", type=Path, default=None, metavar="FILE",
                        help="profile the contracts process during the phases (FILE.txt: "
                        "collapsed stacks, else speedscope)")
    parser.add_argument("--serve-minimal", nargs=2, metavar=("PORT", "DATABASE"),
                        help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.serve_minimal:
        serve_minimal(int(options.serve_minimal[0]),
                      os.environ.get("MONGODB_URI", DEFAULT_MONGO), options.serve_minimal[1])
        return 0
    if options.contracts < 1:
        parser.error("--contracts must be at least 1")
    asyncio.run(amain(options))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
