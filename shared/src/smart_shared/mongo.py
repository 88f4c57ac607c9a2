"""MongoDB through PyMongo's async API: clients, transactions and the unit of work.

Every state change runs in a ``UnitOfWork``: one MongoDB transaction that also holds the events
the change causes (the outbox) and, in consumers, the ids of the events it handled (the inbox).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from bson import ObjectId
from opentelemetry import propagate
from pymongo import AsyncMongoClient, ReadPreference, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    ConnectionFailure,
    DuplicateKeyError,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from smart_shared.clock import Clock
from smart_shared.events import Event, encode
from smart_shared.ids import new_id

T = TypeVar("T")
Document = dict[str, Any]


def text_equals(value: str) -> Document:
    """Match a string field through a partial index filtered on ``{"$type": "string"}``.

    The query planner uses a partial index only when the query implies its filter, and an
    equality alone does not imply a type: ``{"field": value}`` would scan the collection.
    """
    return {"$eq": value, "$type": "string"}


class Staged(Protocol):
    """Writes that the events of one unit of work add up, made once just before it commits."""

    async def write(self, uow: UnitOfWork) -> None:
        """Make the staged writes in ``uow``'s transaction and forget them."""


S = TypeVar("S", bound=Staged)


class StagedInserts:
    """Documents of one collection inserted with a single ``insert_many`` (subclass it and set
    ``collection``)."""

    collection: str

    def __init__(self) -> None:
        self.documents: list[Document] = []

    async def write(self, uow: UnitOfWork) -> None:
        documents, self.documents = self.documents, []
        if documents:
            await uow.db[self.collection].insert_many(documents, ordered=True,
                                                      session=uow.session)
class KnownDocuments:
    """Documents of one collection as a unit of work has read them: each read at most once, all
    those a batch needs with one ``$in`` query, a missing one remembered as ``None``.

    A consumer batch is one snapshot transaction, so what it read stays what a read would return
    until it writes; a view that changes documents keeps them here as changed (``remember``).
    """

    def __init__(self, collection: str, key: str = "_id") -> None:
        self.collection = collection
        self.key = key
        self._documents: dict[Any, Document | None] = {}

    async def read(self, uow: UnitOfWork, idents: Iterable[Any]) -> list[Any]:
        """Read the documents not known yet, in one query; returns the idents read now."""
        wanted = [ident for ident in dict.fromkeys(idents) if ident not in self._documents]
        if not wanted:
            return []
        # one more than can match, so the first answer closes the cursor
        cursor = uow.db[self.collection].find({self.key: {"$in": wanted}}, session=uow.session,
                                              batch_size=len(wanted) + 1)
        found = {doc[self.key]: doc async for doc in cursor}
        for ident in wanted:
            self._documents[ident] = found.get(ident)
        return wanted

    async def get(self, uow: UnitOfWork, ident: Any) -> Document | None:
        await self.read(uow, [ident])
        return self._documents[ident]

    def __contains__(self, ident: Any) -> bool:
        return ident in self._documents

    def current(self, ident: Any) -> Document | None:
        """The document as known now (``None``: missing, or not read)."""
        return self._documents.get(ident)

    def remember(self, ident: Any, document: Document | None) -> None:
        """The document as this unit of work has now written it (or will, before it commits)."""
        self._documents[ident] = document


async def set_fields(uow: UnitOfWork, collection: str, changes: dict[Any, Document]) -> None:
    """Set each document's changed fields (creating the ones missing), all with one command."""
    if changes:
        await uow.db[collection].bulk_write(
            [UpdateOne({"_id": ident}, {"$set": fields}, upsert=True)
             for ident, fields in changes.items()],
            ordered=True, session=uow.session,
        )


log = logging.getLogger("smart.mongo")

OUTBOX = "outbox"
INBOX = "inbox"
LEASES = "leases"


def connect(uri: str, **options: Any) -> AsyncMongoClient[Document]:
    """An ``AsyncMongoClient`` with majority writes, suited to transactions on a replica set."""
    return AsyncMongoClient(
        uri,
        tz_aware=True,
        w="majority",
        retryWrites=True,
        serverSelectionTimeoutMS=5000,
        **options,
    )


def is_transient(error: BaseException) -> bool:
    """Errors worth retrying: the database is unreachable or a transaction lost a race."""
    if isinstance(error, ConnectionFailure | ServerSelectionTimeoutError):
        return True
    if isinstance(error, PyMongoError):
        return error.has_error_label("TransientTransactionError") or error.has_error_label(
            "UnknownTransactionCommitResult"
        ) or error.has_error_label("RetryableWriteError")
    return False


