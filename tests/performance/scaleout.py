"""The scale-out run: two (or more) replicas of every service, and one of them killed mid-saga.

Every service runs its replicas in one consumer group over topics of several partitions; the extra
replicas start first and hold the outbox relays' leases. Halfway through the contracts the bench
SIGKILLs every replica but the first: their partitions go to the survivor when the broker's
session ends, their leases when they expire, and the saga must finish with every invariant
intact. Each replica's throughput is the events it handled (its ``smart_events_processed_total``,
read from its ``/metrics`` just before it dies, or at the end) over the time it took part.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from smart_shared.mongo import LEASES, connect

from tests.platform import SERVICES, PlatformProcesses, replica_key

RELAY_LEASE = "outbox-relay"
_PROCESSED = re.compile(r"^smart_events_processed_total\{[^}]*\}\s+([0-9.eE+]+)$", re.M)


def events_processed(url: str) -> float | None:
    """The events a replica handled so far (its Prometheus counter), None if it does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return None
    return sum(float(value) for value in _PROCESSED.findall(text))


async def relay_lease_holders(plat: PlatformProcesses, mongo_uri: str) -> dict[str, str | None]:
    """Which replica of each service holds its outbox relay's lease now."""
    client = connect(mongo_uri)
    try:
        holders: dict[str, str | None] = {}
        for name in SERVICES:
            database = client[plat.database(name)]
            lease = await database[LEASES].find_one({"_id": RELAY_LEASE})
            holders[name] = lease.get("replica") if lease else None
        return holders
    finally:
        await client.close()


@dataclass
class ScaleOut:
    """Kills the extra replicas once, mid-saga, and reports what each replica did."""

    plat: PlatformProcesses
    mongo_uri: str
    replicas: int
    freeze_cpu: Any  # called with a process key before that process is killed
    began: float = field(default_factory=time.perf_counter)
    killed_after: float | None = None
    leases_before: dict[str, str | None] = field(default_factory=dict)
    processed: dict[str, float | None] = field(default_factory=dict)
    alive_seconds: dict[str, float] = field(default_factory=dict)
    _kill: asyncio.Task[None] | None = None

    def kill_soon(self) -> None:
        """Kill the extra replicas (once), beside whatever the bench is doing."""
        if self._kill is None:
            self._kill = asyncio.create_task(self._kill_extra_replicas())

    async def _kill_extra_replicas(self) -> None:
        self.leases_before = await relay_lease_holders(self.plat, self.mongo_uri)
        for name in SERVICES:
            for replica in range(2, self.replicas + 1):
                key = replica_key(name, replica)
                self.processed[key] = await asyncio.to_thread(
                    events_processed, self.plat.urls[key])
                self.freeze_cpu(key)
                self.plat.kill(key)
                self.alive_seconds[key] = time.perf_counter() - self.began
        self.killed_after = time.perf_counter() - self.began

    async def report(self) -> dict[str, Any]:
        """Per service: each replica's events handled and rate, and where the relay lease went."""
        if self._kill is not None:
            await self._kill
        ended = time.perf_counter() - self.began
        for name in SERVICES:
            self.processed[name] = await asyncio.to_thread(events_processed, self.plat.urls[name])
            self.alive_seconds[name] = ended
        leases_after = await relay_lease_holders(self.plat, self.mongo_uri)
        services: dict[str, Any] = {}
        for name in SERVICES:
            per_replica = {}
            for replica in range(1, self.replicas + 1):
                key = replica_key(name, replica)
                handled, seconds = self.processed.get(key), self.alive_seconds.get(key)
                per_replica[str(replica)] = {
                    "events_handled": handled,
                    "seconds_alive": round(seconds, 1) if seconds else None,
                    "events_per_s": round(handled / seconds, 1) if handled and seconds else None,
                }
            services[name] = {"replicas": per_replica,
                              "relay_lease_before_kill": self.leases_before.get(name),
                              "relay_lease_at_end": leases_after.get(name)}
        return {"replicas": self.replicas,
                "killed_after_seconds": round(self.killed_after, 1) if self.killed_after else None,
                "services": services}
