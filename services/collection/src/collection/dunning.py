"""Use cases of a dunning case: open it, take the schedule's steps, follow payments, pause it
with a payment plan, write it off, record a posted letter, note a client's wish for a plan.
Each runs inside the caller's unit of work and takes it with one event or command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from smart_shared.auth import Principal, visible_or_404
from smart_shared.codec import stored_amount, stored_day
from smart_shared.events.catalogue import (
    DebtOverdue,
    DebtRecovered,
    DebtWrittenOff,
    Language,
    ReminderSent,
)
from smart_shared.ids import new_id
from smart_shared.mail import send_mail
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.problems import Problem, conflict, invalid, not_found
from smart_shared.telemetry import current_traceparent, start_linked_trace

from collection import store
from collection.domain import (
    CaseState,
    Claim,
    CreditorFacts,
    DebtorRules,
    Instalment,
    LetterFacts,
    MayFollow,
    TakenStep,
    book_xix_damages,
    claim_at,
    collection_rules,
    compose_letter,
    creditor,
    first_unkept,
    missed_instalment,
    pay_by,
    plan_errors,
    planned_step,
    rate_on,
    step_due,
)
from collection.domain.rules import Channel
from collection.mails import letter_mail
from collection.store import (
    ACTIVE,
    InvoiceFacts,
    balance_changes,
    case_state,
    claim_document,
    instalments,
    last_claim,
    timeline_entry,
)

BalanceKind = Literal["payment", "credit_note", "paid"]


@dataclass(frozen=True)
class BalanceFact:
    """What billing told us: after this event (``version``) the invoice's balance is ``balance``."""

    invoice_id: str
    branch: str
    version: int
    on: date
    balance: Decimal
    kind: BalanceKind
    credit: Decimal | None = None
    detail: str | None = None


def rules_for(doc: Document) -> DebtorRules:
    rules = collection_rules(doc["branch"], stored_day(doc["opened_on"]))
    return rules.for_debtor(doc["client"]["kind"])


def next_step_on(state: CaseState, rules: DebtorRules) -> str | None:
    planned = planned_step(state, rules)
    return planned.on.isoformat() if planned else None


def money(value: Decimal, doc: Document) -> Money:
    return Money(amount=value, currency=doc["currency"])


# ------------------------------------------------------------------------------------ opening


def paid_since(opening: Decimal, changes: list[Document]) -> Decimal:
    """How much of ``opening`` payments (not credit notes) took away, change after change."""
    paid, balance = Decimal(0), opening
    for change in changes:
        new = Decimal(change["balance"])
        if change["kind"] != "credit_note":
            paid += max(balance - new, Decimal(0))
        balance = new
    return paid


async def open_case(uow: UnitOfWork, event: DebtOverdue) -> None:
    """Open the dunning case of an overdue invoice, once, unless it was paid in the meantime."""
    known = uow.staged(InvoiceFacts)
    if await known.case(uow, event.invoice_id):
        return
    facts = await known.invoice(uow, event.invoice_id) or {}
    if facts.get("paid"):
        return
    later = [c for c in facts.get("changes", []) if c["version"] > event.version]
    balance = Decimal(later[-1]["balance"]) if later else event.outstanding.amount
    if balance <= 0:
        return
    today = uow.clock.today()
    doc: Document = {
        "_id": new_id(),
        "invoice_id": event.invoice_id,
        "contract_id": event.contract_id,
        "member_id": event.member_id,
        "branch": event.branch,
        "currency": event.outstanding.currency,
        "invoice_number": event.number,
        "issue_date": event.issue_date.isoformat(),
        "due_date": event.due_date.isoformat(),
        "total": str(event.total.amount),
        "client": {
            "name": event.client.name,
            "kind": event.client.kind,
            "language": event.client.language,
            "client_key": event.client.client_key,
            "email": event.client.email,  # where the letters are mailed
            "address": ", ".join((event.client.address.street, " ".join(
                (event.client.address.postal_code, event.client.address.city)),
                event.client.address.country)),  # where they are posted without an e-mail
        },
        "description": event.description,
        "principal": str(event.outstanding.amount),
        "balance": str(balance),
        "billing_version": max([event.version, *(c["version"] for c in later)]),
        "balance_changes": [
            {k: c[k] for k in ("version", "on", "balance", "kind")} for c in later
        ],
        "credit": later[-1].get("credit") if later else None,
        "recovered_principal": str(paid_since(event.outstanding.amount, later)),
        "status": "open",
        "level": None,
        "steps": [],
        "last_claim": None,
        "plan": None,
        "version": 0,
        "traceparent": current_traceparent(),
        "opened_on": today.isoformat(),
        "closed_on": None,
        "timeline": [timeline_entry(uow, "opened", detail=(
            f"Invoice {event.number} overdue since {event.due_date.isoformat()}: "
            f"{balance} {event.outstanding.currency} outstanding"))],
    }
    doc["next_step_on"] = next_step_on(case_state(doc), rules_for(doc))
    await store.insert_case(uow, doc)
    known.case_written(doc)


