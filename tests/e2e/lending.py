"""The steps of a member's loan on a running platform, through the public APIs only: a member
with the standing to borrow, contracts whose salaries withhold the instalments, the loan applied
for, approved and paid out, the fund's ledger checked.

Used by the end-to-end test of lending and by the reliability suite's kill tests.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import httpx
from smart_shared.auth import mint_token
from smart_shared.settings import Settings

from tests.demo.scenario import (
    Api,
    Json,
    belgian_national_number,
    belgian_vat_number,
    move_clock_to,
    platform_today,
    poll,
)
from tests.platform import PlatformProcesses

ACTIVE_LONG_ENOUGH = timedelta(days=190)  # the BE pack lends after six months of membership


def money(amount: Decimal | str) -> Json:
    return {"amount": f"{Decimal(amount):.2f}", "currency": "EUR"}


def amount_of(value: Json | str) -> Decimal:
    return Decimal(value["amount"] if isinstance(value, dict) else value)


@dataclass
class Member:
    member_id: str
    token: str
    iban: str


class Lending:
    """A branch's members, contracts, salaries and loans, driven through the services' APIs."""

    def __init__(self, platform: PlatformProcesses, http: httpx.AsyncClient) -> None:
        self.platform = platform
        self.api = Api(platform, http)
        self.staff = self.api.staff["BE"]
        self.rng = random.Random(uuid.uuid4().int)
        self.tag = uuid.uuid4().hex[:6]

    async def today(self) -> date:
        return await platform_today(self.platform)

    async def move_to(self, day: date) -> None:
        await move_clock_to(self.platform, day)

    # ------------------------------------------------------------------------------ members

    async def member(self, first_name: str, iban: str) -> Member:
        """A BE musician registered and active (share paid by staff)."""
        while True:
            number, born = belgian_national_number(self.rng)
            response = await self.api.call("POST", "members", "/v1/members", json={
                "branch": "BE", "first_name": first_name, "last_name": "Lenaerts",
                "email": f"{first_name.lower()}.{self.tag}@example.org",
                "birth_date": born.isoformat(), "national_id": number,
                "address": {"street": "Rue Haute 10", "postal_code": "1000",
                            "city": "Bruxelles", "country": "BE"},
                "iban": iban, "activities": [{"name": "musician", "kind": "artistic",
                                              "joint_committee": "304"}],
            }, expect=(201, 409))
            if response.status_code == 201:
                break
        member_id = response.json()["member_id"]
        token = mint_token(Settings(), "member", "BE", member_id=member_id)
        share = (await self.api.call("POST", "members", f"/v1/members/{member_id}/shares", token,
                                     json={"count": 1})).json()
        await self.api.call(
            "POST", "members", f"/v1/members/{member_id}/shares/{share['share_id']}/payment",
            self.staff, json={"amount": share["total"]},
            headers={"Idempotency-Key": f"share-{member_id}"})
        return Member(member_id, token, iban)

    # ---------------------------------------------------------------------------- contracts

    async def contract_done(self, member: Member, amount: Decimal) -> Json:
        """A contract of one work day (the day after tomorrow) signed, declared, worked and
        invoiced; the clock is left the day after the work; its salary (due)."""
        contract_id = await self.contract_declared(member, amount)
        return await self.work_completed(member, contract_id)

    async def contract_declared(self, member: Member, amount: Decimal) -> str:
        """A contract of one work day (the day after tomorrow), signed by the client, its
        guarantee decided and its employment declared; its id."""
        today = await self.today()
        body = {
            "activity": "musician",
            "client": {"name": "Brasserie du Parc SRL", "kind": "business", "country": "BE",
                       "vat_number": belgian_vat_number(self.rng),
                       "email": "admin@brasserieduparc.example.be", "language": "fr",
                       "address": {"street": "Place Flagey 18", "postal_code": "1050",
                                   "city": "Ixelles", "country": "BE"}},
            "description": f"Concert ({self.tag})",
            "work_days": [(today + timedelta(days=2)).isoformat()],
            "amount_excl_vat": money(amount), "expenses": money("0.00"),
        }

        async def draft() -> httpx.Response:
            # contracts learns of the activation from members' events: 409 until it has
            return await self.api.call("POST", "contracts", "/v1/contracts", member.token,
                                       json=body, expect=(201, 409))

        contract = (await poll(draft, lambda r: r.status_code == 201,
                               what="contract drafted")).json()
        contract_id: str = contract["contract_id"]
        submitted = (await self.api.call("POST", "contracts",
                                         f"/v1/contracts/{contract_id}/submit",
                                         member.token)).json()
        await self.api.call("POST", "contracts", submitted["signing_path"])
        await poll(partial(self.contract, contract_id),
                   lambda c: c["status"] in ("declared", "completed"), what="employment declared")
        await poll(partial(self.api.maybe, "fund", f"/v1/guarantees/{contract_id}", self.staff),
                   lambda g: g is not None, what="guarantee decided")
        return contract_id

    async def contract(self, contract_id: str) -> Json:
        return await self.api.get("contracts", f"/v1/contracts/{contract_id}", self.staff)

    async def work_completed(self, member: Member, contract_id: str) -> Json:
        """The clock moved past the contract's work day: its salary, once due."""
        contract = await self.contract(contract_id)
        await self.move_to(date.fromisoformat(contract["work_days"][-1]) + timedelta(days=1))
        await poll(partial(self.contract, contract_id), lambda c: c["status"] == "completed",
                   what="work completed")
        return await poll(partial(self.salary_of, member, contract_id), lambda s: s is not None,
                          what="salary due")  # type: ignore[return-value]

    async def salary_of(self, member: Member, contract_id: str) -> Json | None:
        for salary in await self.api.every("payroll", "/v1/salaries", self.staff,
                                           member_id=member.member_id):
            if salary["contract_id"] == contract_id:
                return salary
        return None

    async def invoice_paid(self, contract_id: str) -> None:
        """The client pays the contract's invoice in full, by its structured reference."""
        async def invoice() -> Json | None:
            items = await self.api.get("billing", "/v1/invoices", self.staff,
                                       contract_id=contract_id)
            return items["items"][0] if items["items"] else None

        found = await poll(invoice, lambda i: i is not None, what="invoice issued")
        assert found is not None
        await self.api.call("POST", "billing", "/v1/payments", self.staff, json={
            "amount": money(amount_of(found["total"])),
            "received_on": (await self.today()).isoformat(),
            "payer_iban": "BE62510007547061", "payer_name": found["client"]["name"],
            "structured_reference": found["structured_reference"],
        }, headers={"Idempotency-Key": f"pay-{found['invoice_id']}"})
        await poll(invoice, lambda i: i is not None and i["status"] == "paid",
                   what="invoice paid")
        # the fund's check reads transfers and guarantees one after the other: wait until the
        # fund has recovered the advance, so it does not read them either side of that
        await poll(partial(self.api.maybe, "fund", f"/v1/guarantees/{contract_id}", self.staff),
                   lambda g: g is not None and g["invoice_paid"]
                   and amount_of(g["outstanding_advance"]) == 0, what="advance recovered")

    # -------------------------------------------------------------------------------- loans

    async def loan_applied(self, member: Member, amount: str, months: int) -> Json:
        """Apply until the fund knows the member's standing (no refusal left)."""
        async def apply() -> Json:
            response = await self.api.call("POST", "fund", "/v1/loans", member.token, json={
                "financing": "microcredit", "amount": money(amount), "months": months,
                "purpose": "A new instrument"})
            answer: Json = response.json()
            return answer

        return await poll(apply, lambda loan: loan["refusals"] == [],
                          what="loan application without refusal")

    async def loans_paid_out(self, *loans: Json) -> list[Json]:
        """Approve the loans, make the disbursement file and confirm it."""
        for loan in loans:
            await self.api.call("POST", "fund", f"/v1/loans/{loan['loan_id']}/decision",
                                self.staff, json={"decision": "approve"})
        file = (await self.api.call("POST", "fund", "/v1/loan-disbursements", self.staff,
                                    json={})).json()
        assert sorted(file["loan_ids"]) == sorted(loan["loan_id"] for loan in loans), file
        await self.api.call("POST", "fund",
                            f"/v1/loan-disbursements/{file['disbursement_id']}/confirmation",
                            self.staff)
        return [await self.loan(loan["loan_id"]) for loan in loans]

    async def loan(self, loan_id: str) -> Json:
        return await self.api.get("fund", f"/v1/loans/{loan_id}", self.staff)

    async def instalment_paid(self, loan_id: str, number: int) -> Json:
        """The loan once its instalment ``number`` is paid in full."""
        def paid(loan: Json) -> bool:
            entry = loan["schedule"][number - 1]
            return amount_of(entry["paid"]) == amount_of(entry["amount"])

        return await poll(partial(self.loan, loan_id), paid, what=f"instalment {number} paid")

    async def poll_loan(self, loan_id: str, status: str) -> Json:
        return await poll(partial(self.loan, loan_id), lambda loan: loan["status"] == status,
                          what=f"loan {status}")

    async def loan_case_of(self, member: Member) -> Json:
        """The collection case of the member's defaulted loan, once its first letter is out."""
        async def case() -> Json | None:
            items = (await self.api.get("collection", "/v1/loan-cases", self.staff,
                                        member_id=member.member_id))["items"]
            return items[0] if items and items[0]["steps"] else None

        found = await poll(case, lambda c: c is not None, what="loan case opened")
        assert found is not None
        return found

    async def ledger_checks(self) -> Json:
        check = await self.api.get("fund", "/v1/fund/check", self.staff, branch="BE")
        assert check["ok"] is True, check["mismatches"]
        return check

    async def fund(self) -> Json:
        return await self.api.get("fund", "/v1/fund", self.staff, branch="BE")
