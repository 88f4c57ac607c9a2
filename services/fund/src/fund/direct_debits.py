"""What payroll could not withhold, collected by SEPA direct debit: staff make a file of the
instalments still due the pack's number of days after their due date (pain.008, to the fund's
account, under each loan's mandate, from the member's payout account), download it for the bank,
then confirm it collected (``InstalmentPaid``, booked in the ledger) or report the debits the
banks returned (``DirectDebitReturned``: the instalment stays due).

While an instalment is in a file, payroll withholds none of it (``DirectDebitRequested``) and no
other file takes it, so the same euros are never asked twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from smart_shared.auth import Principal, visible_or_404
from smart_shared.codec import iso, stored_day
from smart_shared.events import DirectDebitRequested, DirectDebitReturned
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.problems import conflict, invalid
from smart_shared.rulepacks import UnknownRulePack
from smart_shared.sepa import Collection, Creditor, sepa_direct_debit_file

from fund import store
from fund.domain.rules import LendingRules, lending_rules
from fund.instalments import Repayment, book_repayment, loan_event_fields, plan_of


@dataclass(frozen=True)
class ReturnedDebit:
    """A debit of the file the member's bank returned, with its reason code if given."""

    loan_id: str
    number: int
    code: str | None = None


@dataclass(frozen=True)
class CollectInstalments:
    """Staff ask for the direct debit file of the branch's instalments left unpaid."""

    branch: str
    collection_date: date | None = None


@dataclass(frozen=True)
class ConfirmCollection:
    """Staff report what the bank collected: everything in the file but ``returned``."""

    principal: Principal
    collection_id: str
    returned: tuple[ReturnedDebit, ...] = ()


def rules_of(branch: str, day: date) -> LendingRules:
    try:
        return lending_rules(branch, day)
    except UnknownRulePack:
        raise conflict("The branch does not lend",
                       f"Branch {branch} has no lending rules on {day}") from None


def end_to_end_id(loan_id: str, number: int, attempt: int) -> str:
    """The debit's id as the bank reports it back (at most 35 characters)."""
    return f"{loan_id.replace('-', '')[:26]}-{number:03d}-{attempt}"


async def collect_instalments(uow: UnitOfWork, command: CollectInstalments) -> Document:
    """The file of every instalment of the branch's loans still due ``after_days`` after its
    due date and in no other file; each one ``DirectDebitRequested``."""
    today = uow.clock.today()
    rules = rules_of(command.branch, today)
    collection_date = command.collection_date or today + timedelta(days=1)
    if collection_date <= today:
        # SEPA Core: the file reaches the bank at least one business day before collection
        raise invalid("collection_date", "a direct debit is collected from tomorrow on")
    latest_due = today - timedelta(days=rules.direct_debit.after_days.value)
    collection_id = new_id()
    items: list[Document] = []
    debits: list[Collection] = []
    held: list[Document] = []
    for loan in await store.loans_being_repaid(uow, command.branch):
        schedule = [dict(entry) for entry in loan["schedule"]]
        wanted = [(entry, due) for entry, due in zip(schedule, plan_of(schedule), strict=True)
                  if entry.get("announced") and due.outstanding > 0 and due.due <= latest_due
                  and not entry.get("debiting")]
        if not loan.get("mandate_used"):
            # a mandate's first debit (FRST) goes alone; the others follow it as RCUR
            wanted = wanted[:1]
        if not wanted:
            continue
        payout = await store.member_payout(uow, loan["member_id"])
        if not loan.get("mandate_id") or payout is None:
            held.append({"loan_id": loan["_id"], "reason": "no mandate" if payout else
                         "no payout account known"})
            continue
        version = int(loan["version"])
        for entry, due in wanted:
            attempt = len(entry.get("debits", [])) + 1
            item = {"loan_id": loan["_id"], "member_id": loan["member_id"],
                    "number": due.number, "amount": str(due.outstanding),
                    "end_to_end_id": end_to_end_id(loan["_id"], due.number, attempt),
                    "mandate_id": loan["mandate_id"]}
            debits.append(Collection(
                item["end_to_end_id"], payout["holder_name"], payout["iban"], due.outstanding,
                f"SMart loan {loan['_id']} instalment {due.number}", loan["mandate_id"],
                stored_day(loan["mandate_signed_on"]),
                "RCUR" if loan.get("mandate_used") else "FRST"))
            items.append(item)
            entry["debiting"] = collection_id
            entry["debits"] = [*entry.get("debits", []), collection_id]
            version += 1
            uow.publish(DirectDebitRequested(
                **loan_event_fields(loan, version, uow), number=due.number,
                amount=Money.of(due.outstanding), collection_id=collection_id,
                end_to_end_id=item["end_to_end_id"], mandate_id=loan["mandate_id"],
                collection_date=collection_date))
        store.save_loan(uow, loan["_id"], {"schedule": schedule, "mandate_used": True,
                                           "version": version})
    if not items:
        raise conflict("No instalment to collect", "No instalment of branch "
                       f"{command.branch} is unpaid {rules.direct_debit.after_days.value} days "
                       "after its due date" + (
                           f": {'; '.join(h['reason'] for h in held)}" if held else ""))
    account = rules.account
    pain008 = sepa_direct_debit_file(
        Creditor(account.name.value, account.iban.value, account.bic.value,
                 rules.direct_debit.creditor_id.value), collection_date, debits)
    doc = {"branch": command.branch, "status": "sent", "created_on": iso(today),
           "collection_date": iso(collection_date), "items": items,
           "total": str(sum((Decimal(item["amount"]) for item in items), Decimal("0.00"))),
           "held_back": held, "pain008": pain008.decode()}
    store.save_direct_debit(uow, collection_id, doc)
    return {**doc, "_id": collection_id}