# ------------------------------------------------------------------------------- the schedule


async def take_due_step(uow: UnitOfWork, case_id: str) -> int:
    """Take the schedule's step due today for an open case; 1 if a step was taken."""
    doc = await store.find_case(uow, case_id, status="open")
    if doc is None:
        return 0
    today = uow.clock.today()
    rules = rules_for(doc)
    state = case_state(doc)
    level = step_due(state, today, rules)
    if level is None:
        planned = next_step_on(state, rules)
        if planned != doc.get("next_step_on"):
            await store.set_case_fields(uow, case_id, {"next_step_on": planned})
        return 0
    claim = claim_at(state, level, today, stored_amount(doc["principal"]), balance_changes(doc),
                     rules)
    # French in France whatever the client's language, like every document of the branch
    language: Language = "fr" if doc["branch"] == "FR" else doc["client"]["language"]
    channel: Channel = "email" if doc["client"].get("email") else "post"
    letter = compose_letter(level, language, letter_facts(doc, level, claim, today, channel,
                                                          rules))
    text = letter.text()
    after = CaseState(state.branch, state.kind, state.due_date,
                      (*state.steps, TakenStep(level, today, channel)))
    version = doc["version"] + 1
    changes: Document = {
        "level": level,
        "last_claim": claim_document(claim),
        "next_step_on": next_step_on(after, rules),
        "version": version,
    }
    entries = [timeline_entry(uow, "reminder_sent", level=level, language=language, text=text,
                              amounts=claim_document(claim), channel=channel,
                              letter=letter.to_document(),
                              pay_by=letter_deadline(level, today, channel, rules),
                              posting="to_be_posted" if channel == "post" else None)]
    # each reminder starts a trace of its own, linked to the contract's (kept on the case)
    with start_linked_trace("collection step", doc.get("traceparent"),
                            attributes={"smart.case_id": case_id, "smart.level": level}):
        uow.publish(ReminderSent(
            branch=doc["branch"], version=version, occurred_at=uow.clock.now(),
            invoice_id=doc["invoice_id"], contract_id=doc["contract_id"], case_id=case_id,
            level=level, outstanding=money(claim.outstanding, doc),
            interest=money(claim.interest, doc), compensation=money(claim.compensation, doc),
            total_claimed=money(claim.total, doc), language=language, sent_on=today,
        ))
        if channel == "email":
            send_mail(uow, letter_mail(doc, level, money(claim.total, doc),
                                       pay_by(level, today, channel, rules)))
        if level == "write_off_proposed":
            reason = (f"Automatic write-off {rules.schedule.day_of(level)} days after the due "
                      f"date: collection failed")
            version += 1
            uow.publish(written_off_event(uow, doc, version, reason))
            changes.update(status="written_off", next_step_on=None, version=version,
                           closed_on=today.isoformat())
            entries.append(timeline_entry(uow, "written_off", detail=reason,
                                          amounts={"principal": doc["balance"]}))
    step = {"level": level, "on": today.isoformat(), "channel": channel}
    if not await store.record_step(uow, doc, changes, step, entries):
        raise RuntimeError(f"case {case_id} changed while its step was taken")
    return 1


