"""Open-loop HTTP load on two read-mostly endpoints, run in its own process while the saga runs.

    python -m tests.performance.httpload '{"members_url": ..., "payroll_url": ..., ...}'

Requests are queued on a fixed schedule (``rate`` per second, alternating
``GET /v1/members/{id}`` and ``POST /v1/simulations``) whatever the answers take, and sent over a
pool of keep-alive connections (64 by default). ``p50_ms``/``p99_ms`` time each request from
sending to the complete answer; ``p99_from_schedule_ms`` times it from when it was due, so it
also counts waiting for a free connection when the server falls behind. Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from typing import Any
from urllib.parse import urlsplit


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary(latencies: list[float], errors: int, statuses: dict[str, int]) -> dict[str, Any]:
    return {
        "requests": len(latencies) + errors,
        "ok": len(latencies),
        "errors": errors,
        "statuses": statuses,
        "p50_ms": _ms(percentile(latencies, 50)),
        "p95_ms": _ms(percentile(latencies, 95)),
        "p99_ms": _ms(percentile(latencies, 99)),
        "max_ms": _ms(max(latencies) if latencies else None),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


class Connection:
    """One keep-alive HTTP/1.1 connection (a minimal client: the load generator must stay cheap
    on CPU so that it measures the server, not itself)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: str, body: bytes = b"") -> int:
        status, _ = await self.exchange(method, path, headers, body)
        return status

    async def exchange(self, method: str, path: str, headers: str,
                       body: bytes = b"") -> tuple[int, bytes]:
        """Send one request; the answer's status and body."""
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{headers}"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        for attempt in range(2):
            reused = self.writer is not None and not self.writer.is_closing()
            if not reused:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None and self.writer is not None
            try:
                self.writer.write(head)
                status_line = await self.reader.readline()
            except ConnectionError:
                status_line = b""
            if status_line:
                break
            # the server closed an idle keep-alive connection: open a new one, once
            self.close()
            if not reused or attempt:
                raise ConnectionError("connection closed")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        content = b""
        if chunked:
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                content += (await self.reader.readexactly(size + 2))[:size]
                if size == 0:
                    break
        elif length:
            content = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, content

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.writer = None


async def run(config: dict[str, Any]) -> dict[str, Any]:
    rate = float(config["rate"])
    duration = float(config["seconds"])
    connections = int(config.get("connections", 64))
    member_ids: list[str] = config["member_ids"]
    auth = f"Authorization: Bearer {config['token']}\r\n"
    json_headers = auth + "Content-Type: application/json\r\n"
    rng = random.Random(7)
    results: dict[str, list[float]] = {"get_member": [], "simulation": []}
    waits: dict[str, list[float]] = {"get_member": [], "simulation": []}
    errors = {"get_member": 0, "simulation": 0}
    statuses: dict[str, dict[str, int]] = {"get_member": {}, "simulation": {}}
    jobs: asyncio.Queue[tuple[str, float] | None] = asyncio.Queue()

    async def one(kind: str, members: Connection, payroll: Connection) -> tuple[int, float]:
        start = time.perf_counter()
        if kind == "get_member":
            status = await members.request(
                "GET", f"/v1/members/{rng.choice(member_ids)}", auth)
        else:
            amount = f"{rng.randrange(10_000, 500_000) / 100:.2f}"
            body = json.dumps({"branch": "BE", "activity_kind": rng.choice(["artistic", "other"]),
                               "amount_excl_vat": {"amount": amount, "currency": "EUR"}})
            status = await payroll.request("POST", "/v1/simulations", json_headers, body.encode())
        return status, time.perf_counter() - start

    async def worker() -> None:
        members, payroll = Connection(config["members_url"]), Connection(config["payroll_url"])
        try:
            while (job := await jobs.get()) is not None:
                kind, scheduled = job
                try:
                    status, elapsed = await asyncio.wait_for(one(kind, members, payroll), 30)
                except (OSError, ValueError, IndexError, TimeoutError,
                        asyncio.IncompleteReadError) as error:
                    members.close()
                    payroll.close()
                    errors[kind] += 1
                    name = type(error).__name__
                    statuses[kind][name] = statuses[kind].get(name, 0) + 1
                    jobs.task_done()
                    continue
                statuses[kind][str(status)] = statuses[kind].get(str(status), 0) + 1
                if status < 400:
                    results[kind].append(elapsed)
                    # from the moment the request was due: includes waiting for a connection
                    waits[kind].append(time.perf_counter() - scheduled)
                else:
                    errors[kind] += 1
                jobs.task_done()
        finally:
            members.close()
            payroll.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    # warm-up: open the connections, then forget what was measured
    for n in range(connections * 2):
        jobs.put_nowait(("get_member" if n % 2 == 0 else "simulation", time.perf_counter()))
    await jobs.join()
    for kind in results:
        results[kind].clear()
        waits[kind].clear()
        errors[kind] = 0
        statuses[kind] = {}
    began = time.perf_counter()
    total = int(rate * duration)
    for n in range(total):
        due = began + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        jobs.put_nowait(("get_member" if n % 2 == 0 else "simulation", due))
    sending = time.perf_counter() - began
    for _ in workers:
        jobs.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - began

    def figures(kind: str) -> dict[str, Any]:
        out = summary(results[kind], errors[kind], statuses[kind])
        out["p99_from_schedule_ms"] = _ms(percentile(waits[kind], 99))
        return out

    return {
        "offered_rate": rate,
        "connections": connections,
        "sent_rate": round(total / sending, 1) if sending > 0 else None,
        "achieved_rate": round(total / elapsed, 1),
        "seconds": round(elapsed, 2),
        "GET /v1/members/{id}": figures("get_member"),
        "POST /v1/simulations": figures("simulation"),
    }


def main() -> None:
    config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else json.load(sys.stdin)
    print(json.dumps(asyncio.run(run(config))))


if __name__ == "__main__":
    main()
