"""Billing's MongoDB collections, their documents and indexes.

Amounts are stored as decimal strings, like on the wire; dates as ISO strings so that range
queries on them (due dates) compare correctly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.codec import iso
from smart_shared.documents import ISSUED_DOCUMENTS
from smart_shared.events.catalogue import Activity, Client, WorkNature
from smart_shared.http import Order, find_page
from smart_shared.money import ExactDecimal, Money
from smart_shared.mongo import (
    Database,
    Document,
    KnownDocuments,
    StagedInserts,
    UnitOfWork,
    set_fields,
    text_equals,
)

from billing.domain.balance import Account

CONTRACTS = "contracts"
INVOICES = "invoices"
COUNTERS = "counters"
PAYMENTS = "payments"
UNMATCHED = "unmatched_payments"
CREDIT_NOTES = "credit_notes"
REFUNDS = "refunds"
STATEMENTS = "bank_statements"
DOCUMENTS = ISSUED_DOCUMENTS

InvoiceStatus = Literal["open", "paid", "credited", "written_off"]
DeliveryChannel = Literal["peppol", "email"]


class Delivery(BaseModel):
    """How a document reaches the client: by e-mail, or as an e-invoice through Peppol with
    the state of its delivery (queued, sent, delivered, rejected with the reason)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    channel: DeliveryChannel
    receiver: str | None = Field(None, description="The client's Peppol participant id.")
    status: Literal["queued", "sent", "delivered", "rejected"] | None = None
    reason: str | None = Field(None, description="Why Peppol refused it (rejected).")
    attempts: int = 0
    last_error: str | None = Field(None, description="The last transient failure, retried.")
    next_attempt_at: datetime | None = None
    transmission_id: str | None = None
    queued_at: datetime | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    rejected_at: datetime | None = None


def delivery_view(document: Document) -> dict[str, Any] | None:
    """A stored document's delivery as the API shows it."""
    delivery = document.get("delivery")
    return None if delivery is None else Delivery.model_validate(delivery).model_dump(mode="json")


def delivery_document(receiver: str | None, now: datetime) -> Document:
    """The stored delivery of a document just issued: queued for Peppol, or by e-mail."""
    if receiver is None:
        return {"channel": "email"}
    return {"channel": "peppol", "receiver": receiver, "status": "queued", "pending": True,
            "attempts": 0, "next_attempt_at": now, "queued_at": now}