def letter_deadline(level: Any, sent_on: date, channel: Channel,
                    rules: DebtorRules) -> str | None:
    deadline = pay_by(level, sent_on, channel, rules)
    return deadline.isoformat() if deadline else None


def letter_facts(doc: Document, level: Any, claim: Claim, today: date, channel: Channel,
                 rules: DebtorRules) -> LetterFacts:
    """What the letter of ``level`` sent today says: the creditor, the debt, the amounts, the
    deadline and what may be claimed after it."""
    company = creditor(doc["branch"], today)
    seller, legal = company.seller, company.legal
    deadline = pay_by(level, today, channel, rules)
    may_follow = None
    if deadline is not None and not rules.claims_costs_at(level):
        compensation = Decimal("0.00")
        if rules.fixed_compensation is not None:
            compensation = rules.fixed_compensation.value
        elif rules.damages is not None:
            compensation = book_xix_damages(claim.outstanding, rules.damages)
        may_follow = MayFollow(compensation, rate_on(deadline, rules.interest_rates))
    client = doc["client"]
    return LetterFacts(
        client_name=client["name"], invoice_number=doc["invoice_number"],
        due_date=stored_day(doc["due_date"]), claim=claim, branch=doc["branch"],
        kind=client["kind"],
        issue_date=stored_day(doc["issue_date"]) if doc.get("issue_date") else None,
        description=doc.get("description"), sent_on=today, pay_by=deadline,
        client_address=client.get("address"),
        creditor=CreditorFacts(
            name=seller.name.value, legal_form=legal.legal_form.value,
            address=(f"{seller.street.value}, {seller.postal_code.value} {seller.city.value}, "
                     f"{seller.country.value}"),
            enterprise_number=legal.enterprise_number.value, registry=legal.registry.value,
            iban=seller.iban.value, city=seller.city.value),
        may_follow=may_follow,
        free=level == "reminder_1" and bool(rules.term_starts),
    )


def written_off_event(uow: UnitOfWork, doc: Document, version: int, reason: str) -> DebtWrittenOff:
    return DebtWrittenOff(
        branch=doc["branch"], version=version, occurred_at=uow.clock.now(),
        invoice_id=doc["invoice_id"], contract_id=doc["contract_id"], case_id=doc["_id"],
        member_id=doc["member_id"], amount=money(stored_amount(doc["balance"]), doc), reason=reason,
        written_off_on=uow.clock.today(),
    )


# ----------------------------------------------------------------------------------- payments


async def record_balance(uow: UnitOfWork, fact: BalanceFact) -> None:
    """Remember billing's balance for the invoice and apply it to its active case, if any.

    The invoice's facts are written with the unit of work's other invoices, before it commits.
    """
    known = uow.staged(InvoiceFacts)
    facts = await known.invoice(uow, fact.invoice_id)
    facts = facts or {"_id": fact.invoice_id, "branch": fact.branch, "changes": [], "paid": False}
    if any(c["version"] == fact.version for c in facts["changes"]):
        return
    change = {"version": fact.version, "on": fact.on.isoformat(), "balance": str(fact.balance),
              "kind": fact.kind, "credit": None if fact.credit is None else str(fact.credit)}
    facts = {**facts, "changes": sorted([*facts["changes"], change], key=lambda c: c["version"])}
    if fact.kind == "paid" or (fact.balance == 0 and fact.kind == "payment"):
        facts["paid"] = True
    known.change_invoice(facts)
    doc = await known.case(uow, fact.invoice_id)
    if doc is None or doc["status"] not in ACTIVE or fact.version <= doc["billing_version"]:
        return
    known.case_written(await apply_to_case(uow, doc, fact))


