"""MongoDB through PyMongo's async API: clients, transactions and the unit of work.

Every state change runs in a ``UnitOfWork``: one MongoDB transaction that also holds the events
the change causes (the outbox) and, in consumers, the ids of the events it handled (the inbox).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from bson import ObjectId
from bson.decimal128 import Decimal128
from pymongo import AsyncMongoClient, InsertOne, ReadPreference, UpdateOne
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
from smart_shared.codec import decimal128, from_decimal128
from smart_shared.events import Event, encode
from smart_shared.ids import new_id
from smart_shared.metrics import TRANSACTION_RETRIES, TRANSACTION_SECONDS
from smart_shared.telemetry import current_traceparent

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


# -------------------------------------------------------------------------------- batch state


class StagedWriteFailed(Exception):
    """A staged update's floor did not hold on the stored document when it was written: the
    transaction must not commit."""

    def __init__(self, collection: str, idents: list[Any]) -> None:
        super().__init__(f"{collection}: the floors of {idents} did not hold when written")
        self.collection = collection
        self.idents = idents


def _replaced(document: Document, kind: type | tuple[type, ...],
              convert: Callable[[Any], Any]) -> Document:
    """The document with its top-level values of ``kind`` converted (itself when none is)."""
    replaced = document
    for name, value in document.items():
        if isinstance(value, kind):
            if replaced is document:
                replaced = dict(document)
            replaced[name] = convert(value)
    return replaced


def _decoded(document: Document) -> Document:
    """Top-level Decimal128 values as Decimal, which adds up in memory at no conversion cost."""
    return _replaced(document, Decimal128, from_decimal128)


def _encoded(document: Document) -> Document:
    """Top-level Decimal values as Decimal128, which MongoDB stores and adds exactly (and so
    in an operator's operand: ``{"$gte": amount}``)."""
    return _replaced(document, (Decimal, dict), _encoded_value)


def _encoded_value(value: Any) -> Any:
    if isinstance(value, dict):
        return _encoded(value)
    return decimal128(value)


def _add(value: Any, delta: Any) -> Any:
    """``value + delta`` as ``$inc`` adds them: a missing value counts as zero."""
    return delta if value is None else value + delta


def _top_level(*documents: Document) -> None:
    for document in documents:
        for name in document:
            if "." in name or name.startswith("$"):
                raise ValueError(f"staged changes name top-level fields only, not {name!r}")


@dataclass
class _Change:
    """Every change a unit of work staged on one document, folded into one write."""

    inserted: Document | None = None  # a new document, written whole by ``InsertOne``
    fields: Document = field(default_factory=dict)      # $set
    increments: Document = field(default_factory=dict)  # $inc
    on_insert: Document = field(default_factory=dict)   # $setOnInsert
    upsert: bool = False
    floors: Document = field(default_factory=dict)      # field → the least it may ever hold
    lowest: Document = field(default_factory=dict)      # field → its lowest running increment
    opaque: list[UpdateOne] = field(default_factory=list)  # updates only the server can apply

    def applied_to(self, stored: Document | None, ident: Any) -> Document | None:
        """The document as the write will leave it (``stored``: as the database has it)."""
        if self.inserted is not None:
            return self.inserted
        if stored is None:
            if not self.upsert:
                return None
            stored = {"_id": ident, **self.on_insert}
        document = {**stored, **self.fields}
        for name, delta in self.increments.items():
            document[name] = _add(document.get(name), delta)
        return document

    @property
    def guard(self) -> Document:
        """What the stored document must hold for every floor to hold after each increment."""
        guard: Document = {}
        for name, floor in self.floors.items():
            lowest = self.lowest.get(name)
            if lowest is not None and lowest < 0:
                guard[name] = {"$gte": floor - lowest}
        return guard

    def operation(self, ident: Any) -> InsertOne[Document] | UpdateOne | None:
        """The one write of every change but the opaque ones (None: nothing to write)."""
        if self.inserted is not None:
            return InsertOne(_encoded(self.inserted))
        update: Document = {}
        if self.fields:
            update["$set"] = _encoded(self.fields)
        if self.increments:
            update["$inc"] = _encoded(self.increments)
        guard = _encoded(self.guard)
        if self.on_insert and not guard:
            update["$setOnInsert"] = _encoded(self.on_insert)
        if not update:
            return None
        # a floor is checked on a stored document: a guarded update never creates one
        return UpdateOne({"_id": ident, **guard}, update, upsert=self.upsert and not guard)


class _Collection:
    """One collection as a unit of work knows it: what it read, what it staged."""

    def __init__(self) -> None:
        self.stored: dict[Any, Document | None] = {}  # as read (None: no such document)
        self.changes: dict[Any, _Change] = {}          # in the order first staged
        self.views: dict[Any, Document | None] = {}    # stored + changes, made when asked
        self.expected: dict[Any, None] = {}            # read with the next read that misses

    def known(self, ident: Any) -> bool:
        change = self.changes.get(ident)
        if change is not None:
            if change.opaque:
                return False  # only the server knows what it leaves
            if change.inserted is not None:
                return True
        return ident in self.stored

    def current(self, ident: Any) -> Document | None:
        if ident in self.views:
            return self.views[ident]
        if not self.known(ident):
            raise LookupError(f"{ident!r} is not known to this unit of work: read it first")
        change = self.changes.get(ident)
        stored = self.stored.get(ident)
        view = stored if change is None else change.applied_to(stored, ident)
        self.views[ident] = view
        return view

    def change(self, ident: Any) -> _Change:
        self.views.pop(ident, None)
        change = self.changes.get(ident)
        if change is None:
            change = self.changes[ident] = _Change()
        return change

    def written(self) -> None:
        """The staged changes are in the database now: what they leave is what a read returns."""
        for ident, change in self.changes.items():
            if change.opaque or not (ident in self.stored or change.inserted is not None):
                self.stored.pop(ident, None)  # only the server knows the result: read again
            else:
                self.stored[ident] = change.applied_to(self.stored.get(ident), ident)
        self.changes.clear()
        self.views.clear()


class BatchState:
    """What one unit of work has read and will write, per collection: an identity map whose
    staged changes every read in the same transaction sees, written once per collection.

    ``uow.staged(BatchState)`` is the unit of work's one instance (a retried transaction starts
    from nothing). Reads go through it: a document is read at most once (``load`` reads what a
    whole batch needs, several collections in one command) and is then returned as this unit of
    work's staged changes leave it (an ``$inc`` added, a ``$set`` applied, an upsert made), so a
    use case never writes early to read its own changes. Writes are staged: every change to one
    document is folded into one write, and each collection is written with one ``bulk_write``
    just before the commit (or before a query that only the database can answer). Documents are
    keyed by ``_id``; staged changes name top-level fields; returned documents are read-only.
    Top-level Decimal128 values are read as ``Decimal`` (added up in memory without converting
    again) and ``Decimal`` values are written as Decimal128.
    """

    def __init__(self) -> None:
        self._collections: dict[str, _Collection] = {}

    def _of(self, collection: str) -> _Collection:
        known = self._collections.get(collection)
        if known is None:
            known = self._collections[collection] = _Collection()
        return known

    # ------------------------------------------------------------------------------ reads

    def known(self, collection: str, ident: Any) -> bool:
        """Whether the document (or its absence) is known without reading the database."""
        return self._of(collection).known(ident)

    def current(self, collection: str, ident: Any) -> Document | None:
        """The document as this unit of work leaves it (``None``: there is none);
        ``LookupError`` when it has not been read."""
        return self._of(collection).current(ident)

    def remember(self, collection: str, ident: Any, document: Document | None) -> None:
        """Record the document as the database returned it in this transaction (``None``:
        missing); staged changes are applied on top of it."""
        known = self._of(collection)
        known.stored[ident] = None if document is None else _decoded(document)
        known.views.pop(ident, None)

    def expect(self, collection: str, idents: Iterable[Any]) -> None:
        """Note documents that the batch may need (a rare path: a declined guarantee's member):
        nothing is read now, but the first read of the collection that misses reads them all
        with it, so a batch reads them once rather than once per event that needs one."""
        self._of(collection).expected.update(dict.fromkeys(idents))

    async def load(self, uow: UnitOfWork, wanted: Mapping[str, Iterable[Any]]) -> None:
        """Read, in one command, whichever of these documents (collection → ids) this unit of
        work does not know yet; a missing one is remembered as missing."""
        queries: dict[str, list[Any]] = {}
        for collection, idents in wanted.items():
            known = self._of(collection)
            unknown = [ident for ident in dict.fromkeys(idents) if not known.known(ident)]
            if unknown and known.expected:
                unknown += [ident for ident in known.expected
                            if ident not in unknown and not known.known(ident)]
                known.expected.clear()
            if unknown:
                if any(known.changes[ident].opaque for ident in unknown
                       if ident in known.changes):
                    await self._write(uow, collection)  # only the server knows what they leave
                queries[collection] = unknown
        if not queries:
            return
        found: dict[str, list[Document]]
        if len(queries) == 1:
            [(collection, idents)] = queries.items()
            # one more than can match, so the first answer closes the cursor
            cursor = uow.db[collection].find({"_id": {"$in": idents}}, session=uow.session,
                                             batch_size=len(idents) + 1)
            found = {collection: [doc async for doc in cursor]}
        else:
            # one round trip for documents of several collections ($unionWith is not allowed in
            # a transaction, $lookup is)
            pipeline: list[Document] = [{"$documents": [{}]}]
            for index, (collection, idents) in enumerate(queries.items()):
                pipeline.append({"$lookup": {"from": collection, "as": f"c{index}",
                                             "pipeline": [{"$match": {"_id": {"$in": idents}}}]}})
            rows = [row async for row in await uow.db.aggregate(pipeline, session=uow.session)]
            found = {collection: rows[0][f"c{index}"]
                     for index, collection in enumerate(queries)}
        for collection, idents in queries.items():
            documents = {doc["_id"]: doc for doc in found[collection]}
            for ident in idents:
                self.remember(collection, ident, documents.get(ident))

    async def get(self, uow: UnitOfWork, collection: str, ident: Any) -> Document | None:
        """The document as this unit of work leaves it, read first if it is not known."""
        known = self._of(collection)
        if not known.known(ident):
            await self.load(uow, {collection: [ident]})
        return known.current(ident)

    async def find(self, uow: UnitOfWork, collection: str, query: Document) -> list[Document]:
        """The documents matching ``query``, as this unit of work leaves them.

        A query by ``_id`` (a value or ``{"$in": [...]}``) is answered from what is known,
        reading only the rest; any other query is the database's to answer, so the collection's
        staged changes are written first (one command) and the query runs in the transaction.
        """
        by_id = query.get("_id") if set(query) == {"_id"} else None
        if by_id is not None and (not isinstance(by_id, dict) or set(by_id) == {"$in"}):
            idents = by_id["$in"] if isinstance(by_id, dict) else [by_id]
            await self.load(uow, {collection: idents})
            documents = (self.current(collection, ident) for ident in dict.fromkeys(idents))
            return [doc for doc in documents if doc is not None]
        await self._write(uow, collection)
        found = [doc async for doc in uow.db[collection].find(query, session=uow.session)]
        for doc in found:
            self.remember(collection, doc["_id"], doc)
        views = (self.current(collection, doc["_id"]) for doc in found)
        return [doc for doc in views if doc is not None]

    # ------------------------------------------------------------------------------ writes

    def insert(self, collection: str, document: Document) -> None:
        """Stage a new document (with its ``_id``); inserted with the collection's write."""
        known = self._of(collection)
        ident = document["_id"]
        if ident in known.changes or (known.known(ident) and known.current(ident) is not None):
            raise ValueError(f"{collection} {ident!r} exists already or has staged changes")
        known.change(ident).inserted = dict(_decoded(document))

    def update(self, collection: str, ident: Any, *, fields: Document | None = None,
               increments: Document | None = None, on_insert: Document | None = None,
               upsert: bool = True, floors: Document | None = None) -> None:
        """Stage ``$set`` of ``fields`` and ``$inc`` of ``increments`` on the document
        (created with ``on_insert`` when missing and ``upsert``); folded with its earlier
        changes into one update.

        ``floors`` (field → least value) makes the database check, when it writes, that the
        stored value was high enough for the field to stay at or above its floor after each
        staged increment in turn; otherwise the write raises ``StagedWriteFailed``. Check the
        business rule before staging: this is the second check, against a racing writer.
        """
        fields = _decoded(fields) if fields else {}
        increments = _decoded(increments) if increments else {}
        on_insert = _decoded(on_insert) if on_insert else {}
        _top_level(fields, increments, on_insert)
        if on_insert and increments and not on_insert.keys().isdisjoint(increments):
            raise ValueError(f"{sorted(on_insert.keys() & increments.keys())}: set on insert "
                             "and incremented at once")
        change = self._of(collection).change(ident)
        if change.inserted is not None:
            # a document of this batch: changed where it stands, still inserted whole
            document = {**change.inserted, **fields}
            for name, delta in increments.items():
                document[name] = _add(document.get(name), delta)
            change.inserted = document
            return
        if fields:
            if change.increments or change.floors:
                for name in fields:
                    change.increments.pop(name, None)
                    change.floors.pop(name, None)
            change.fields.update(fields)
        for name, delta in increments.items():
            if name in change.fields:
                change.fields[name] = _add(change.fields[name], delta)
                continue
            change.increments[name] = running = _add(change.increments.get(name), delta)
            lowest = change.lowest.get(name)
            if lowest is None or running < lowest:
                change.lowest[name] = running
        if floors:
            change.floors.update(_decoded(floors))
        for name, value in on_insert.items():
            if name not in change.fields:
                change.on_insert[name] = value
        change.upsert = change.upsert or upsert

    def stage(self, collection: str, ident: Any, operation: UpdateOne) -> None:
        """Stage an update only the server can apply (a pipeline, a condition on the stored
        document); written after the document's other changes, and a later read of the
        document writes the collection first."""
        self._of(collection).change(ident).opaque.append(operation)

    def operations(self, collection: str) -> list[InsertOne[Document] | UpdateOne]:
        """The writes the collection's staged changes make, in the order first staged."""
        operations: list[InsertOne[Document] | UpdateOne] = []
        for ident, change in self._of(collection).changes.items():
            operation = change.operation(ident)
            if operation is not None:
                operations.append(operation)
            operations += change.opaque
        return operations

    async def write(self, uow: UnitOfWork) -> None:
        """Write every collection's staged changes, one ``bulk_write`` each (``Staged``)."""
        for collection in list(self._collections):
            await self._write(uow, collection)

    async def _write(self, uow: UnitOfWork, collection: str) -> None:
        known = self._of(collection)
        if not known.changes:
            return
        everything: list[InsertOne[Document] | UpdateOne] = []
        counted: list[InsertOne[Document] | UpdateOne] = []  # inserts, and updates that must
        uncounted: list[InsertOne[Document] | UpdateOne] = []  # match or upsert; the rest
        guarded: list[Any] = []
        for ident, change in known.changes.items():
            operation = change.operation(ident)
            if operation is not None:
                everything.append(operation)
                if change.guard:
                    guarded.append(ident)
                if change.upsert or change.guard or change.inserted is not None:
                    counted.append(operation)
                else:
                    uncounted.append(operation)
            everything += change.opaque
            uncounted += change.opaque
        target = uow.db[collection]
        if not everything:
            known.written()
            return
        if guarded and uncounted:
            # the guarded updates in a command of their own, so its counts tell if floors held
            result = await target.bulk_write(counted, ordered=True, session=uow.session)
            await target.bulk_write(uncounted, ordered=True, session=uow.session)
        else:
            result = await target.bulk_write(everything, ordered=True, session=uow.session)
        updates = len(counted) - sum(isinstance(op, InsertOne) for op in counted)
        if guarded and result.matched_count + result.upserted_count < updates:
            raise StagedWriteFailed(collection, guarded)
        known.written()


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
            traceparent = current_traceparent()
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
        the database, even for this transaction: read after ``write_staged``, or stage in a
        ``BatchState``, whose reads see its own staged changes.
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

    def __init__(self, client: AsyncMongoClient[Document], name: str, clock: Clock,
                 service: str = "") -> None:
        self.client = client
        self.db: AsyncDatabase[Document] = client[name]
        self.clock = clock
        self.after_commit: list[Callable[[], None]] = []
        self._seconds = TRANSACTION_SECONDS.labels(service or name)
        self._retries = TRANSACTION_RETRIES.labels(service or name)

    async def transaction(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction with its outbox and inbox rows; retried on races
        (``smart_transaction_seconds``, ``smart_transaction_retries_total``)."""
        attempts = 0
        began = time.perf_counter()
        async with self.client.start_session() as session:

            async def attempt(s: AsyncClientSession) -> T:
                nonlocal attempts
                attempts += 1
                if attempts > 1:
                    self._retries.inc()
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
        self._seconds.observe(time.perf_counter() - began)
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