class UnitOfWork:
    """One transaction: reads and writes through ``session``, events through ``publish``."""

    def __init__(
        self, db: AsyncDatabase[Document], session: AsyncClientSession, clock: Clock
    ) -> None:
        self.db = db
        self.session = session
        self.clock = clock
        self._outbox: list[Document] = []
        self._inbox: list[Document] = []
        self._staged: dict[type[Staged], Staged] = {}

    def publish(self, event: Event, traceparent: str | None = None) -> str:
        """Stage ``event`` in the outbox; it is sent only if the transaction commits.

        The row keeps the ``traceparent`` of the current span (an HTTP request, a consumed event)
        so the trace continues in every consumer. Returns the event id.
        """
        event_id = new_id()
        if traceparent is None:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            traceparent = carrier.get("traceparent")
        key, value, headers = encode(event, event_id, traceparent)
        self._outbox.append({
            "_id": ObjectId(),
            "event_id": event_id,
            "topic": event.topic,
            "ce_type": event.ce_type(),
            "key": key,
            "value": value,
            "headers": [[name, data] for name, data in headers],
            "traceparent": traceparent,
            "aggregate_id": event.aggregate_id,
            "version": event.version,
            "created_at": datetime.now(UTC),
            "pending": True,
        })
        return event_id

    def record_handled(self, event_id: str, ce_type: str) -> None:
        """Remember a consumed event so a redelivery changes nothing."""
        self._inbox.append({"_id": event_id, "ce_type": ce_type, "at": datetime.now(UTC)})

    @property
    def staged_events(self) -> int:
        return len(self._outbox)

    def staged(self, kind: type[S]) -> S:
        """This unit of work's one ``kind`` of staged writes (made on first use).

        A consumer batch handles all its events in one unit of work, so writes they all make to
        one document (a number counter) can be added up, and the documents they create inserted
        with one command. The state lives on the unit of work: a retried transaction gets a fresh
        one and never sees an aborted attempt's state. Until written, staged documents are not in
        the database, even for this transaction: read after ``write_staged``.
        """
        state = self._staged.get(kind)
        if state is None:
            state = self._staged[kind] = kind()
        return state  # type: ignore[return-value]

    async def write_staged(self) -> None:
        """Write what is staged now, so that the reads that follow see it."""
        for state in list(self._staged.values()):
            await state.write(self)

    async def flush(self) -> None:
        """Write the staged writes, then the outbox and inbox rows, in the transaction."""
        await self.write_staged()
        if self._outbox:
            # ids are made here, inside the (possibly retried) transaction, so the relay's
            # _id order follows commit order within this process
            for row in self._outbox:
                row["_id"] = ObjectId()
            await self.db[OUTBOX].insert_many(self._outbox, ordered=True, session=self.session)
        if self._inbox:
            await self.db[INBOX].insert_many(self._inbox, ordered=True, session=self.session)


class Database:
    """A service's own database, and the way to change it: ``await database.transaction(fn)``."""

    def __init__(self, client: AsyncMongoClient[Document], name: str, clock: Clock) -> None:
        self.client = client
        self.db: AsyncDatabase[Document] = client[name]
        self.clock = clock
        self.after_commit: list[Callable[[], None]] = []

    async def transaction(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction with its outbox and inbox rows; retried on races."""
        async with self.client.start_session() as session:

            async def attempt(s: AsyncClientSession) -> T:
                uow = UnitOfWork(self.db, s, self.clock)
                result = await work(uow)
                await uow.flush()
                return result

            result = await session.with_transaction(
                attempt,
                read_concern=ReadConcern("snapshot"),
                write_concern=WriteConcern("majority"),
                read_preference=ReadPreference.PRIMARY,
            )
        for hook in self.after_commit:
            hook()
        return result

    async def ping(self) -> bool:
        try:
            await self.client.admin.command("ping")
            return True
        except PyMongoError:
            return False

    async def ensure_platform_indexes(self) -> None:
        """Indexes of the shared collections: outbox (pending in order), inbox (by id), leases."""
        await self.db[OUTBOX].create_index(
            [("pending", 1), ("_id", 1)],
            name="pending_in_order",
            partialFilterExpression={"pending": True},
        )
        await self.db[OUTBOX].create_index(
            "sent_at", name="sent_expiry", expireAfterSeconds=7 * 24 * 3600
        )
        await self.db[INBOX].create_index(
            "at", name="inbox_expiry", expireAfterSeconds=400 * 24 * 3600
        )


class Lease:
    """A named lease in MongoDB: one holder at a time among a service's replicas.

    Leases use real time, never the platform clock: moving the clock must not steal a lease.
    A holder that stops releases its lease; one that dies keeps it until it expires, unless the
    same named replica starts again (``replica``): its predecessor is then known dead and the
    lease is handed over at once.
    """

    def __init__(self, db: AsyncDatabase[Document], name: str, ttl: timedelta,
                 replica: str = "") -> None:
        self._collection = db[LEASES]
        self.name = name
        self.owner = new_id()
        self.replica = replica
        self.ttl = ttl
        self._renewed_at: datetime | None = None

    async def acquire(self) -> bool:
        """Take or renew the lease; True while this holder has it.

        A held lease is renewed only once a third of its time has passed, so a busy loop that
        asks every few milliseconds costs the database one write every few seconds.
        """
        now = datetime.now(UTC)
        if self._renewed_at and now - self._renewed_at < self.ttl / 3:
            return True
        takeable: list[Document] = [{"owner": self.owner}, {"expires_at": {"$lt": now}}]
        if self.replica:
            takeable.append({"replica": self.replica})  # held by this replica's dead predecessor
        try:
            await self._collection.find_one_and_update(
                {"_id": self.name, "$or": takeable},
                {"$set": {"owner": self.owner, "replica": self.replica,
                          "expires_at": now + self.ttl}},
                upsert=True,
            )
            self._renewed_at = now
            return True
        except DuplicateKeyError:
            self._renewed_at = None
            return False
        except OperationFailure as error:
            if error.code == 11000:
                self._renewed_at = None
                return False
            raise

    async def release(self) -> None:
        self._renewed_at = None
        await self._collection.delete_one({"_id": self.name, "owner": self.owner})


async def backoff(attempt: int, base: float = 0.1, cap: float = 5.0) -> None:
    await asyncio.sleep(min(cap, base * (2**attempt)))