async def apply_to_case(uow: UnitOfWork, doc: Document, fact: BalanceFact) -> Document:
    """Apply billing's balance to the case; the case as written."""
    previous = stored_amount(doc["balance"])
    balance = max(fact.balance, Decimal(0))
    recovered = stored_amount(doc["recovered_principal"])
    if fact.kind != "credit_note":
        recovered += max(previous - balance, Decimal(0))
    sets: Document = {"balance": str(balance), "billing_version": fact.version,
                      "recovered_principal": str(recovered)}
    if fact.credit is not None:
        sets["credit"] = str(fact.credit)
    label = {"payment": "payment_received", "credit_note": "credit_note",
             "paid": "invoice_paid"}[fact.kind]
    entries = [timeline_entry(uow, label, detail=fact.detail,
                              amounts={"balance": str(balance)})]
    if balance == 0:
        today = uow.clock.today()
        sets.update(next_step_on=None, closed_on=today.isoformat())
        if fact.kind == "credit_note":
            sets["status"] = "credited"
            entries.append(timeline_entry(uow, "closed", detail="Credited in full: nothing due"))
        else:
            sets["status"] = "recovered"
            credit = fact.credit if fact.credit is not None else stored_amount(doc.get("credit"))
            claim = last_claim(doc)
            beyond = min(credit, claim.beyond_principal) if claim else Decimal("0.00")
            sets["version"] = doc["version"] + 1
            uow.publish(DebtRecovered(
                branch=doc["branch"], version=sets["version"], occurred_at=uow.clock.now(),
                invoice_id=doc["invoice_id"], contract_id=doc["contract_id"], case_id=doc["_id"],
                principal=money(recovered, doc), beyond_principal=money(beyond, doc),
                closed_on=today,
            ))
            entries.append(timeline_entry(uow, "recovered", amounts={
                "principal": str(recovered), "beyond_principal": str(beyond)}))
    change = {"version": fact.version, "on": fact.on.isoformat(), "balance": str(balance),
              "kind": fact.kind}
    await store.record_balance_change(uow, doc["_id"], sets, change, entries)
    return {**doc, **sets, "balance_changes": [*doc.get("balance_changes", []), change],
            "timeline": [*doc.get("timeline", []), *entries]}


# ---------------------------------------------------------------------- plans and write-offs


def require_active(doc: Document) -> None:
    if doc["status"] not in ACTIVE:
        raise conflict("Case closed", f"The case is {doc['status']}; nothing more can be done")


@dataclass(frozen=True)
class ForCase:
    """A command of staff about one case, which they must be able to see."""

    principal: Principal
    case_id: str


@dataclass(frozen=True)
class AgreePlan(ForCase):
    plan: list[Instalment]
    currencies: frozenset[str]


@dataclass(frozen=True)
class WriteOff(ForCase):
    reason: str


@dataclass(frozen=True)
class RecordPosting(ForCase):
    level: str


@dataclass(frozen=True)
class AskForPlan:
    """A client's wish for a payment plan, from the link of their invoice."""

    invoice_id: str
    instalments: int
    message: str | None


async def case_in_reach(uow: UnitOfWork, command: ForCase) -> Document:
    """The case, if the caller may see it (else the 404 of an unknown case)."""
    return visible_or_404(command.principal, await store.find_case(uow, command.case_id),
                          "Case", command.case_id)


async def agree_payment_plan(uow: UnitOfWork, command: AgreePlan) -> Document:
    """Pause the schedule while the client pays by instalments; the case as it now is."""
    doc = await case_in_reach(uow, command)
    if command.currencies != {doc["currency"]}:
        raise invalid("instalments", f"amounts must be in {doc['currency']}")
    plan = command.plan
    errors = plan_errors(plan, stored_amount(doc["balance"]), uow.clock.today())
    if errors:
        detail = "; ".join(f"{field}: {message}" for field, message in errors)
        raise Problem(400, "Invalid payment plan", detail, "validation",
                      errors=[{"field": f, "message": m} for f, m in errors])
    require_active(doc)
    stored = {
        "instalments": [{"due_on": i.due_on.isoformat(), "amount": str(i.amount)} for i in plan],
        "opening_balance": doc["balance"],
        "agreed_on": uow.clock.today().isoformat(),
        "status": "running",
        "check_on": (plan[0].due_on + timedelta(days=1)).isoformat(),
    }
    await store.pause_for_plan(uow, doc["_id"], stored, timeline_entry(
        uow, "payment_plan", detail=(
            f"{len(plan)} instalments agreed, last on {plan[-1].due_on.isoformat()}"),
        amounts={"total": doc["balance"]}))
    return await case_in_reach(uow, command)


