"""HTTP: the fund's position, its transfers, a contract's guarantee, capital injections, loans."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, post
from litestar.params import Parameter
from pydantic import BaseModel, ConfigDict, Field
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from smart_shared.auth import Principal, visible_or_404
from smart_shared.events.catalogue import Financing
from smart_shared.http import Order, Page, idempotent
from smart_shared.money import NonNegativeMoney, PositiveMoney
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.openapi import XML, problems
from smart_shared.problems import forbidden, invalid, not_found
from smart_shared.service import Platform
from smart_shared.text import Identifier, OneLine, Paragraph, Reason

from fund import accounts, direct_debits, disbursements, instalments, loans, store
from fund.check import check_ledger
from fund.domain.lending import ZERO

Limit = Annotated[int, Parameter(ge=1, le=500, description="Page size (1 to 500).")]
BranchQuery = Annotated[str | None, Parameter(pattern=r"^[A-Z]{2}$",
                                              description="Defaults to the caller's branch.")]


class CapitalInjection(BaseModel):
    """Capital brought into the branch's fund (e.g. the cooperative's initial endowment)."""

    model_config = ConfigDict(extra="forbid")

    amount: PositiveMoney
    note: Annotated[Paragraph, Field(min_length=3, max_length=500,
                                     description="Why, e.g. 'board decision 12'.")]


def _staff_branch(principal: Principal, branch: str | None) -> str:
    principal.require("staff", "admin", "service")
    chosen = branch or principal.branch
    principal.require_branch(chosen)
    return chosen


class FundController(Controller):
    path = "/v1/fund"
    tags = ["fund"]

    @get("/", summary="The fund's position (staff)")
    async def position(self, platform: Platform, principal: Principal,
                       branch: BranchQuery = None) -> dict[str, Any]:
        return await accounts.fund_position(platform.database, _staff_branch(principal, branch))

    @get("/transfers", summary="The ledger's transfers in booking order (staff)")
    async def transfers(
        self, platform: Platform, principal: Principal, branch: BranchQuery = None,
        contract_id: str | None = None, cursor: str | None = None, limit: Limit = 50,
    ) -> Page[dict[str, Any]]:
        docs, next_cursor = await store.transfer_page(
            platform.database, _staff_branch(principal, branch), contract_id, cursor, limit)
        return Page(items=[store.transfer_view(doc) for doc in docs], next_cursor=next_cursor)

    @get("/check", summary="Reconcile stored balances with the transfers (staff)")
    async def check(self, platform: Platform, principal: Principal,
                    branch: BranchQuery = None) -> dict[str, Any]:
        return await check_ledger(platform.db, [_staff_branch(principal, branch)])

    @post("/capital", summary="Inject capital into the fund (admin; Idempotency-Key required)")
    async def inject_capital(
        self, platform: Platform, principal: Principal, data: CapitalInjection,
        idempotency_key: Annotated[str | None, Parameter(header="Idempotency-Key")] = None,
    ) -> dict[str, Any]:
        principal.require("admin")
        if data.amount.currency != "EUR":
            raise invalid("amount.currency", "the fund keeps its books in EUR")
        key = (idempotency_key or "").strip()
        command = accounts.InjectCapital(principal.branch, key, data.amount, data.note)
        result, _ = await idempotent(platform.database, key, f"fund-capital:{command.branch}",
                                     data.model_dump(mode="json"),
                                     partial(accounts.inject_capital, command=command))
        return result


class GuaranteeController(Controller):
    path = "/v1/guarantees"
    tags = ["guarantees"]

    @get("/{contract_id:str}",
         summary="A contract's guarantee (staff of its branch, or its member)")
    async def guarantee(self, platform: Platform, principal: Principal,
                        contract_id: str) -> dict[str, Any]:
        doc = await store.read_guarantee(platform.db, contract_id)
        if not doc or not doc.get("decided") or not principal.sees(doc["member_id"],
                                                                   doc["branch"]):
            raise not_found("Guarantee", contract_id)

        def money(name: str) -> dict[str, str]:
            return {"amount": str(store.dec(doc.get(name))), "currency": "EUR"}

        return {
            "contract_id": contract_id,
            "branch": doc["branch"],
            "member_id": doc["member_id"],
            "client_key": doc["client_key"],
            "status": doc.get("status"),
            "reason": doc.get("reason"),
            "detail": doc.get("detail"),
            "reservation": doc.get("reservation"),
            "amount": money("amount"),
            "reserved": money("reserved"),
            "advanced": money("advanced"),
            "recovered": money("recovered"),
            "lost": money("lost"),
            "outstanding_advance": money("outstanding_advance"),
            "invoice_id": doc.get("invoice_id"),
            "invoice_paid": doc.get("invoice_paid", False),
            "written_off": doc.get("written_off", False),
            "version": doc.get("version"),
            "decided_at": doc["decided_at"].isoformat() if doc.get("decided_at") else None,
        }


class LoanApplication(BaseModel):
    """A member's application: a microcredit, or the lease of an item from a supplier."""

    model_config = ConfigDict(extra="forbid")

    financing: Financing
    amount: Annotated[PositiveMoney, Field(
        description="Microcredit: the amount borrowed; leasing: the item's price.")]
    months: Annotated[int, Field(ge=1, le=120, description="The term, in monthly instalments.")]
    purpose: Annotated[Paragraph, Field(min_length=3, max_length=500,
                                        description="What the money is for.")]
    item: Annotated[OneLine | None, Field(max_length=200,
                                          description="Leasing: the equipment.")] = None
    supplier: Annotated[OneLine | None, Field(max_length=200,
                                              description="Leasing: who sells it.")] = None
    supplier_iban: Annotated[Identifier | None, Field(
        max_length=42, description="Leasing: the supplier's account, which the fund pays.")] = None
    residual: Annotated[NonNegativeMoney | None, Field(
        description="Leasing: the purchase option at the end of the lease.")] = None