async def confirm_collection(uow: UnitOfWork, command: ConfirmCollection) -> Document:
    """Book every debit of the file the bank collected (``InstalmentPaid``); the returned ones
    stay due (``DirectDebitReturned``)."""
    doc = visible_or_404(command.principal,
                         await store.find_direct_debit(uow, command.collection_id),
                         "Direct debit file", command.collection_id)
    if doc["status"] != "sent":
        raise conflict("The direct debit file is confirmed already",
                       f"Direct debit file {command.collection_id} is {doc['status']}")
    in_file = {(item["loan_id"], int(item["number"])) for item in doc["items"]}
    codes: dict[tuple[str, int], str | None] = {}
    for index, returned in enumerate(command.returned):
        key = (returned.loan_id, returned.number)
        if key not in in_file:
            raise invalid(f"returned[{index}]", f"instalment {returned.number} of loan "
                          f"{returned.loan_id} is not in this file")
        codes[key] = returned.code
    today = uow.clock.today()
    items: list[Document] = []
    for item in doc["items"]:
        key = (item["loan_id"], int(item["number"]))
        loan = await store.find_loan(uow, item["loan_id"])
        assert loan is not None
        loan = {**loan, "_id": item["loan_id"]}
        schedule = [dict(entry) for entry in loan["schedule"]]
        schedule[key[1] - 1].pop("debiting", None)
        store.save_loan(uow, item["loan_id"], {"schedule": schedule})
        amount = Decimal(item["amount"])
        if key in codes:
            version = int(loan["version"]) + 1
            uow.publish(DirectDebitReturned(
                **loan_event_fields(loan, version, uow), number=key[1],
                amount=Money.of(amount), collection_id=command.collection_id, code=codes[key],
                returned_on=today))
            # missed while the bank had it: the scheduler weighs the default again today
            store.save_loan(uow, item["loan_id"], {"version": version, "next_check": iso(today)})
            items.append({**item, "outcome": "returned", "code": codes[key]})
            continue
        booked = await book_repayment(uow, Repayment(
            item["loan_id"], key[1], amount, cause=f"debit:{command.collection_id}",
            collection_id=command.collection_id))
        # what a salary took meanwhile was withheld too: the surplus is the member's, to refund
        items.append({**item, "outcome": "collected", "booked": str(booked),
                      "surplus": str(amount - booked) if booked < amount else None})
    changes = {"status": "confirmed", "confirmed_on": iso(today), "items": items}
    store.save_direct_debit(uow, command.collection_id, changes)
    return {**doc, **changes, "_id": command.collection_id}