class Seller(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    street: str
    postal_code: str
    city: str
    country: str
    vat_number: str
    company_id: str
    iban: str
    bic: str
    peppol_scheme: str


class Performer(BaseModel):
    """The member who did the work, named on the invoice (pseudonymised after erasure)."""

    model_config = ConfigDict(frozen=True)

    member_id: str | None
    name: str | None = None
    activity: str
    erased: bool = False


class InvoiceLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    work_days: list[date]
    amount_excl_vat: ExactDecimal


class PrepaidCredit(BaseModel):
    """A client's credit on an earlier invoice, deducted from this one when it was issued."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    invoice_id: str
    number: str
    amount: ExactDecimal


class WriteOff(BaseModel):
    """The write-off of the invoice's debt as lost, and the VAT SMart recovered on it; the claim
    stays due (``vat_due_again``: the VAT of what the client paid after it)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    case_id: str
    written_off_on: date
    reason: str
    lost: ExactDecimal
    lost_excl_vat: ExactDecimal
    vat_recovered: ExactDecimal
    vat_due_again: ExactDecimal = Decimal("0.00")
    vat_correction_number: str | None = Field(
        None, description="The corrective document sent to a business client, if any.")


class Invoice(BaseModel):
    """An issued invoice as stored and as the API shows it."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    invoice_id: str = Field(alias="_id")
    branch: str
    number: str
    contract_id: str
    member_id: str | None
    status: InvoiceStatus
    issue_date: date
    due_date: date
    seller: Seller
    client: Client
    performer: Performer
    lines: list[InvoiceLine]
    currency: str = "EUR"
    amount_excl_vat: ExactDecimal
    vat_rate: ExactDecimal
    vat_category: str
    vat_amount: ExactDecimal
    total: ExactDecimal
    reverse_charge: bool
    vat_mention: str | None = None
    vat_exemption_reason_code: str | None = None
    work_nature: WorkNature = "other"
    structured_reference: str | None = None
    traceparent: str | None = Field(None, exclude=True)
    paid: ExactDecimal = Decimal("0.00")
    credited: ExactDecimal = Decimal("0.00")
    balance_due: ExactDecimal
    credit: ExactDecimal = Decimal("0.00")
    paid_on: date | None = None
    overdue_since: date | None = None
    delivery: Delivery | None = None
    write_off: WriteOff | None = None
    prepaid: ExactDecimal = Decimal("0.00")
    prepaid_from: list[PrepaidCredit] = Field(default_factory=list)
    version: int

    @property
    def payable(self) -> Decimal:
        """What the invoice asked the client to pay when issued: its total less the credit
        deducted from it."""
        return self.total - self.prepaid

    @property
    def account(self) -> Account:
        return Account(self.total, self.paid, self.credited)

    def money(self, amount: Decimal) -> Money:
        return Money.of(amount, self.currency)


class CreditNote(BaseModel):
    """An issued credit note as stored: an amount incl. VAT taken off one invoice."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    credit_note_id: str = Field(alias="_id")
    branch: str
    number: str
    invoice_id: str
    invoice_number: str
    member_id: str | None
    issue_date: date
    amount: ExactDecimal
    amount_excl_vat: ExactDecimal
    vat_amount: ExactDecimal
    vat_rate: ExactDecimal
    currency: str = "EUR"
    reason: str
    delivery: Delivery | None = None


def account_fields(account: Account) -> dict[str, Any]:
    """The stored form of an invoice's account after a payment or a credit note."""
    return {
        "paid": str(account.paid),
        "credited": str(account.credited),
        "balance_due": str(account.balance_due),
        "credit": str(account.credit),
        # the invoices holding a client's credit, found when their next invoice is issued
        "holds_credit": account.credit > 0,
    }


def read_invoice(doc: Document | None) -> Invoice | None:
    return None if doc is None else Invoice.model_validate(doc)


def contract_activity(doc: Document) -> Activity:
    return Activity.model_validate(doc["activity"])


Page = tuple[list[Document], str | None]


async def invoice_document(db: AsyncDatabase[Document], invoice_id: str) -> Document | None:
    """An invoice read outside a transaction (the API's pages and documents)."""
    return await db[INVOICES].find_one({"_id": invoice_id})


async def credit_note_of(db: AsyncDatabase[Document], invoice_id: str,
                         credit_note_id: str) -> CreditNote | None:
    doc = await db[CREDIT_NOTES].find_one({"_id": credit_note_id, "invoice_id": invoice_id})
    return None if doc is None else CreditNote.model_validate(doc)


async def payments_of(db: AsyncDatabase[Document], invoice_id: str) -> list[Document]:
    """The payments booked on an invoice, in the order they were booked."""
    return await db[PAYMENTS].find({"invoice_id": invoice_id}).sort("_id", 1).to_list(None)


async def credit_notes_of(db: AsyncDatabase[Document], invoice_id: str) -> list[Document]:
    return await db[CREDIT_NOTES].find({"invoice_id": invoice_id}).sort("_id", 1).to_list(None)


async def kept_credit_note_pdf(db: AsyncDatabase[Document], credit_note_id: str) -> Document | None:
    """The credit note's PDF as kept at issue."""
    return await db[DOCUMENTS].find_one({"_id": f"credit_note:{credit_note_id}"})


async def invoices_page(database: Database, branch: str, member_id: str | None,
                        contract_id: str | None, status: str | None, client_key: str | None,
                        cursor: str | None, limit: int, order: Order = "oldest") -> Page:
    """A page of the branch's invoices (a member's own when ``member_id`` is given)."""
    query: Document = {"branch": branch}
    if member_id is not None:
        query["member_id"] = member_id
    if contract_id:
        query["contract_id"] = contract_id
    if status:
        query["status"] = status
    if client_key:
        query["client.client_key"] = client_key
    return await find_page(database, INVOICES, query, cursor, limit, order=order)


async def refunds_page(database: Database, branch: str, status: str | None, cursor: str | None,
                       limit: int) -> Page:
    query: Document = {"branch": branch}
    if status:
        query["status"] = status
    return await find_page(database, REFUNDS, query, cursor, limit)


async def parked_payments_page(database: Database, branch: str, cursor: str | None,
                               limit: int) -> Page:
    """A page of the branch's payments parked because they matched no invoice."""
    return await find_page(database, UNMATCHED, {"branch": branch, "status": "parked"},
                           cursor, limit)


async def parked_payment_count(uow: UnitOfWork, branch: str) -> int:
    return await uow.db[UNMATCHED].count_documents({"branch": branch, "status": "parked"},
                                                   session=uow.session)


async def take_parked_payment(uow: UnitOfWork, payment_id: str, branch: str, invoice_id: str,
                              assigned_by: str) -> Document | None:
    """Mark a parked payment assigned to an invoice; the payment as it was parked, or None
    when the branch has no such payment parked."""
    return await uow.db[UNMATCHED].find_one_and_update(
        {"_id": payment_id, "branch": branch, "status": "parked"},
        {"$set": {"status": "assigned", "invoice_id": invoice_id, "assigned_by": assigned_by}},
        session=uow.session)


async def parked_payment_exists(uow: UnitOfWork, payment_id: str, branch: str) -> bool:
    """Whether the branch ever parked this payment (assigned since or not)."""
    return await uow.db[UNMATCHED].find_one({"_id": payment_id, "branch": branch}, {"_id": 1},
                                            session=uow.session) is not None


async def update_invoice(uow: UnitOfWork, invoice: Invoice, changes: Document,
                         during: str) -> None:
    """Write ``changes`` on the invoice as it was read; another change since is a fault."""
    updated = await uow.db[INVOICES].update_one(
        {"_id": invoice.invoice_id, "version": invoice.version}, {"$set": changes},
        session=uow.session)
    if updated.matched_count != 1:
        raise RuntimeError(f"invoice {invoice.invoice_id} changed during {during}")


async def refund_waits(uow: UnitOfWork, invoice_id: str) -> bool:
    """Whether a refund of the invoice's credit waits for its decision."""
    return await uow.db[REFUNDS].find_one({"invoice_id": invoice_id, "status": "requested"},
                                          {"_id": 1}, session=uow.session) is not None


async def last_payment_with_account(uow: UnitOfWork, invoice_id: str) -> Document | None:
    """The invoice's last payment that names the payer's account."""
    return await uow.db[PAYMENTS].find_one(
        {"invoice_id": invoice_id, "payer_iban": {"$type": "string"}},
        sort=[("booked_at", -1)], session=uow.session)


async def insert_refund(uow: UnitOfWork, document: Document) -> None:
    await uow.db[REFUNDS].insert_one(document, session=uow.session)


async def find_refund(uow: UnitOfWork, refund_id: str, branch: str) -> Document | None:
    return await uow.db[REFUNDS].find_one({"_id": refund_id, "branch": branch},
                                          session=uow.session)


async def record_refund_decision(uow: UnitOfWork, refund_id: str,
                                 changes: Document) -> Document | None:
    """The refund after its decision, or None when it was decided already."""
    return await uow.db[REFUNDS].find_one_and_update(
        {"_id": refund_id, "status": "requested"}, {"$set": changes},
        return_document=ReturnDocument.AFTER, session=uow.session)


async def approved_refunds(uow: UnitOfWork, branch: str) -> list[Document]:
    """The branch's approved refunds not in a transfer file yet, oldest first."""
    return await uow.db[REFUNDS].find(
        {"branch": branch, "status": "approved"}, session=uow.session).sort("_id", 1).to_list(None)


async def mark_refunds_filed(uow: UnitOfWork, refund_ids: list[str], file_id: str,
                             now: datetime) -> None:
    await uow.db[REFUNDS].update_many(
        {"_id": {"$in": refund_ids}, "status": "approved"},
        {"$set": {"status": "in_file", "file_id": file_id, "filed_at": now}},
        session=uow.session)


# ------------------------------------------------------------------------ in a unit of work


class NewInvoices(StagedInserts):
    """The invoices issued in a unit of work, inserted together when it flushes."""

    collection = INVOICES


class Contracts:
    """Billing's projection of contracts as one unit of work reads and changes it: the
    contracts it knows (``None``: not recorded yet) and its unwritten changes.

    A consumer batch reads the contracts of all its events with one query before its handlers
    run; the handlers record their facts (and an invoice's claim) on these documents, and the
    changes are written with one bulk write just before the commit. Every change is a write to
    its contract in the transaction, so a concurrent transaction that changes the same contract
    still meets a write conflict and is retried, as it would after a direct update.
    """

    def __init__(self) -> None:
        self._known = KnownDocuments(CONTRACTS)
        self._changes: dict[str, Document] = {}

    async def read(self, uow: UnitOfWork, contract_ids: Iterable[str]) -> None:
        """Read the contracts this unit of work does not know yet, with one query."""
        await self._known.read(uow, contract_ids)

    async def get(self, uow: UnitOfWork, contract_id: str) -> Document | None:
        """The contract as this unit of work knows it, changes included."""
        return await self._known.get(uow, contract_id)

    def change(self, contract_id: str, fields: Document) -> Document:
        """Set ``fields`` on the contract (recording it if need be); returns it changed."""
        contract = {**(self._known.current(contract_id) or {"_id": contract_id}), **fields}
        self._known.remember(contract_id, contract)
        self._changes.setdefault(contract_id, {}).update(fields)
        return contract

    async def write(self, uow: UnitOfWork) -> None:
        changes, self._changes = self._changes, {}
        await set_fields(uow, CONTRACTS, changes)


async def take_sequence(uow: UnitOfWork, key: str, series: str, branch: str, year: int) -> int:
    """Increment the counter ``key`` (made at 1 when missing); its new sequence."""
    counter = await uow.db[COUNTERS].find_one_and_update(
        {"_id": key},
        {"$inc": {"sequence": 1}, "$setOnInsert": {"series": series, "branch": branch,
                                                    "year": year}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        session=uow.session,
    )
    assert counter is not None  # an upsert returning the document after it always finds one
    return int(counter["sequence"])


async def add_to_counters(uow: UnitOfWork, increments: dict[str, int]) -> None:
    """Add the numbers handed out from blocks to their counters, with one command."""
    if increments:
        await uow.db[COUNTERS].bulk_write(
            [UpdateOne({"_id": key}, {"$inc": {"sequence": n}}) for key, n in increments.items()],
            ordered=True, session=uow.session)


async def find_branch_invoice(uow: UnitOfWork, branch: str, invoice_id: str | None = None,
                              reference: str | None = None) -> Invoice | None:
    """The branch's invoice with this id or this structured communication."""
    query: Document = {"branch": branch}
    if invoice_id:
        query["_id"] = invoice_id
    elif reference:
        query["structured_reference"] = text_equals(reference)
    else:
        return None
    return read_invoice(await uow.db[INVOICES].find_one(query, session=uow.session))


async def invoice_of_contract(uow: UnitOfWork, contract_id: str) -> Invoice | None:
    return read_invoice(await uow.db[INVOICES].find_one({"contract_id": contract_id},
                                                        session=uow.session))


async def invoices_by_reference(uow: UnitOfWork, branch: str,
                                references: list[str]) -> dict[str, Document]:
    """The branch's invoices with these structured communications, by communication."""
    cursor = uow.db[INVOICES].find(
        {"branch": branch, "structured_reference": {"$in": references, "$type": "string"}},
        session=uow.session)
    return {doc["structured_reference"]: doc async for doc in cursor}


CLIENT_CREDITS = "client_credits"  # the index of the invoices holding credit, by client


def holding_credit(clients: list[tuple[str, str]]) -> Document:
    """The query for the invoices holding credit of these (branch, client key) clients."""
    return {"$or": [{"holds_credit": True, "branch": b, "client.client_key": k}
                    for b, k in clients]}


async def invoices_holding_credit(uow: UnitOfWork,
                                  clients: list[tuple[str, str]]) -> list[Document]:
    """The invoices holding credit of these (branch, client key) clients, oldest first.

    Read from the partial index ``client_credits``, named: almost no invoice holds credit, so
    on a young collection the planner finds the branch's index ``by_branch`` as quick, keeps that
    plan, and then walks all the branch's invoices for every client of every batch (20,000 keys,
    a second, for a batch's 200 clients). Each clause of the ``$or`` names ``holds_credit``
    itself, which lets the partial index answer it.
    """
    cursor = uow.db[INVOICES].find(holding_credit(clients), session=uow.session).sort(
        [("issue_date", 1), ("_id", 1)]).hint(CLIENT_CREDITS)
    return [doc async for doc in cursor]


async def update_invoices(uow: UnitOfWork, changes: list[tuple[str, int, Document]],
                          during: str) -> None:
    """Write each (invoice id, version read, changes) with one command; an invoice changed
    since it was read is a fault."""
    if not changes:
        return
    result = await uow.db[INVOICES].bulk_write(
        [UpdateOne({"_id": invoice_id, "version": version}, {"$set": fields})
         for invoice_id, version, fields in changes], ordered=True, session=uow.session)
    if result.matched_count != len(changes):
        raise RuntimeError(f"an invoice changed during {during}")


async def booked_dedup_keys(uow: UnitOfWork, dedup_keys: list[str]) -> set[str]:
    """The keys among ``dedup_keys`` of payments already booked or parked (a query each)."""
    booked: set[str] = set()
    if not dedup_keys:
        return booked
    for collection in (PAYMENTS, UNMATCHED):
        cursor = uow.db[collection].find(
            {"dedup_key": {"$in": dedup_keys, "$type": "string"}}, {"dedup_key": 1},
            session=uow.session)
        booked.update([doc["dedup_key"] async for doc in cursor])
    return booked


async def insert_payment(uow: UnitOfWork, payment: Document) -> None:
    await uow.db[PAYMENTS].insert_one(payment, session=uow.session)


async def insert_parked_payment(uow: UnitOfWork, parked: Document) -> None:
    await uow.db[UNMATCHED].insert_one(parked, session=uow.session)


async def insert_payments(uow: UnitOfWork, payments: list[Document]) -> None:
    if payments:
        await uow.db[PAYMENTS].insert_many(payments, ordered=True, session=uow.session)


async def insert_parked_payments(uow: UnitOfWork, parked: list[Document]) -> None:
    if parked:
        await uow.db[UNMATCHED].insert_many(parked, ordered=True, session=uow.session)


async def record_statements_imported(uow: UnitOfWork, statement_keys: list[str]) -> None:
    """Count one more import of each statement, with one command."""
    if statement_keys:
        await uow.db[STATEMENTS].bulk_write([UpdateOne(
            {"_id": key},
            {"$setOnInsert": {"first_imported_at": uow.clock.now()}, "$inc": {"imports": 1}},
            upsert=True) for key in statement_keys], ordered=True, session=uow.session)


async def credit_note_of_cause(uow: UnitOfWork, source_key: str) -> Document | None:
    """The credit note already issued for this cause, if any."""
    return await uow.db[CREDIT_NOTES].find_one({"source_key": source_key}, session=uow.session)


async def insert_credit_note(uow: UnitOfWork, document: Document) -> None:
    await uow.db[CREDIT_NOTES].insert_one(document, session=uow.session)


async def keep_issued_document(uow: UnitOfWork, issued: Document) -> None:
    """Keep a rendered document (``smart_shared.documents.issued_document``) for good."""
    await uow.db[DOCUMENTS].insert_one(issued, session=uow.session)


async def pseudonymise_invoices(uow: UnitOfWork, member_id: str) -> int:
    """Unname the member on their invoices and contracts; how many invoices changed."""
    result = await uow.db[INVOICES].update_many(
        {"member_id": member_id, "performer.erased": False},
        {"$set": {"performer.member_id": None, "performer.name": None, "performer.erased": True}},
        session=uow.session,
    )
    await uow.db[CONTRACTS].update_many(
        {"member_id": member_id}, {"$set": {"member_erased": True}}, session=uow.session
    )
    return int(result.modified_count)


# ------------------------------------------------------------------------------- overdue debts


async def overdue_candidates(db: AsyncDatabase[Document], today: date, limit: int) -> list[str]:
    """Invoices watched for their due date that is now past."""
    return [doc["_id"] for doc in await db[INVOICES].find(
        {"overdue_watch": True, "due_date": {"$lt": iso(today)}}, {"_id": 1}
    ).limit(limit).to_list(limit)]


async def watched_open_invoice(uow: UnitOfWork, invoice_id: str) -> Document | None:
    return await uow.db[INVOICES].find_one(
        {"_id": invoice_id, "overdue_watch": True, "status": "open"}, session=uow.session)


async def stop_overdue_watch(uow: UnitOfWork, invoice_id: str) -> None:
    await uow.db[INVOICES].update_one(
        {"_id": invoice_id}, {"$set": {"overdue_watch": False}}, session=uow.session)


async def mark_overdue(uow: UnitOfWork, invoice: Invoice, since: date) -> None:
    await uow.db[INVOICES].update_one(
        {"_id": invoice.invoice_id, "version": invoice.version},
        {"$set": {"overdue_watch": False, "overdue_since": iso(since),
                  "version": invoice.version + 1}},
        session=uow.session,
    )


# --------------------------------------------------------------------------------- e-invoicing


async def due_deliveries(db: AsyncDatabase[Document], collection: str, now: datetime,
                         limit: int) -> list[str]:
    """Documents of ``collection`` whose Peppol delivery is due a step, the longest due first."""
    return [row["_id"] for row in await db[collection].find(
        {"delivery.pending": True, "delivery.next_attempt_at": {"$lte": now}}, {"_id": 1},
    ).sort("delivery.next_attempt_at", 1).limit(limit).to_list(limit)]


async def claim_delivery(db: AsyncDatabase[Document], collection: str, ident: str,
                         now: datetime, until: datetime) -> Document | None:
    """Keep a due delivery from other runs until ``until``; the document, or None when another
    run claimed it first."""
    return await db[collection].find_one_and_update(
        {"_id": ident, "delivery.pending": True, "delivery.next_attempt_at": {"$lte": now}},
        {"$set": {"delivery.next_attempt_at": until}},
        return_document=ReturnDocument.AFTER,
    )


async def record_delivery_step(db: AsyncDatabase[Document], collection: str, ident: str,
                               status: str, fields: Document) -> None:
    """Set the delivery's ``fields`` if it is still pending in ``status``."""
    await db[collection].update_one(
        {"_id": ident, "delivery.status": status, "delivery.pending": True},
        {"$set": {f"delivery.{name}": value for name, value in fields.items()}})


async def settle_delivery(uow: UnitOfWork, collection: str, ident: str, status: str,
                          fields: Document) -> bool:
    """Record the delivery's outcome ``fields`` if it is still pending in ``status``; False
    when another run recorded it."""
    settled = await uow.db[collection].update_one(
        {"_id": ident, "delivery.status": status, "delivery.pending": True},
        {"$set": {f"delivery.{name}": value for name, value in fields.items()},
         "$unset": {"delivery.pending": "", "delivery.next_attempt_at": ""}},
        session=uow.session)
    return settled.modified_count == 1


async def next_invoice_version(uow: UnitOfWork, invoice_id: str) -> Document | None:
    """The invoice with its version moved on by one (for an event on its stream)."""
    return await uow.db[INVOICES].find_one_and_update(
        {"_id": invoice_id}, {"$inc": {"version": 1}}, session=uow.session,
        return_document=ReturnDocument.AFTER)


async def kept_vat_correction_pdf(db: AsyncDatabase[Document], invoice_id: str) -> Document | None:
    return await db[DOCUMENTS].find_one({"_id": f"vat_correction:{invoice_id}"})


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Uniqueness is what makes issuance and bookings idempotent; the rest serves queries."""
    invoices = db[INVOICES]
    await invoices.create_index("number", unique=True, name="number_unique")
    await invoices.create_index("contract_id", unique=True, name="one_invoice_per_contract")
    await invoices.create_index(
        [("branch", 1), ("structured_reference", 1)], unique=True, name="reference_unique",
        partialFilterExpression={"structured_reference": {"$type": "string"}},
    )
    await invoices.create_index([("branch", 1), ("_id", 1)], name="by_branch")
    await invoices.create_index([("member_id", 1), ("_id", 1)], name="by_member")
    await invoices.create_index(
        [("branch", 1), ("client.client_key", 1), ("issue_date", 1)], name=CLIENT_CREDITS,
        partialFilterExpression={"holds_credit": True},
    )
    await db[REFUNDS].create_index([("branch", 1), ("status", 1), ("_id", 1)],
                                   name="by_branch_and_status")
    await invoices.create_index(
        [("due_date", 1)], name="overdue_watch",
        partialFilterExpression={"overdue_watch": True},
    )
    await db[PAYMENTS].create_index("dedup_key", unique=True, name="booked_once",
                                    partialFilterExpression={"dedup_key": {"$type": "string"}})
    await db[PAYMENTS].create_index([("invoice_id", 1), ("_id", 1)], name="by_invoice")
    await db[UNMATCHED].create_index("dedup_key", unique=True, name="parked_once",
                                     partialFilterExpression={"dedup_key": {"$type": "string"}})
    await db[UNMATCHED].create_index([("branch", 1), ("status", 1), ("_id", 1)],
                                     name="open_by_branch")
    await db[CREDIT_NOTES].create_index("number", unique=True, name="number_unique")
    await db[CREDIT_NOTES].create_index("source_key", unique=True, name="credited_once",
                                        partialFilterExpression={"source_key": {"$type": "string"}})
    await db[CREDIT_NOTES].create_index([("invoice_id", 1), ("_id", 1)], name="by_invoice")
    for collection in (INVOICES, CREDIT_NOTES):
        await db[collection].create_index(
            [("delivery.next_attempt_at", 1)], name="einvoice_due",
            partialFilterExpression={"delivery.pending": True},
        )