class LoanDecision(BaseModel):
    """Staff's decision on an application; a decline gives the member its reason."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "decline"]
    reason: Reason | None = None


LoanStatus = Annotated[str | None, Parameter(
    pattern=r"^(applied|approved|declined|paying_out|disbursed|repaid|defaulted|recovered|"
            r"written_off)$")]


def _eur(field: str, amount: PositiveMoney | NonNegativeMoney | None) -> None:
    if amount is not None and amount.currency != "EUR":
        raise invalid(field, "the fund lends in EUR")


def sepa_iban(field: str, value: str) -> str:
    """The IBAN in compact form if it is valid and in the SEPA zone (the fund pays by SEPA)."""
    try:
        iban = IBAN(value, validate_bban=True)
    except SchwiftyException as error:
        raise invalid(field, f"this is not a valid IBAN ({error})") from None
    if not iban.in_sepa_zone:
        raise invalid(field, f"the fund pays by SEPA transfer; {iban.country_code} is outside SEPA")
    return str(iban.compact)


def apply_command(principal: Principal, data: LoanApplication) -> loans.ApplyForLoan:
    """The command of a valid application (a 400 naming the field otherwise)."""
    _eur("amount.currency", data.amount)
    _eur("residual.currency", data.residual)
    if data.financing == "leasing":
        for name in ("item", "supplier", "supplier_iban", "residual"):
            if getattr(data, name) is None:
                raise invalid(name, "a lease names its item, its supplier, the supplier's "
                              "account and its residual value")
        assert data.residual is not None
        if data.residual.amount >= data.amount.amount:
            raise invalid("residual", "the residual value is below the item's price")
    else:
        for name in ("item", "supplier", "supplier_iban", "residual"):
            if getattr(data, name) is not None:
                raise invalid(name, "only a lease has an item, a supplier and a residual value")
    if principal.member_id is None:
        raise forbidden("Only a member may apply for a loan")
    return loans.ApplyForLoan(
        branch=principal.branch, member_id=principal.member_id, financing=data.financing,
        amount=data.amount.amount, months=data.months, purpose=data.purpose, item=data.item,
        supplier=data.supplier,
        supplier_iban=sepa_iban("supplier_iban", data.supplier_iban) if data.supplier_iban
        else None,
        residual=data.residual.amount if data.residual else ZERO)


def loan_view(doc: Document) -> dict[str, Any]:
    def money(name: str) -> dict[str, str] | None:
        value = doc.get(name)
        return None if value is None else {"amount": str(store.dec(value)), "currency": "EUR"}

    return {
        "loan_id": doc["_id"], "branch": doc["branch"], "member_id": doc["member_id"],
        "financing": doc["financing"], "status": doc["status"], "amount": money("amount"),
        "months": doc["months"], "purpose": doc["purpose"], "item": doc.get("item"),
        "supplier": doc.get("supplier"), "residual": money("residual"),
        "refusals": doc.get("refusals", []), "reason": doc.get("reason"),
        "applied_on": doc["applied_on"], "decided_on": doc.get("decided_on"),
        "annual_rate": doc.get("annual_rate"), "apr": doc.get("apr"), "fee": money("fee"),
        "total_repayable": money("total_repayable"), "total_cost": money("total_cost"),
        "balance": money("balance"), "schedule": doc.get("schedule", []),
        "disbursement_id": doc.get("disbursement_id"), "disbursed_on": doc.get("disbursed_on"),
        "mandate_id": doc.get("mandate_id"), "mandate_signed_on": doc.get("mandate_signed_on"),
        "defaulted_on": doc.get("defaulted_on"), "recovered": money("recovered"),
        "lost": money("lost"), "version": doc["version"],
    }


def _price_view(loan_id: str, price: dict[str, Decimal]) -> dict[str, Any]:
    return {"loan_id": loan_id, **{name: {"amount": str(value), "currency": "EUR"}
                                   for name, value in price.items()}}


class LoanController(Controller):
    path = "/v1/loans"
    tags = ["loans"]

    @post("/", status_code=201, summary="Apply for a microcredit or a lease (member)",
          responses=problems((409, "The branch does not lend")))
    async def apply(self, platform: Platform, principal: Principal,
                    data: LoanApplication) -> dict[str, Any]:
        principal.require("member")
        command = apply_command(principal, data)
        return loan_view(await platform.database.transaction(
            partial(loans.apply_for_loan, command=command)))

    @post("/{loan_id:str}/decision", status_code=200,
          summary="Approve or decline an application (staff)",
          responses=problems((409, "The loan is decided already, or the pack's conditions "
                                   "refuse its approval")))
    async def decide(self, platform: Platform, principal: Principal, loan_id: str,
                     data: LoanDecision) -> dict[str, Any]:
        principal.require("staff", "admin")
        if data.decision == "decline" and not data.reason:
            raise invalid("reason", "a decline tells the member why")
        command = loans.DecideLoan(principal, loan_id, data.decision == "approve", data.reason)
        return loan_view(await platform.database.transaction(
            partial(loans.decide_loan, command=command)))

    @get("/", summary="Loans: a member's own, or the branch's (staff; status filters)")
    async def list_loans(self, platform: Platform, principal: Principal,
                         status: LoanStatus = None, member_id: str | None = None,
                         cursor: str | None = None, limit: Limit = 50,
                         order: Order = "oldest") -> Page[dict[str, Any]]:
        if principal.role == "member":
            member_id = principal.member_id
        docs, next_cursor = await store.loan_page(platform.database, principal.branch,
                                                  member_id, status, cursor, limit, order)
        return Page(items=[loan_view(doc) for doc in docs], next_cursor=next_cursor)

    @get("/{loan_id:str}/early-repayment",
         summary="What repaying the whole loan today costs (its member, or staff)",
         responses=problems((409, "The loan is not being repaid")))
    async def early_repayment_quote(self, platform: Platform, principal: Principal,
                                    loan_id: str) -> dict[str, Any]:
        price = await platform.database.transaction(partial(
            instalments.early_repayment_quote, principal=principal, loan_id=loan_id))
        return _price_view(loan_id, price)

    @post("/{loan_id:str}/early-repayment", status_code=200,
          summary="Record the member's early repayment of the whole loan (staff; "
          "Idempotency-Key required)", responses=problems((409, "The loan is not being repaid")))
    async def repay_early(
        self, platform: Platform, principal: Principal, loan_id: str,
        idempotency_key: Annotated[str | None, Parameter(header="Idempotency-Key")] = None,
    ) -> dict[str, Any]:
        principal.require("staff", "admin")
        command = instalments.RepayEarly(principal, loan_id)

        async def repay(uow: UnitOfWork) -> dict[str, Any]:
            return _price_view(loan_id, await instalments.repay_early(uow, command))

        result, _ = await idempotent(platform.database, (idempotency_key or "").strip(),
                                     f"loan-early-repayment:{loan_id}", {}, repay)
        return result

    @get("/{loan_id:str}", summary="One loan (its member, or staff of its branch)")
    async def loan(self, platform: Platform, principal: Principal,
                   loan_id: str) -> dict[str, Any]:
        return loan_view(visible_or_404(principal, await store.read_loan(platform.db, loan_id),
                                        "Loan", loan_id))


class DisbursementRequest(BaseModel):
    """The day the bank should pay the loans out (default: today)."""

    model_config = ConfigDict(extra="forbid")

    execution_date: date | None = None


def disbursement_view(doc: Document) -> dict[str, Any]:
    return {
        "disbursement_id": doc["_id"], "branch": doc["branch"], "status": doc["status"],
        "loan_ids": doc["loan_ids"], "held_back": doc.get("held_back", []),
        "total": {"amount": str(store.dec(doc["total"])), "currency": "EUR"},
        "execution_date": doc["execution_date"], "created_on": doc["created_on"],
        "confirmed_on": doc.get("confirmed_on"),
        "file": f"/v1/loan-disbursements/{doc['_id']}/pain.001.xml",
    }


class DisbursementController(Controller):
    path = "/v1/loan-disbursements"
    tags = ["loans"]

    @post("/", status_code=201,
          summary="Pay out the approved loans: book them and make the SEPA file (staff)",
          responses=problems((409, "No approved loan can be paid out now, or the branch does "
                                   "not lend")))
    async def pay_out(
        self, platform: Platform, principal: Principal, data: DisbursementRequest,
        idempotency_key: Annotated[str | None, Parameter(header="Idempotency-Key")] = None,
    ) -> dict[str, Any]:
        principal.require("staff", "admin")
        command = disbursements.PayOutLoans(principal.branch, data.execution_date)

        async def pay(uow: UnitOfWork) -> dict[str, Any]:
            return disbursement_view(await disbursements.pay_out_loans(uow, command))

        result, _ = await idempotent(platform.database, (idempotency_key or "").strip(),
                                     f"loan-disbursement:{command.branch}",
                                     data.model_dump(mode="json"), pay, required=False)
        return result

    @get("/{disbursement_id:str}", summary="A disbursement file's loans and state (staff)")
    async def disbursement(self, platform: Platform, principal: Principal,
                           disbursement_id: str) -> dict[str, Any]:
        principal.require("staff", "admin")
        return disbursement_view(await self._visible(platform, principal, disbursement_id))

    @get("/{disbursement_id:str}/pain.001.xml", media_type=XML,
         summary="The SEPA credit transfer file (pain.001.001.09) from the fund's account")
    async def payment_file(self, platform: Platform, principal: Principal,
                           disbursement_id: str) -> Response[bytes]:
        principal.require("staff", "admin")
        doc = await self._visible(platform, principal, disbursement_id)
        return Response(doc["pain001"].encode(), media_type=XML, headers={
            "Content-Disposition": f'attachment; filename="pain001-{disbursement_id}.xml"'})

    @post("/{disbursement_id:str}/confirmation", status_code=200,
          summary="The bank paid the file's loans out: each is disbursed, once (staff)",
          responses=problems((409, "The disbursement is confirmed already")))
    async def confirm(self, platform: Platform, principal: Principal,
                      disbursement_id: str) -> dict[str, Any]:
        principal.require("staff", "admin")
        command = disbursements.ConfirmDisbursement(principal, disbursement_id)
        return disbursement_view(await platform.database.transaction(
            partial(disbursements.confirm_disbursement, command=command)))

    @staticmethod
    async def _visible(platform: Platform, principal: Principal,
                       disbursement_id: str) -> Document:
        return visible_or_404(principal,
                              await store.read_disbursement(platform.db, disbursement_id),
                              "Disbursement", disbursement_id)


class CollectionRequest(BaseModel):
    """The day the banks should debit the members (default: tomorrow, the earliest SEPA Core
    allows)."""

    model_config = ConfigDict(extra="forbid")

    collection_date: date | None = None


class ReturnedDebitBody(BaseModel):
    """A debit the member's bank returned."""

    model_config = ConfigDict(extra="forbid")

    loan_id: Annotated[Identifier, Field(max_length=64)]
    number: Annotated[int, Field(ge=1, le=120)]
    code: Annotated[str | None, Field(pattern=r"^[A-Z0-9]{4}$", description=(
        "ISO 20022 return reason code, e.g. AM04 (insufficient funds), MD01 (no mandate)."))] = None


