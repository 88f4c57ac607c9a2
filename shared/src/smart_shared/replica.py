"""Who this process is among its service's replicas, and taking over from a dead predecessor.

A replica with a stable name (``SMART_REPLICA``: a pod name, an ordinal) runs once at a time. When
it starts, whatever its name still holds — a consumer group membership, a lease, an open MongoDB
transaction — belongs to a predecessor that died, and is taken back at once instead of waiting
for it to expire. A replica without a stable name gets all of these back only on expiry.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from smart_shared.ids import new_id

log = logging.getLogger("smart.replica")


@dataclass(frozen=True)
class Incarnation:
    """One run of one replica of one deployment of a service: the deployment (the service's
    own database, which no other deployment shares, even in one mongod), the replica's stable
    name (``""``: none) and this process's id."""

    deployment: str
    replica: str = ""
    process: str = field(default_factory=lambda: new_id().replace("-", "")[:16])

    @property
    def app_name(self) -> str:
        """The MongoDB application name of this run (the server shows it on every session)."""
        return f"{self._replica_prefix}{self.process}"

    @property
    def _replica_prefix(self) -> str:
        # MongoDB keeps at most 128 bytes of an application name
        return f"smart:{self.deployment}:{self.replica}:"

    def is_predecessor(self, app_name: str) -> bool:
        """``app_name`` is an earlier run of this same named replica (so it is dead)."""
        return bool(self.replica) and app_name.startswith(self._replica_prefix) \
            and app_name != self.app_name


async def end_predecessor_transactions(client: AsyncMongoClient[dict[str, object]],
                                       incarnation: Incarnation) -> int:
    """End the MongoDB sessions a dead predecessor of this replica left open.

    A process killed inside a transaction leaves it open on the server, holding its documents,
    until ``transactionLifetimeLimitSeconds`` (60 s by default, 60 to 90 s measured): the
    restarted replica redelivers the same batch and every write to those documents conflicts
    until then. Returns how many sessions were ended; a refusal (no privilege) only logs.
    """
    if not incarnation.replica:
        return 0
    prefix = "^" + re.escape(incarnation._replica_prefix)
    try:
        cursor = await client.admin.aggregate([
            {"$currentOp": {"idleSessions": True, "allUsers": False}},
            {"$match": {"appName": {"$regex": prefix}, "lsid": {"$exists": True}}},
        ])
        sessions = [op["lsid"] for op in await cursor.to_list(None)
                    if incarnation.is_predecessor(str(op.get("appName", "")))]
        if sessions:
            await client.admin.command("killSessions", sessions)
            log.info("ended %d MongoDB sessions left open by a dead run of %s", len(sessions),
                     incarnation.replica)
        return len(sessions)
    except PyMongoError as error:
        log.warning("could not end the sessions of a dead run of %s: %s",
                    incarnation.replica, error)
        return 0
