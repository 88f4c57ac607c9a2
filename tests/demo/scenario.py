"""The demo scenario: the whole SMart saga, played through the public HTTP APIs of the six services.

One function, :func:`play`, drives a platform (the one ``make up`` started, or a private one in the
end-to-end tests) from member registration to the write-off of an unpaid debt:

- BE and FR members register, subscribe a cooperative share, staff record its payment;
- four contracts — a Belgian consumer, a Dutch business (reverse charge), a Belgian business and
  a French business — are drafted, submitted and signed by the clients through their signing links;
- the platform clock moves: employment is declared, the work is completed, invoices are issued,
  salaries fall due and the guarantee fund advances them;
- the consumer and the French business pay on time, the Dutch business pays in two parts after the
  fund advanced the salary, the Belgian business never pays: reminders, formal notice with
  interest and compensation, legal handover and write-off over ~200 days of platform time;
- the payment runs of each branch (opened by payroll itself the working day before the pay
  date, or by staff) produce their SEPA pain.001 files and are confirmed.

Only two things besides HTTP: the platform clock is read (to choose future work days) and moved
(``platform.advance_clock``). Every asynchronous effect is awaited by polling a GET endpoint with a
bounded timeout. Identities are fresh on every run (valid national numbers and VAT numbers are
generated with their check digits), so the scenario can be played again on the same platform.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import httpx
from smart_shared.auth import mint_token
from smart_shared.clock import SharedClock
from smart_shared.mongo import connect
from smart_shared.settings import Settings
from stdnum.be import nn
from stdnum.eu import vat as eu_vat
from stdnum.fr import nir

from tests.platform import PlatformProcesses

T = TypeVar("T")
Json = dict[str, Any]

TOTAL_STEPS = 20
WAIT = 60.0  # seconds: the bound of every wait for an asynchronous effect
SHARE_PRICE = Decimal("30.00")
BE_CAPITAL_NEEDED = Decimal("20000.00")  # injected on a platform whose fund is (nearly) empty
FR_CAPITAL_NEEDED = Decimal("10000.00")


class ScenarioError(RuntimeError):
    """A step of the scenario could not be played (an API refused it, or an effect never came)."""


# ----------------------------------------------------------------------------- the cast


@dataclass(frozen=True)
class MemberPlan:
    key: str
    branch: str
    first_name: str
    last_name: str
    activity: str
    kind: str            # artistic | manual | other
    joint_committee: str
    iban: str
    address: Json


@dataclass(frozen=True)
class ContractPlan:
    key: str
    story: str
    member: str                    # MemberPlan.key
    client_kind: str               # business | consumer
    client_country: str
    work_day_offsets: tuple[int, ...]  # days after the platform's today
    amount_excl_vat: Decimal
    expenses: Decimal
    payment: str                   # on_time | two_parts | never


MEMBERS: tuple[MemberPlan, ...] = (
    MemberPlan("anna", "BE", "Anna", "Peeters", "musician", "artistic", "304", "BE71096123456769",
               {"street": "Rue Coenraets 72", "postal_code": "1060", "city": "Saint-Gilles",
                "country": "BE"}),
    MemberPlan("bram", "BE", "Bram", "Willems", "graphic designer", "other", "200",
               "BE62510007547061",
               {"street": "Veldstraat 12", "postal_code": "9000", "city": "Gent", "country": "BE"}),
    MemberPlan("camille", "FR", "Camille", "Durand", "comédienne", "artistic", "304",
               "FR7630004000031234567890143",
               {"street": "12 rue de la Roquette", "postal_code": "75011", "city": "Paris",
                "country": "FR"}),
)

CONTRACTS: tuple[ContractPlan, ...] = (
    ContractPlan("on_time", "BE consumer, pays on time", "anna", "consumer", "BE", (2,),
                 Decimal("1000.00"), Decimal("0.00"), "on_time"),
    ContractPlan("two_parts", "NL business (reverse charge), pays in two parts", "bram",
                 "business", "NL", (2, 3), Decimal("2400.00"), Decimal("150.00"), "two_parts"),
    ContractPlan("never_pays", "BE business, never pays", "anna", "business", "BE", (3,),
                 Decimal("1800.00"), Decimal("0.00"), "never"),
    ContractPlan("fr_on_time", "FR business, pays on time", "camille", "business", "FR", (2, 3),
                 Decimal("1500.00"), Decimal("0.00"), "on_time"),
)
PLANS = {plan.key: plan for plan in CONTRACTS}
MEMBER_PLANS = {plan.key: plan for plan in MEMBERS}
TRACE_CONTRACT = "two_parts"  # signed through its link, advanced, paid, recovered
FIRST_INSTALMENT = Decimal("1000.00")

DUNNING = (  # days after the due date the clock is moved to, and what collection does then
    (1, None, "invoice overdue: collection opens a case"),
    (7, "reminder_1", "first reminder"),
    (21, "reminder_2", "second reminder"),
    (35, "formal_notice", "formal notice: €40 compensation and late interest"),
    (60, "legal_handover", "handed over to the lawyer"),
    (180, "write_off_proposed", "written off"),
)


# ----------------------------------------------------------------------------- the summary


@dataclass
class MemberRow:
    key: str
    member_id: str
    branch: str
    name: str
    activity: str
    status: str
    email: str = ""


@dataclass
class ContractRow:
    key: str
    story: str
    contract_id: str
    member_id: str
    branch: str
    client: str
    client_kind: str
    amount_excl_vat: Decimal
    expenses: Decimal
    work_days: list[date]
    status: str
    guarantee: str


@dataclass
class InvoiceRow:
    key: str
    invoice_id: str
    number: str
    branch: str
    issue_date: date
    due_date: date
    amount_excl_vat: Decimal
    vat_rate: Decimal
    vat_amount: Decimal
    total: Decimal
    reverse_charge: bool
    structured_reference: str | None
    paid: Decimal
    credited: Decimal
    balance_due: Decimal
    status: str
    credit_notes: list[str]


@dataclass
class SalaryRow:
    key: str
    salary_id: str
    contract_id: str
    member_id: str
    branch: str
    guaranteed: bool
    pay_date: date
    gross: Decimal
    net: Decimal
    paid: Decimal
    status: str
    breakdown: Json


@dataclass
class PaymentRunRow:
    branch: str
    payment_run_id: str
    pay_date: date
    count: int
    total: Decimal
    status: str
    pain001_bytes: int
    salary_ids: list[str]


@dataclass
class CaseRow:
    key: str
    case_id: str
    invoice_number: str
    client: str
    status: str
    level: str | None
    principal: Decimal
    outstanding: Decimal
    last_claim: Json | None
    formal_notice_claim: Json | None
    formal_notice_on: date | None
    levels_seen: list[str]


@dataclass
class Summary:
    started_on: date
    members: list[MemberRow] = field(default_factory=list)
    contracts: list[ContractRow] = field(default_factory=list)
    invoices: list[InvoiceRow] = field(default_factory=list)
    salaries: list[SalaryRow] = field(default_factory=list)
    payment_runs: list[PaymentRunRow] = field(default_factory=list)
    fund: dict[str, Json] = field(default_factory=dict)          # branch → GET /v1/fund
    fund_check: dict[str, Json] = field(default_factory=dict)    # branch → GET /v1/fund/check
    guarantees: dict[str, Json] = field(default_factory=dict)    # contract key → guarantee
    cases: list[CaseRow] = field(default_factory=list)
    trace_contract_id: str = ""
    finished_on: date | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def pain001_bytes(self) -> int:
        return sum(run.pain001_bytes for run in self.payment_runs)

    def contract(self, key: str) -> ContractRow:
        return next(c for c in self.contracts if c.key == key)

    def invoice(self, key: str) -> InvoiceRow:
        return next(i for i in self.invoices if i.key == key)

    def salary(self, key: str) -> SalaryRow:
        return next(s for s in self.salaries if s.key == key)


# ----------------------------------------------------------------------------- helpers


async def poll(fetch: Callable[[], Awaitable[T]], until: Callable[[T], bool],
               timeout: float = WAIT, what: str = "condition", interval: float = 0.25) -> T:
    """Call ``fetch`` until ``until`` holds for its answer; ``TimeoutError`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = await fetch()
        if until(value):
            return value
        if time.monotonic() > deadline:
            shown = repr(value)
            raise TimeoutError(f"{what}: not reached within {timeout:.0f}s; last answer: "
                               f"{shown[:600]}")
        await asyncio.sleep(interval)


def _money(amount: Decimal, currency: str = "EUR") -> Json:
    return {"amount": f"{amount:.2f}", "currency": currency}


def _dec(money: Json | str) -> Decimal:
    return Decimal(money["amount"] if isinstance(money, dict) else money)


def belgian_national_number(rng: random.Random) -> tuple[str, date]:
    """A valid Belgian national number (be.nn) and the birth date it encodes."""
    while True:
        born = date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28))
        base = f"{born:%y%m%d}{rng.randint(1, 997):03d}"
        check = 97 - int(("2" if born.year >= 2000 else "") + base) % 97
        number = f"{base}{check:02d}"
        if nn.is_valid(number) and nn.get_birth_date(number) == born:
            return number, born


def french_nir(rng: random.Random) -> tuple[str, date]:
    """A valid French NIR (fr.nir) and a birth date in the year and month it encodes."""
    while True:
        born = date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28))
        body = (f"{rng.choice('12')}{born:%y%m}{rng.choice(['75', '69', '13', '33'])}"
                f"{rng.randint(1, 120):03d}{rng.randint(1, 999):03d}")
        number = body + nir.calc_check_digits(body)
        if nir.is_valid(number):
            return number, born


def belgian_vat_number(rng: random.Random) -> str:
    """A valid Belgian VAT number (BE0 + 7 digits + mod-97 check), e.g. BE0403170701."""
    while True:
        base = f"0{rng.randint(2_000_000, 9_999_999)}"
        number = f"BE{base}{97 - int(base) % 97:02d}"
        if eu_vat.is_valid(number):
            return number


def _client(plan: ContractPlan, rng: random.Random, tag: str) -> Json:
    if plan.client_kind == "consumer":
        return {"name": "Sofie Janssens", "kind": "consumer", "country": "BE",
                "email": f"sofie.{tag.lower()}@example.be", "language": "nl",
                "address": {"street": "Korenmarkt 5", "postal_code": "9000", "city": "Gent",
                            "country": "BE"}}
    if plan.client_country == "NL":
        return {"name": "Studio Noord BV", "kind": "business", "country": "NL",
                "vat_number": "NL004495445B01", "email": "facturen@studionoord.example.nl",
                "language": "en",
                "address": {"street": "Prinsengracht 263", "postal_code": "1016 GV",
                            "city": "Amsterdam", "country": "NL"}}
    if plan.client_country == "FR":
        return {"name": "Atelier Lumière SARL", "kind": "business", "country": "FR",
                "vat_number": "FR40303265045", "email": "compta@atelier-lumiere.example.fr",
                "language": "fr",
                "address": {"street": "8 rue Oberkampf", "postal_code": "75011", "city": "Paris",
                            "country": "FR"}}
    return {"name": "Brasserie du Parc SRL", "kind": "business", "country": "BE",
            "vat_number": belgian_vat_number(rng), "email": "admin@brasserieduparc.example.be",
            "language": "fr",
            "address": {"street": "Place Flagey 18", "postal_code": "1050", "city": "Ixelles",
                        "country": "BE"}}


class Api:
    """The public HTTP APIs, with the tokens of the people who call them."""

    def __init__(self, platform: PlatformProcesses, http: httpx.AsyncClient) -> None:
        settings = Settings()
        self.urls = platform.urls
        self.http = http
        self.staff = {b: mint_token(settings, "staff", b) for b in ("BE", "FR")}
        self.admin = {b: mint_token(settings, "admin", b) for b in ("BE", "FR")}

    async def call(self, method: str, service: str, path: str, token: str | None = None, *,
                   json: Any = None, params: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None,
                   expect: tuple[int, ...] = (200, 201)) -> httpx.Response:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        response = await self.http.request(method, f"{self.urls[service]}{path}", json=json,
                                           params=params, headers=all_headers)
        if response.status_code not in expect:
            raise ScenarioError(f"{method} {service}{path} answered {response.status_code}: "
                                f"{response.text[:800]}")
        return response

    async def get(self, service: str, path: str, token: str, **params: Any) -> Json:
        answer: Json = (await self.call("GET", service, path, token,
                                        params=params or None)).json()
        return answer

    async def maybe(self, service: str, path: str, token: str) -> Json | None:
        """GET that answers ``None`` while the resource does not exist yet (404)."""
        response = await self.call("GET", service, path, token, expect=(200, 404))
        return dict(response.json()) if response.status_code == 200 else None

    async def every(self, service: str, path: str, token: str, **params: Any) -> list[Json]:
        """Every item of a cursor-paginated list."""
        items: list[Json] = []
        cursor: str | None = None
        while True:
            query = dict(params, limit=500)
            if cursor:
                query["cursor"] = cursor
            page = await self.get(service, path, token, **query)
            items.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return items


async def platform_today(platform: PlatformProcesses) -> date:
    """The platform clock's current day (every service follows this shared clock)."""
    client = connect(platform.env["MONGODB_URI"])
    try:
        clock = SharedClock(client, platform.env.get("SMART_CLOCK_ID", "clock"))
        await clock.refresh()
        return clock.today()
    finally:
        await client.close()


async def move_clock_to(platform: PlatformProcesses, day: date) -> date:
    """Move the platform clock forward to ``day`` (nothing when it is already there)."""
    today = await platform_today(platform)
    if day > today:
        await platform.advance_clock(timedelta(days=(day - today).days))
        today = await platform_today(platform)
    return today


# ----------------------------------------------------------------------------- the scenario


async def play(platform: PlatformProcesses, progress: Callable[[str], None]) -> Summary:
    """Play the whole saga on ``platform``; ``progress`` gets one line per step."""
    async with httpx.AsyncClient(timeout=30.0) as http:
        return await _Scenario(platform, Api(platform, http), progress).play()


class _Scenario:
    def __init__(self, platform: PlatformProcesses, api: Api,
                 progress: Callable[[str], None]) -> None:
        self.platform = platform
        self.api = api
        self._progress = progress
        self._step = 0
        self._started = time.monotonic()
        self.rng = random.Random(uuid.uuid4().int)
        self.tag = uuid.uuid4().hex[:6].upper()
        self.members: dict[str, Json] = {}        # member key → member record
        self.member_tokens: dict[str, str] = {}
        self.contracts: dict[str, Json] = {}      # contract key → contract record
        self.invoices: dict[str, Json] = {}
        self.salaries: dict[str, Json] = {}
        self.summary: Summary

    # -- small tools

    def step(self, text: str) -> None:
        self._step += 1
        elapsed = time.monotonic() - self._started
        self._progress(f"[{self._step:2}/{TOTAL_STEPS}] {text}  ({elapsed:.0f}s)")

    def problem(self, text: str) -> None:
        self.summary.problems.append(text)

    async def soft(self, waiting: Awaitable[T], what: str) -> T | None:
        """Wait for an effect; when it never comes, note the problem and go on with the story."""
        try:
            return await waiting
        except (TimeoutError, ScenarioError) as error:
            self.problem(f"{what}: {error}")
            return None

    def staff(self, branch: str) -> str:
        return self.api.staff[branch]

    def branch_of(self, key: str) -> str:
        return MEMBER_PLANS[PLANS[key].member].branch

    async def contract(self, key: str) -> Json:
        contract_id = self.contracts[key]["contract_id"]
        return await self.api.get("contracts", f"/v1/contracts/{contract_id}",
                                  self.staff(self.branch_of(key)))

    async def guarantee(self, key: str) -> Json | None:
        return await self.api.maybe("fund", f"/v1/guarantees/{self.contracts[key]['contract_id']}",
                                    self.staff(self.branch_of(key)))

    async def invoice_of(self, key: str) -> Json | None:
        items = await self.api.get("billing", "/v1/invoices", self.staff(self.branch_of(key)),
                                   contract_id=self.contracts[key]["contract_id"])
        return items["items"][0] if items["items"] else None

    async def invoice(self, key: str) -> Json:
        return await self.api.get("billing", f"/v1/invoices/{self.invoices[key]['invoice_id']}",
                                  self.staff(self.branch_of(key)))

    async def salary_of(self, key: str) -> Json | None:
        contract = self.contracts[key]
        for salary in await self.api.every("payroll", "/v1/salaries",
                                           self.staff(contract["branch"]),
                                           member_id=contract["member_id"]):
            if salary["contract_id"] == contract["contract_id"]:
                return salary
        return None

    async def case_of(self, key: str) -> Json | None:
        invoice_id = self.invoices[key]["invoice_id"]
        for case in await self.api.every("collection", "/v1/cases",
                                         self.staff(self.branch_of(key))):
            if case["invoice_id"] == invoice_id:
                return await self.api.get("collection", f"/v1/cases/{case['case_id']}",
                                          self.staff(self.branch_of(key)))
        return None

    async def pay(self, key: str, amount: Decimal, payer_iban: str, label: str) -> Json:
        """Staff book a payment received, by the structured communication where there is one."""
        invoice = self.invoices[key]
        body: Json = {"amount": _money(amount), "received_on": (await platform_today(
            self.platform)).isoformat(), "payer_iban": payer_iban,
            "payer_name": invoice["client"]["name"]}
        if invoice.get("structured_reference"):
            body["structured_reference"] = invoice["structured_reference"]
        else:
            body["invoice_id"] = invoice["invoice_id"]
        key_header = {"Idempotency-Key": f"demo-{self.tag}-{key}-{label}"}
        response = await self.api.call("POST", "billing", "/v1/payments",
                                       self.staff(invoice["branch"]), json=body,
                                       headers=key_header)
        answer: Json = response.json()
        again = await self.api.call("POST", "billing", "/v1/payments",
                                    self.staff(invoice["branch"]), json=body, headers=key_header)
        if again.json() != answer:
            self.problem(f"payment {key}/{label}: the same Idempotency-Key answered differently: "
                         f"{answer} then {again.json()}")
        return answer

    # -- the story

    async def play(self) -> Summary:
        today = await platform_today(self.platform)
        self.summary = Summary(started_on=today)
        await self.fund_has_capital()
        await self.register_members()
        await self.activate_members()
        await self.draft_contracts(today)
        await self.sign_contracts()
        await self.guarantees_decided()
        await self.employment_declared()
        await self.work_completed()
        await self.salaries_due()
        await self.on_time_payments()
        await self.first_instalment()
        await self.payment_runs()
        await self.second_instalment()
        await self.dunning()
        await self.collect_summary()
        return self.summary

    async def fund_has_capital(self) -> None:
        """A fresh platform's fund is empty: an admin injects capital once (same key, same
        answer); a platform seeded with capital (the end-to-end tests) is left as it is."""
        injected = []
        for branch, needed in (("BE", BE_CAPITAL_NEEDED), ("FR", FR_CAPITAL_NEEDED)):
            position = await self.api.get("fund", "/v1/fund", self.staff(branch), branch=branch)
            if _dec(position["free_balance"]) < needed:
                await self.api.call(
                    "POST", "fund", "/v1/fund/capital", self.api.admin[branch],
                    json={"amount": _money(Decimal("500000.00")),
                          "note": "initial endowment of the guarantee fund (demo)"},
                    headers={"Idempotency-Key": f"demo-endowment-{branch}-{self.tag}"})
                injected.append(branch)
        text = f"capital injected for {', '.join(injected)}" if injected else "capital in place"
        self.step(f"guarantee fund ready ({text})")

    async def register_members(self) -> None:
        for plan in MEMBERS:
            for _attempt in range(5):
                number, born = (belgian_national_number(self.rng) if plan.branch == "BE"
                                else french_nir(self.rng))
                body = {
                    "branch": plan.branch, "first_name": plan.first_name,
                    "last_name": plan.last_name,
                    "email": f"{plan.first_name.lower()}.{self.tag.lower()}@example.org",
                    "birth_date": born.isoformat(), "national_id": number,
                    "address": plan.address, "iban": plan.iban,
                    "activities": [{"name": plan.activity, "kind": plan.kind,
                                    "joint_committee": plan.joint_committee}],
                }
                response = await self.api.call("POST", "members", "/v1/members", json=body,
                                               expect=(201, 409))
                if response.status_code == 201:  # 409: that number is taken, draw another
                    self.members[plan.key] = response.json()
                    break
            else:
                raise ScenarioError(f"could not register {plan.key}: every number was taken")
            member_id = self.members[plan.key]["member_id"]
            self.member_tokens[plan.key] = mint_token(Settings(), "member", plan.branch,
                                                      member_id=member_id)
        self.step(f"{len(MEMBERS)} members registered (BE national numbers, FR NIR, SEPA IBANs)")

    async def activate_members(self) -> None:
        for plan in MEMBERS:
            member_id = self.members[plan.key]["member_id"]
            share = (await self.api.call(
                "POST", "members", f"/v1/members/{member_id}/shares",
                self.member_tokens[plan.key], json={"count": 1})).json()
            total = share["total"]
            paid = (await self.api.call(
                "POST", "members", f"/v1/members/{member_id}/shares/{share['share_id']}/payment",
                self.staff(plan.branch), json={"amount": total},
                headers={"Idempotency-Key": f"demo-share-{member_id}"})).json()
            if paid["status"] != "active":
                raise ScenarioError(f"member {plan.key} not active after paying a share: {paid}")
            self.members[plan.key] = await self.api.get("members", f"/v1/members/{member_id}",
                                                        self.staff(plan.branch))
        self.step("cooperative shares subscribed and paid by staff: members active")

    async def draft_contracts(self, today: date) -> None:
        for plan in CONTRACTS:
            member = MEMBER_PLANS[plan.member]
            body = {
                "activity": member.activity,
                "client": _client(plan, self.rng, self.tag),
                "description": f"{plan.story} ({member.activity}, demo {self.tag})",
                "work_days": [(today + timedelta(days=d)).isoformat()
                              for d in plan.work_day_offsets],
                "amount_excl_vat": _money(plan.amount_excl_vat),
                "expenses": _money(plan.expenses),
            }
            token = self.member_tokens[plan.member]

            async def draft(body: Json = body, token: str = token) -> httpx.Response:
                # contracts learns of the activation from members' events: 409 until it has
                return await self.api.call("POST", "contracts", "/v1/contracts", token,
                                           json=body, expect=(201, 409))

            response = await poll(draft, lambda r: r.status_code == 201,
                                  what=f"contract {plan.key} drafted (member active in contracts)")
            self.contracts[plan.key] = response.json()
        self.step(f"{len(CONTRACTS)} contracts drafted (consumer, NL and BE businesses, FR)")

    async def sign_contracts(self) -> None:
        for plan in CONTRACTS:
            contract_id = self.contracts[plan.key]["contract_id"]
            submitted = (await self.api.call(
                "POST", "contracts", f"/v1/contracts/{contract_id}/submit",
                self.member_tokens[plan.member])).json()
            # the client opens the link: no login, the token is the authority
            signed = (await self.api.call("POST", "contracts", submitted["signing_path"])).json()
            if signed["status"] != "signed":
                raise ScenarioError(f"contract {plan.key} not validated: {signed}")
            reused = await self.api.call("POST", "contracts", submitted["signing_path"],
                                         expect=(200, 404, 410))
            if reused.status_code != 410:
                self.problem(f"signing link of {plan.key} reused: answered {reused.status_code} "
                             "instead of 410 Gone")
            self.contracts[plan.key] = await self.contract(plan.key)
        self.step("contracts submitted and signed through the signing link: ContractSigned")

    async def guarantees_decided(self) -> None:
        for plan in CONTRACTS:
            decided = await poll(partial(self.guarantee, plan.key), lambda g: g is not None,
                                 what=f"guarantee decision for {plan.key}")
            assert decided is not None
            if decided["status"] != "granted":
                self.problem(f"guarantee of {plan.key} {decided['status']}: {decided.get('reason')}"
                             f" {decided.get('detail')}")
            self.summary.guarantees[plan.key] = decided
        self.step("guarantee fund decided: salary costs reserved")

    async def employment_declared(self) -> None:
        for plan in CONTRACTS:
            self.contracts[plan.key] = await poll(
                partial(self.contract, plan.key),
                lambda c: c["status"] in ("declared", "completed"),
                what=f"employment of {plan.key} declared")
        self.step("employment declared to social security (simulated gateway)")

    async def work_completed(self) -> None:
        last_day = max(date.fromisoformat(c["last_work_day"]) for c in self.contracts.values())
        await move_clock_to(self.platform, last_day + timedelta(days=1))
        for plan in CONTRACTS:
            self.contracts[plan.key] = await poll(
                partial(self.contract, plan.key), lambda c: c["status"] == "completed",
                what=f"work of {plan.key} completed")
            invoice = await poll(partial(self.invoice_of, plan.key),
                                 lambda i: i is not None, what=f"invoice of {plan.key} issued")
            assert invoice is not None
            self.invoices[plan.key] = invoice
        numbers = ", ".join(sorted(i["number"] for i in self.invoices.values()))
        self.step(f"clock moved past the last work day: work completed, invoices {numbers}")

    async def salaries_due(self) -> None:
        for plan in CONTRACTS:
            salary = await poll(partial(self.salary_of, plan.key), lambda s: s is not None,
                                what=f"salary of {plan.key} due")
            assert salary is not None
            self.salaries[plan.key] = salary
            if salary["guaranteed"]:
                await self.soft(poll(partial(self.guarantee, plan.key),
                                     lambda g: g is not None and _dec(g["advanced"]) > 0,
                                     what=f"fund advance for {plan.key}"),
                                f"AdvancePaid for {plan.key}")
        self.step("salaries due (7th working day); the fund advanced the guaranteed ones")

    async def on_time_payments(self) -> None:
        payers = {"on_time": "BE62510007547061", "fr_on_time": "FR7610107001011234567890129"}
        for key, iban in payers.items():
            answer = await self.pay(key, _dec(self.invoices[key]["total"]), iban, "full")
            if answer.get("outcome") != "matched":
                self.problem(f"on-time payment of {key}: {answer}")
        for key in payers:
            self.invoices[key] = await poll(partial(self.invoice, key),
                                            lambda i: i["status"] == "paid",
                                            what=f"invoice of {key} paid")
            await self.soft(poll(partial(self.guarantee, key),
                                 lambda g: g is not None and g["invoice_paid"]
                                 and _dec(g["outstanding_advance"]) == 0,
                                 what=f"advance of {key} recovered"), f"AdvanceRecovered {key}")
        self.step("the consumer and the French business paid on time: advances recovered")

    async def first_instalment(self) -> None:
        key = "two_parts"
        await self.soft(poll(partial(self.guarantee, key),
                             lambda g: g is not None and _dec(g["advanced"]) > 0,
                             what="advance before the first instalment"), "AdvancePaid two_parts")
        await self.pay(key, FIRST_INSTALMENT, "NL91ABNA0417164300", "part-1")
        self.invoices[key] = await poll(
            partial(self.invoice, key),
            lambda i: _dec(i["paid"]) == FIRST_INSTALMENT and i["status"] == "open",
            what="first instalment booked")
        self.step(f"NL business paid a first part ({FIRST_INSTALMENT} EUR) after the advance")

    async def payment_runs(self) -> None:
        pay_day = max(date.fromisoformat(s["pay_date"]) for s in self.salaries.values())
        await move_clock_to(self.platform, pay_day)
        for branch in ("BE", "FR"):
            token = self.staff(branch)
            # payroll may have opened the run by itself the working day before: then nothing
            # is left for staff (409) and the salaries name the runs that hold them
            await self.api.call(
                "POST", "payroll", "/v1/payment-runs", token,
                json={"pay_date": pay_day.isoformat()},
                headers={"Idempotency-Key": f"demo-run-{branch}-{self.tag}"}, expect=(201, 409))
            run_ids: set[str] = set()
            for plan in CONTRACTS:
                if self.contracts[plan.key]["branch"] != branch:
                    continue
                held = await poll(partial(self.salary_of, plan.key),
                                  lambda s: s is not None and s["status"] != "due",
                                  what=f"salary of {plan.key} in a payment run")
                assert held is not None
                run_ids.add(held["payment_run_id"])
            for run_id in sorted(run_ids):
                await self.payment_run(branch, run_id, token)
        for plan in CONTRACTS:
            paid = await poll(partial(self.salary_of, plan.key),
                              lambda s: s is not None and s["status"] == "paid",
                              what=f"salary of {plan.key} paid")
            assert paid is not None
            self.salaries[plan.key] = paid
        sizes = ", ".join(f"{r.branch} {r.count} salaries {r.pain001_bytes:,} bytes"
                          for r in self.summary.payment_runs)
        self.step(f"clock moved to the pay date: payment runs, pain.001 files ({sizes}), "
                  "confirmed")

    async def payment_run(self, branch: str, run_id: str, token: str) -> None:
        run = await self.api.get("payroll", f"/v1/payment-runs/{run_id}", token)
        pain = await self.api.call("GET", "payroll", f"/v1/payment-runs/{run_id}/pain.001.xml",
                                   token)
        if b"pain.001.001.09" not in pain.content:
            self.problem(f"{branch} payment file is not a pain.001.001.09 document")
        confirmed = (await self.api.call(
            "POST", "payroll", f"/v1/payment-runs/{run_id}/confirm", token)).json()
        self.summary.payment_runs.append(PaymentRunRow(
            branch=branch, payment_run_id=run_id,
            pay_date=date.fromisoformat(run["pay_date"]), count=run["count"],
            total=_dec(run["total"]), status=confirmed["status"],
            pain001_bytes=len(pain.content),
            salary_ids=[item["salary_id"] for item in run["items"]]))

    async def second_instalment(self) -> None:
        key = "two_parts"
        rest = _dec(self.invoices[key]["balance_due"])
        await self.pay(key, rest, "NL91ABNA0417164300", "part-2")
        self.invoices[key] = await poll(partial(self.invoice, key),
                                        lambda i: i["status"] == "paid",
                                        what="invoice of two_parts paid")
        await self.soft(poll(partial(self.guarantee, key),
                             lambda g: g is not None and g["invoice_paid"]
                             and _dec(g["outstanding_advance"]) == 0,
                             what="advance of two_parts recovered"), "AdvanceRecovered two_parts")
        self.step(f"NL business paid the rest ({rest} EUR): invoice paid, advance recovered")

    async def dunning(self) -> None:
        key = "never_pays"
        due = date.fromisoformat(self.invoices[key]["due_date"])
        levels: list[str] = []
        formal_claim: Json | None = None
        formal_on: date | None = None

        def reached(level: str | None) -> Callable[[Json | None], bool]:
            return lambda c: c is not None and (level is None or c["level"] == level)

        for days, level, text in DUNNING:
            await move_clock_to(self.platform, due + timedelta(days=days))
            what = f"collection step {level}" if level else "collection case opened"
            case = await self.soft(poll(partial(self.case_of, key), reached(level), what=what),
                                   what)
            if case is None:
                self.step(f"due+{days}: {text} — NOT REACHED (see the problems)")
                continue
            if case["level"] and case["level"] not in levels:
                levels.append(case["level"])
            if level == "formal_notice":
                formal_claim = case["last_claim"]
                formal_on = next((date.fromisoformat(e["on"]) for e in case["timeline"]
                                  if e.get("level") == "formal_notice"), None)
            shown = (f" — claims {case['last_claim']['total']['amount']} EUR"
                     if case.get("last_claim") and level else "")
            self.step(f"due+{days}: {text}{shown}")
        await self.soft(poll(partial(self.guarantee, key),
                             lambda g: g is not None and _dec(g["lost"]) > 0,
                             what="loss absorbed by the fund"), "LossAbsorbed never_pays")
        self.invoices[key] = await self.soft(poll(
            partial(self.invoice, key), lambda i: i["status"] == "written_off",
            what="VAT recovered on the written-off invoice"), "write-off VAT") \
            or await self.invoice(key)
        case = await self.case_of(key)
        if case is not None:
            self.summary.cases.append(CaseRow(
                key=key, case_id=case["case_id"], invoice_number=case["invoice_number"],
                client=case["client"]["name"], status=case["status"], level=case["level"],
                principal=_dec(case["principal"]), outstanding=_dec(case["outstanding"]),
                last_claim=case["last_claim"], formal_notice_claim=formal_claim,
                formal_notice_on=formal_on, levels_seen=levels))

    async def collect_summary(self) -> None:
        s = self.summary
        for who in MEMBERS:
            member_id = self.members[who.key]["member_id"]
            member = await self.api.get("members", f"/v1/members/{member_id}",
                                        self.staff(who.branch))
            s.members.append(MemberRow(who.key, member["member_id"], who.branch,
                                       f"{member['first_name']} {member['last_name']}",
                                       who.activity, member["status"], member["email"]))
        for plan in CONTRACTS:
            contract = await self.contract(plan.key)
            guarantee = await self.guarantee(plan.key) or {}
            s.guarantees[plan.key] = guarantee
            s.contracts.append(ContractRow(
                key=plan.key, story=plan.story, contract_id=contract["contract_id"],
                member_id=contract["member_id"], branch=contract["branch"],
                client=contract["client"]["name"], client_kind=contract["client"]["kind"],
                amount_excl_vat=_dec(contract["amount_excl_vat"]),
                expenses=_dec(contract["expenses"]),
                work_days=[date.fromisoformat(d) for d in contract["work_days"]],
                status=contract["status"], guarantee=guarantee.get("status", "?")))
            invoice = await self.invoice(plan.key)
            s.invoices.append(InvoiceRow(
                key=plan.key, invoice_id=invoice["invoice_id"], number=invoice["number"],
                branch=invoice["branch"], issue_date=date.fromisoformat(invoice["issue_date"]),
                due_date=date.fromisoformat(invoice["due_date"]),
                amount_excl_vat=Decimal(invoice["amount_excl_vat"]),
                vat_rate=Decimal(invoice["vat_rate"]), vat_amount=Decimal(invoice["vat_amount"]),
                total=Decimal(invoice["total"]), reverse_charge=invoice["reverse_charge"],
                structured_reference=invoice.get("structured_reference"),
                paid=Decimal(invoice["paid"]), credited=Decimal(invoice["credited"]),
                balance_due=Decimal(invoice["balance_due"]), status=invoice["status"],
                credit_notes=[c["number"] for c in invoice.get("credit_notes", [])]))
            salary = await self.salary_of(plan.key)
            if salary is not None:
                b = salary["breakdown"]
                s.salaries.append(SalaryRow(
                    key=plan.key, salary_id=salary["salary_id"],
                    contract_id=salary["contract_id"], member_id=salary["member_id"],
                    branch=salary["branch"], guaranteed=salary["guaranteed"],
                    pay_date=date.fromisoformat(salary["pay_date"]), gross=_dec(b["gross"]),
                    net=_dec(b["net"]), paid=_dec(b["paid"]), status=salary["status"],
                    breakdown=b))
        for branch in ("BE", "FR"):
            s.fund[branch] = await self.api.get("fund", "/v1/fund", self.staff(branch),
                                                branch=branch)
            s.fund_check[branch] = await self.api.get("fund", "/v1/fund/check",
                                                      self.staff(branch), branch=branch)
            if not s.fund_check[branch].get("ok"):
                self.problem(f"fund ledger check {branch}: {s.fund_check[branch]}")
        s.trace_contract_id = self.contracts[TRACE_CONTRACT]["contract_id"]
        s.finished_on = await platform_today(self.platform)
        self.step("summary gathered: fund position and ledger check, collection cases")