class CollectionOutcome(BaseModel):
    """What the bank collected: every debit of the file, except those it returned."""

    model_config = ConfigDict(extra="forbid")

    returned: Annotated[list[ReturnedDebitBody], Field(max_length=10000)] = []


def direct_debit_view(doc: Document) -> dict[str, Any]:
    def money(value: Any) -> dict[str, str]:
        return {"amount": str(store.dec(value)), "currency": "EUR"}

    return {
        "collection_id": doc["_id"], "branch": doc["branch"], "status": doc["status"],
        "collection_date": doc["collection_date"], "created_on": doc["created_on"],
        "confirmed_on": doc.get("confirmed_on"), "total": money(doc["total"]),
        "held_back": doc.get("held_back", []),
        "debits": [{
            "loan_id": item["loan_id"], "number": item["number"], "amount": money(item["amount"]),
            "end_to_end_id": item["end_to_end_id"], "mandate_id": item["mandate_id"],
            "outcome": item.get("outcome"), "code": item.get("code"),
            "surplus": money(item["surplus"]) if item.get("surplus") else None,
        } for item in doc["items"]],
        "file": f"/v1/loan-collections/{doc['_id']}/pain.008.xml",
    }


class DirectDebitController(Controller):
    path = "/v1/loan-collections"
    tags = ["loans"]

    @post("/", status_code=201,
          summary="Collect the instalments payroll could not withhold: the SEPA direct debit "
          "file (staff)",
          responses=problems((409, "No instalment is left unpaid long enough, or the branch "
                                   "does not lend")))
    async def collect(
        self, platform: Platform, principal: Principal, data: CollectionRequest,
        idempotency_key: Annotated[str | None, Parameter(header="Idempotency-Key")] = None,
    ) -> dict[str, Any]:
        principal.require("staff", "admin")
        command = direct_debits.CollectInstalments(principal.branch, data.collection_date)

        async def collect(uow: UnitOfWork) -> dict[str, Any]:
            return direct_debit_view(await direct_debits.collect_instalments(uow, command))

        result, _ = await idempotent(platform.database, (idempotency_key or "").strip(),
                                     f"loan-collection:{command.branch}",
                                     data.model_dump(mode="json"), collect, required=False)
        return result

    @get("/{collection_id:str}", summary="A direct debit file's debits and state (staff)")
    async def direct_debit(self, platform: Platform, principal: Principal,
                           collection_id: str) -> dict[str, Any]:
        principal.require("staff", "admin")
        return direct_debit_view(await self._visible(platform, principal, collection_id))

    @get("/{collection_id:str}/pain.008.xml", media_type=XML,
         summary="The SEPA direct debit file (pain.008.001.02) to the fund's account")
    async def debit_file(self, platform: Platform, principal: Principal,
                         collection_id: str) -> Response[bytes]:
        principal.require("staff", "admin")
        doc = await self._visible(platform, principal, collection_id)
        return Response(doc["pain008"].encode(), media_type=XML, headers={
            "Content-Disposition": f'attachment; filename="pain008-{collection_id}.xml"'})

    @post("/{collection_id:str}/confirmation", status_code=200,
          summary="The bank collected the file, but for the debits it returned: each collected "
          "instalment is booked once (staff)",
          responses=problems((409, "The direct debit file is confirmed already")))
    async def confirm(self, platform: Platform, principal: Principal, collection_id: str,
                      data: CollectionOutcome) -> dict[str, Any]:
        principal.require("staff", "admin")
        command = direct_debits.ConfirmCollection(
            principal, collection_id,
            tuple(direct_debits.ReturnedDebit(r.loan_id, r.number, r.code)
                  for r in data.returned))
        return direct_debit_view(await platform.database.transaction(
            partial(direct_debits.confirm_collection, command=command)))

    @staticmethod
    async def _visible(platform: Platform, principal: Principal,
                       collection_id: str) -> Document:
        return visible_or_404(principal,
                              await store.read_direct_debit(platform.db, collection_id),
                              "Direct debit file", collection_id)
