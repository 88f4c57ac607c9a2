"""HTTP: the fund's position, its transfers, a contract's guarantee, capital injections."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.params import Parameter
from pydantic import BaseModel, ConfigDict, Field
from smart_shared.auth import Principal
from smart_shared.http import Page, idempotent
from smart_shared.money import PositiveMoney
from smart_shared.problems import invalid, not_found
from smart_shared.service import Platform
from smart_shared.text import Paragraph

from fund import accounts, store
from fund.check import check_ledger

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
