"""HTTP in → billing's use cases: invoices, documents, credit notes, payments, statements."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi.spec import Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import Parameter
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from smart_shared.auth import Principal, visible_or_404
from smart_shared.codec import jsonable
from smart_shared.http import Order, Page, idempotent
from smart_shared.links import capability_ident, capability_token
from smart_shared.mongo import UnitOfWork
from smart_shared.openapi import PDF, XML, binary, operation_with, problems
from smart_shared.problems import Problem, forbidden, invalid, not_found
from smart_shared.service import Platform
from smart_shared.simulators import outage_switch

from billing.access_point_simulator import SimulatedAccessPoint
from billing.bodies import (
    AssignmentIn,
    ClientLink,
    CreditNoteIn,
    PaymentIn,
    RefundDecisionIn,
    RefundIn,
    RefundStatus,
)
from billing.credit_notes import CreditInvoice, credit_invoice
from billing.documents import credit_note_ubl, invoice_ubl, kept_invoice_pdf
from billing.domain.camt053 import UnreadableStatement, parse_statements
from billing.domain.structured_reference import InvalidStructuredReference, normalise_reference
from billing.einvoicing import access_point_of
from billing.payments import (
    AssignParkedPayment,
    IncomingPayment,
    assign_parked_payment,
    receive_payment,
    refused_payment_date,
)
from billing.refunds import (
    DecideRefund,
    FileRefunds,
    RequestRefund,
    decide_refund,
    refund_file,
    refund_view,
    request_refund,
)
from billing.statements import import_statements
from billing.store import (
    CreditNote,
    Invoice,
    credit_note_of,
    credit_notes_of,
    delivery_view,
    invoice_document,
    invoices_page,
    kept_credit_note_pdf,
    parked_payments_page,
    payments_of,
    refunds_page,
)

IdempotencyKey = Annotated[str | None, Parameter(header="Idempotency-Key", required=False)]
STATUSES = ("open", "paid", "credited", "written_off")
MAX_STATEMENT_BYTES = 5_000_000
LINK_UNKNOWN = (404, "The invoice link is not valid")


def _valid_iban(value: str, field: str = "payer_iban") -> str:
    try:
        return str(IBAN(value).compact)
    except SchwiftyException as error:
        raise invalid(field, f"is not a valid IBAN ({error})") from None


async def _visible_invoice(platform: Platform, principal: Principal, invoice_id: str) -> Invoice:
    doc = await invoice_document(platform.db, invoice_id)
    return Invoice.model_validate(visible_or_404(principal, doc, "Invoice", invoice_id))


async def _visible_credit_note(platform: Platform, principal: Principal, invoice_id: str,
                               credit_note_id: str) -> tuple[Invoice, CreditNote]:
    invoice = await _visible_invoice(platform, principal, invoice_id)
    credit_note = await credit_note_of(platform.db, invoice.invoice_id, credit_note_id)
    if credit_note is None:
        raise not_found("Credit note", credit_note_id)
    return invoice, credit_note


def _invoice_view(invoice: Invoice) -> dict[str, Any]:
    return invoice.model_dump(mode="json")


def _stored_pdf(stored: dict[str, Any], filename: str) -> Response[bytes]:
    """The bytes kept at issue, never rendered again."""
    return Response(bytes(stored["content"]), media_type=stored["media_type"], headers={
        "Content-Disposition": f'inline; filename="{filename}.pdf"',
        "ETag": f'"{stored["sha256"]}"'})


async def _pdf_response(platform: Platform, principal: Principal,
                        invoice_id: str) -> Response[bytes]:
    invoice = await _visible_invoice(platform, principal, invoice_id)
    return _stored_pdf(await kept_invoice_pdf(platform.db, invoice), invoice.number)


async def _ubl_response(platform: Platform, principal: Principal,
                        invoice_id: str) -> Response[bytes]:
    invoice = await _visible_invoice(platform, principal, invoice_id)
    return Response(invoice_ubl(invoice), media_type="application/xml", headers={
        "Content-Disposition": f'inline; filename="{invoice.number}.xml"'})


async def _full_view(platform: Platform, invoice: Invoice) -> dict[str, Any]:
    """The invoice with its payments and credit notes."""
    payments = await payments_of(platform.db, invoice.invoice_id)
    credit_notes = await credit_notes_of(platform.db, invoice.invoice_id)
    view = _invoice_view(invoice)
    view["payments"] = [
        {"payment_id": p["_id"], "amount": {"amount": p["amount"], "currency": p["currency"]},
         "received_on": p["received_on"], "source": p["source"]} for p in payments
    ]
    view["credit_notes"] = [
        {"credit_note_id": c["_id"], "number": c["number"], "issue_date": c["issue_date"],
         "amount": {"amount": c["amount"], "currency": c["currency"]}, "reason": c["reason"],
         "delivery": delivery_view(c)}
        for c in credit_notes
    ]
    return view


async def _linked_invoice(platform: Platform, link: ClientLink) -> Invoice:
    invoice_id = capability_ident("invoice", link.token, platform.settings.link_secret)
    doc = await invoice_document(platform.db, invoice_id) if invoice_id else None
    if doc is None:
        raise Problem(404, "Invoice link not valid", "This invoice link is not valid",
                      "invoice-link-unknown")
    return Invoice.model_validate(doc)


class ClientInvoiceController(Controller):
    """The client's view of their invoice, opened by the link of the invoice's e-mail."""

    path = "/v1/client-invoices"
    tags = ["invoices"]

    @post("/", status_code=200, responses=problems(LINK_UNKNOWN),
          summary="The invoice a client's link opens, with its payments (public: the link is "
                  "the authority)")
    async def show(self, platform: Platform, data: ClientLink) -> dict[str, Any]:
        view = await _full_view(platform, await _linked_invoice(platform, data))
        view.pop("member_id", None)
        return view

    @post("/document", status_code=200, media_type=PDF, responses=problems(LINK_UNKNOWN),
          operation_class=operation_with(also_answers={200: [XML]}),
          summary="The linked invoice as PDF (document 'pdf') or UBL XML ('ubl')")
    async def document(self, platform: Platform, data: ClientLink) -> Response[bytes]:
        invoice = await _linked_invoice(platform, data)
        if data.document == "ubl":
            return Response(invoice_ubl(invoice), media_type="application/xml", headers={
                "Content-Disposition": f'inline; filename="{invoice.number}.xml"'})
        return _stored_pdf(await kept_invoice_pdf(platform.db, invoice), invoice.number)


class InvoiceController(Controller):
    path = "/v1/invoices"
    tags = ["invoices"]

    @get("/", summary="Invoices: a member's own, or the branch's for staff")
    async def list_invoices(
        self, platform: Platform, principal: Principal,
        contract_id: str | None = None, status: str | None = None, client: str | None = None,
        cursor: str | None = None, limit: int = Parameter(default=50, ge=1, le=500),
        order: Order = "oldest",
    ) -> Page[dict[str, Any]]:
        if status and status not in STATUSES:
            raise invalid("status", f"must be one of {', '.join(STATUSES)}")
        member_id = principal.member_id if principal.role == "member" else None
        docs, next_cursor = await invoices_page(platform.database, principal.branch, member_id,
                                                contract_id, status, client, cursor, limit,
                                                order)
        items = [_invoice_view(Invoice.model_validate(doc)) for doc in docs]
        return Page[dict[str, Any]](items=items, next_cursor=next_cursor)

    @get("/{invoice_id:str}", summary="One invoice with its payments and credit notes "
         "(append .pdf or .xml for the documents)",
         operation_class=operation_with(also_answers={200: [PDF, XML]}))
    async def get_invoice(
        self, platform: Platform, principal: Principal, invoice_id: str
    ) -> Response[Any]:
        if invoice_id.endswith(".pdf"):
            return await _pdf_response(platform, principal, invoice_id[:-4])
        if invoice_id.endswith(".xml"):
            return await _ubl_response(platform, principal, invoice_id[:-4])
        invoice = await _visible_invoice(platform, principal, invoice_id)
        view = await _full_view(platform, invoice)
        # the capability link its client receives (the invoice page, without an account)
        view["client_token"] = capability_token("invoice", invoice.invoice_id,
                                                platform.settings.link_secret)
        return Response(view)

    @get("/{invoice_id:str}/pdf", summary="The invoice as PDF, with an EPC QR code to pay",
         media_type=PDF)
    async def pdf(
        self, platform: Platform, principal: Principal, invoice_id: str
    ) -> Response[bytes]:
        return await _pdf_response(platform, principal, invoice_id)

    @get("/{invoice_id:str}/ubl", summary="The invoice as Peppol BIS Billing 3.0 UBL XML",
         media_type=XML)
    async def ubl(
        self, platform: Platform, principal: Principal, invoice_id: str
    ) -> Response[bytes]:
        return await _ubl_response(platform, principal, invoice_id)

    @get("/{invoice_id:str}/credit-notes/{credit_note_id:str}/pdf",
         summary="A credit note of the invoice as the PDF issued", media_type=PDF)
    async def credit_note_pdf(
        self, platform: Platform, principal: Principal, invoice_id: str, credit_note_id: str,
    ) -> Response[bytes]:
        _, credit_note = await _visible_credit_note(platform, principal, invoice_id,
                                                    credit_note_id)
        stored = await kept_credit_note_pdf(platform.db, credit_note_id)
        if stored is None:
            raise not_found("Credit note", credit_note_id)
        return _stored_pdf(stored, credit_note.number)

    @get("/{invoice_id:str}/credit-notes/{credit_note_id:str}/ubl",
         summary="A credit note of the invoice as Peppol BIS Billing 3.0 UBL XML",
         media_type=XML)
    async def credit_note_ubl(
        self, platform: Platform, principal: Principal, invoice_id: str, credit_note_id: str,
    ) -> Response[bytes]:
        invoice, credit_note = await _visible_credit_note(platform, principal, invoice_id,
                                                          credit_note_id)
        return Response(credit_note_ubl(credit_note, invoice), media_type="application/xml",
                        headers={"Content-Disposition":
                                 f'inline; filename="{credit_note.number}.xml"'})

    @post("/{invoice_id:str}/credit-notes", summary="Credit all or part of an invoice (staff)",
          responses=problems((409, "The invoice is already fully credited")))
    async def credit(
        self, platform: Platform, principal: Principal, invoice_id: str, data: CreditNoteIn,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[dict[str, Any]]:
        principal.require("staff", "admin")
        await _visible_invoice(platform, principal, invoice_id)

        command = CreditInvoice(principal.branch, invoice_id, data.amount, data.reason)

        result, replayed = await idempotent(platform.database, idempotency_key,
                                            f"credit-note:{invoice_id}",
                                            data.model_dump(mode="json"),
                                            partial(credit_invoice, command=command))
        return Response(result, status_code=201,
                        headers={"Idempotent-Replayed": str(replayed).lower()})


    @post("/{invoice_id:str}/refunds", summary="Ask for the invoice's credit (an "
          "overpayment) to be refunded to the payer's account (staff; another approves)",
          responses=problems((409, "The invoice holds no credit, or a refund waits already")))
    async def request_refund(
        self, platform: Platform, principal: Principal, invoice_id: str, data: RefundIn,
    ) -> Response[dict[str, Any]]:
        principal.require("staff", "admin")
        iban = _valid_iban(data.payee_iban, "payee_iban") if data.payee_iban else None

        command = RequestRefund(principal.branch, invoice_id, iban, data.payee_name,
                                principal.sub)
        return Response(await platform.database.transaction(
            partial(request_refund, command=command)), status_code=201)


class RefundController(Controller):
    path = "/v1/refunds"
    tags = ["payments"]

    @get("/", summary="Refunds of overpayments of the branch (staff)")
    async def refunds(
        self, platform: Platform, principal: Principal, status: RefundStatus | None = None,
        cursor: str | None = None, limit: int = Parameter(default=50, ge=1, le=500),
    ) -> Page[dict[str, Any]]:
        principal.require("staff", "admin")
        docs, next_cursor = await refunds_page(platform.database, principal.branch, status,
                                               cursor, limit)
        return Page[dict[str, Any]](items=[refund_view(doc) for doc in docs],
                                    next_cursor=next_cursor)

    @post("/{refund_id:str}/decision", status_code=200, summary="Approve (the credit leaves "
          "the invoice) or reject a refund another staff member requested",
          responses=problems((409, "Decided already, requested by you, or the credit is gone")))
    async def decide(self, platform: Platform, principal: Principal, refund_id: str,
                     data: RefundDecisionIn) -> dict[str, Any]:
        principal.require("staff", "admin")
        command = DecideRefund(principal.branch, refund_id, data.decision == "approve",
                               principal.sub)
        return await platform.database.transaction(partial(decide_refund, command=command))

    @post("/file", status_code=201, media_type=XML, summary="The SEPA credit transfer file "
          "(pain.001.001.09) of the branch's approved refunds, which it marks sent",
          responses=problems((409, "No approved refund waits")))
    async def transfer_file(self, platform: Platform, principal: Principal) -> Response[bytes]:
        principal.require("staff", "admin")
        file_id, content = await platform.database.transaction(
            partial(refund_file, command=FileRefunds(principal.branch)))
        return Response(content, media_type=XML, status_code=201, headers={
            "Content-Disposition": f'attachment; filename="refunds-{file_id}.xml"'})


class PaymentController(Controller):
    path = "/v1/payments"
    tags = ["payments"]

    @post("/", summary="Book a payment received (staff; Idempotency-Key required)")
    async def receive(
        self, platform: Platform, principal: Principal, data: PaymentIn,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[dict[str, Any]]:
        principal.require("staff", "admin")
        if bool(data.invoice_id) == bool(data.structured_reference):
            raise invalid("invoice_id", "give either invoice_id or structured_reference")
        reference = None
        if data.structured_reference:
            try:
                reference = normalise_reference(data.structured_reference)
            except InvalidStructuredReference as error:
                raise invalid("structured_reference", str(error)) from None
        refused = refused_payment_date(principal.branch, data.received_on, platform.clock.today())
        if refused:
            raise invalid("received_on", refused)
        payment = IncomingPayment(
            branch=principal.branch, amount=data.amount.amount, currency=data.amount.currency,
            received_on=data.received_on, payer_iban=_valid_iban(data.payer_iban),
            payer_name=data.payer_name, reference=reference, source="api",
        )

        async def work(uow: UnitOfWork) -> dict[str, Any]:
            return await receive_payment(uow, payment, data.invoice_id)

        result, replayed = await idempotent(platform.database, idempotency_key,
                                            f"payment:{principal.branch}",
                                            data.model_dump(mode="json"), work)
        return Response(result, status_code=201,
                        headers={"Idempotent-Replayed": str(replayed).lower()})

    @get("/unmatched", summary="Payments that matched no invoice, parked for staff")
    async def unmatched(
        self, platform: Platform, principal: Principal, cursor: str | None = None,
        limit: int = Parameter(default=50, ge=1, le=500),
    ) -> Page[dict[str, Any]]:
        principal.require("staff", "admin")
        docs, next_cursor = await parked_payments_page(platform.database, principal.branch,
                                                       cursor, limit)
        items = [jsonable({**doc, "payment_id": doc.pop("_id")}) for doc in docs]
        return Page[dict[str, Any]](items=items, next_cursor=next_cursor)

    @post("/unmatched/{payment_id:str}/assign", summary="Book a parked payment on an invoice",
          responses=problems((409, "The payment was booked before")))
    async def assign(
        self, platform: Platform, principal: Principal, payment_id: str, data: AssignmentIn,
    ) -> Response[dict[str, Any]]:
        principal.require("staff", "admin")

        command = AssignParkedPayment(principal.branch, payment_id, data.invoice_id,
                                      principal.sub)
        return Response(await platform.database.transaction(
            partial(assign_parked_payment, command=command)), status_code=201)


class BankStatementController(Controller):
    path = "/v1/bank-statements"
    tags = ["payments"]

    @post("/", summary="Import a camt.053 file of the branch's account (XML body, or "
          "multipart field 'file'): booked whole, or refused whole",
          operation_class=operation_with(body={
              XML: binary(XML),
              "multipart/form-data": Schema(type=OpenAPIType.OBJECT, required=["file"],
                                            properties={"file": binary(XML)}),
          }, body_description="A camt.053 bank-to-customer statement (ISO 20022)"))
    async def import_camt053(
        self, request: Request[Any, Any, Any], platform: Platform, principal: Principal,
    ) -> Response[dict[str, Any]]:
        principal.require("staff", "admin")
        content = await _statement_bytes(request)
        try:
            file = parse_statements(content)
        except UnreadableStatement as error:
            raise invalid(error.where, str(error), "Statement refused") from None
        today = platform.clock.today()
        for statement in file.statements:
            for line in statement.lines:
                if refused := refused_payment_date(principal.branch, line.booked_on, today):
                    raise invalid(f"{statement.where}/Ntry/BookgDt",
                                  f"the entry booked on {line.booked_on} {refused}",
                                  "Statement refused")

        async def work(uow: UnitOfWork) -> dict[str, Any]:
            return await import_statements(uow, principal.branch, file.statements,
                                           file.message_id)

        return Response(await platform.database.transaction(work), status_code=201)


async def _statement_bytes(request: Request[Any, Any, Any]) -> bytes:
    if request.content_type[0] == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or not hasattr(upload, "read"):
            raise invalid("file", "attach the camt.053 file as the multipart field 'file'")
        content = await upload.read()
    else:
        content = await request.body()
    if not content:
        raise invalid("statement", "the body is empty: send the camt.053 XML")
    if len(content) > MAX_STATEMENT_BYTES:
        raise Problem(413, "Statement too large", "Split the statement", "too-large")
    return bytes(content)


def _simulator(platform: Platform) -> SimulatedAccessPoint:
    access_point = access_point_of(platform)
    if not isinstance(access_point, SimulatedAccessPoint):
        raise forbidden("The real Peppol access point is not switched from here")
    return access_point


AccessPointSimulatorController = outage_switch("/v1/peppol-simulator", "Peppol access point",
                                               _simulator)