async def check_plan(uow: UnitOfWork, case_id: str) -> int:
    """Resume the schedule when an instalment was missed; 1 if it was resumed."""
    doc = await store.find_case(uow, case_id, status="paused")
    if doc is None or not doc.get("plan"):
        return 0
    plan = instalments(doc)
    paid = stored_amount(doc["plan"]["opening_balance"]) - stored_amount(doc["balance"])
    today = uow.clock.today()
    missed = missed_instalment(plan, paid, today)
    if missed is None:
        unkept = first_unkept(plan, paid)
        check_on = (unkept.due_on + timedelta(days=1)).isoformat() if unkept else None
        await store.set_case_fields(uow, case_id, {"plan.check_on": check_on})
        return 0
    resumed = CaseState(doc["branch"], doc["client"]["kind"], stored_day(doc["due_date"]),
                        case_state(doc).steps)
    await store.resume_after_missed_plan(
        uow, case_id, next_step_on(resumed, rules_for(doc)),
        timeline_entry(uow, "payment_plan_missed", detail=(
            f"Instalment of {missed.amount} due on {missed.due_on.isoformat()} not paid "
            f"(paid {paid} since the plan began): the schedule resumes")))
    return 1


async def write_debt_off(uow: UnitOfWork, command: WriteOff) -> Document:
    """Abandon the debt: the fund absorbs the loss and billing credits the invoice; the case as
    it now is."""
    doc = await case_in_reach(uow, command)
    reason, by = command.reason, command.principal.sub
    require_active(doc)
    version = doc["version"] + 1
    uow.publish(written_off_event(uow, doc, version, reason))
    await store.close_written_off(uow, doc, version, uow.clock.today(), timeline_entry(
        uow, "written_off", detail=f"{reason} (by {by})", amounts={"principal": doc["balance"]}))
    return await case_in_reach(uow, command)


async def record_posting(uow: UnitOfWork, command: RecordPosting) -> Document:
    """Record that staff posted the letter of ``level`` to a client without an e-mail address;
    the case as it now is."""
    doc = await case_in_reach(uow, command)
    level, by = command.level, command.principal.sub
    index = next((i for i, e in enumerate(doc.get("timeline", []))
                  if e.get("kind") == "reminder_sent" and e.get("level") == level), None)
    if index is None:
        raise not_found("Letter", f"{doc['_id']}/{level}")
    entry = doc["timeline"][index]
    if entry.get("posting") != "to_be_posted":
        raise conflict("Letter not to be posted",
                       f"The {level} letter was {'posted' if entry.get('posting') else 'e-mailed'}"
                       "; nothing to post")
    await store.mark_letter_posted(uow, doc["_id"], index, uow.clock.today(), timeline_entry(
        uow, "letter_posted", level=level, detail=f"Posted by {by}"))
    return await case_in_reach(uow, command)


async def ask_for_plan(uow: UnitOfWork, command: AskForPlan) -> str:
    """Note a client's wish for a payment plan on the invoice's open case, for staff to decide;
    the case's id."""
    entry = timeline_entry(uow, "plan_requested", detail=command.message,
                           amounts={"instalments": str(command.instalments)})
    case_id = await store.note_plan_request(uow, command.invoice_id, entry)
    if case_id is None:
        raise Problem(409, "No open case", "This invoice has no dunning case to plan payments "
                      "for", "no-open-case")
    return case_id
