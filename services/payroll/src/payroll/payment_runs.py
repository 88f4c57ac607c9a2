"""Payment runs: gather due salaries into one SEPA file, then confirm them paid."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from prometheus_client import Counter
from pymongo import ReturnDocument, UpdateOne
from smart_shared.events import SalaryPaid
from smart_shared.ids import new_id
from smart_shared.mail import send_mail
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.problems import Problem, invalid
from smart_shared.rulepacks import UnknownRulePack
from smart_shared.settings import Settings
from smart_shared.telemetry import start_linked_trace

from payroll.domain import (
    PAYMENT_RUN_HORIZON,
    NotSepaSafe,
    salary_rules,
    sepa_amount,
    sepa_iban,
    sepa_name,
)
from payroll.mails import salary_paid_mail
from payroll.payment_file import Transfer, credit_transfer_file, debtor_account, file_identifiers
from payroll.store import MEMBERS, PAYMENT_RUNS, SALARIES

EXCLUDED = Counter(
    "smart_payroll_salaries_excluded_total",
    "Due salaries left out of a payment run (or of one that could not open) because their payout "
    "details cannot go into a SEPA file; they stay due",
    ["branch", "reason"],
)


def _payee(salary: Document, member: Document | None) -> tuple[str, str]:
    """(IBAN, holder name as the SEPA file spells it), or ``NotSepaSafe`` saying why the salary
    cannot be paid by transfer yet."""
    payout = (member or {}).get("payout")
    if not payout:
        if member and member.get("erased"):
            raise NotSepaSafe("erased_member", "the member was erased; the cooperative needs new "
                              "payout details to pay them")
        raise NotSepaSafe("no_payout_details", "no payout details are known for the member")
    sepa_amount(Decimal(salary["breakdown"]["paid"]["amount"]))
    iban = sepa_iban(payout.get("iban"))
    rejection = salary.get("rejection") or {}
    if rejection.get("account_unusable") and rejection.get("iban") == iban:
        raise NotSepaSafe("rejected_by_bank", f"the bank rejected the transfer to this account "
                          f"({rejection['code']}: {rejection['reason']}); the member must give "
                          "other payout details")
    return iban, sepa_name(payout.get("holder_name"))


def count_excluded(branch: str, excluded: list[dict[str, str]]) -> None:
    """Count the salaries a committed (or refused) run left out, by reason, on ``/metrics``."""
    for exclusion in excluded:
        EXCLUDED.labels(branch, exclusion["code"]).inc()


def _check_pay_date(branch: str, pay_date: date, today: date) -> None:
    latest = today + PAYMENT_RUN_HORIZON
    if pay_date > latest:
        raise invalid("pay_date", f"must be on or before {latest.isoformat()}: the bank executes "
                      f"a run on its date, at most {PAYMENT_RUN_HORIZON.days} days ahead")
    try:
        salary_rules(branch, pay_date)
    except UnknownRulePack:
        raise invalid("pay_date", f"is before the first payroll rules of branch {branch}: no "
                      "salary can be due by then") from None


async def open_payment_run(
    uow: UnitOfWork, branch: str, pay_date: date, opened_by: str, settings: Settings
) -> Document:
    """Claim every due salary of ``branch`` payable on or before ``pay_date`` into a new run
    (conditional updates in this transaction: a salary is never in two runs) and build its
    pain.001 file. A salary whose payout details a SEPA file cannot carry (see ``domain.sepa``)
    stays due and is listed as excluded, with the reason; every other one is paid. A 409 when
    nothing can be paid lists the excluded ones too."""
    _check_pay_date(branch, pay_date, uow.clock.today())
    run_id = new_id()
    due = await uow.db[SALARIES].find(
        {"branch": branch, "status": "due", "pay_date": {"$lte": pay_date.isoformat()}},
        session=uow.session,
    ).sort("_id", 1).to_list(None)
    member_ids = list({salary["member_id"] for salary in due})
    members = {
        member["_id"]: member
        async for member in uow.db[MEMBERS].find({"_id": {"$in": member_ids}},
                                                 session=uow.session)
    } if due else {}
    payable: list[tuple[Document, tuple[str, str]]] = []
    excluded: list[dict[str, str]] = []
    for salary in due:
        try:
            payable.append((salary, _payee(salary, members.get(salary["member_id"]))))
        except NotSepaSafe as unpayable:
            excluded.append({"salary_id": salary["_id"], "member_id": salary["member_id"],
                             "code": unpayable.code, "reason": unpayable.reason})
    claimed = await _claim(uow, [salary["_id"] for salary, _ in payable], run_id)
    items: list[dict[str, Any]] = []
    for salary, (iban, holder) in payable:
        if salary["_id"] not in claimed:
            continue
        items.append({
            "salary_id": salary["_id"],
            "contract_id": salary["contract_id"],
            "member_id": salary["member_id"],
            "amount": salary["breakdown"]["paid"],
            "iban": iban,
            "holder_name": holder,
            "end_to_end_id": salary["_id"].replace("-", ""),
        })
    if not items:
        raise Problem(409, "Nothing to pay",
                      f"No due salary of branch {branch} with a pay date on or before "
                      f"{pay_date.isoformat()} can be paid by transfer", "conflict",
                      excluded=excluded)
    today = uow.clock.today()
    execution_date = max(pay_date, today)
    payer = salary_rules(branch, execution_date).payroll.payer
    transfers = [
        Transfer(item["end_to_end_id"], item["holder_name"], item["iban"],
                 Decimal(item["amount"]["amount"]), f"SMart salary {item['contract_id']}")
        for item in items
    ]
    total = sum((Money.model_validate(item["amount"]) for item in items), Money.zero())
    debtor = debtor_account(settings, branch, payer)
    pain001 = credit_transfer_file(payer, debtor, execution_date, transfers)
    message_id, payment_blocks = file_identifiers(pain001)
    run: dict[str, Any] = {
        "_id": run_id,
        "branch": branch,
        "pay_date": pay_date.isoformat(),
        "execution_date": execution_date.isoformat(),
        "status": "open",
        "items": items,
        "excluded": excluded,
        "count": len(items),
        "total": total.model_dump(mode="json"),
        "opened_by": opened_by,
        "opened_at": uow.clock.now(),
        "confirmed_at": None,
        "pain001": pain001.decode(),
        "message_id": message_id,
        "payment_blocks": payment_blocks,
    }
    await uow.db[PAYMENT_RUNS].insert_one(run, session=uow.session)
    return run


async def _claim(uow: UnitOfWork, salary_ids: list[str], run_id: str) -> set[str]:
    """Move the salaries still due into the run (one conditional update for them all); the ids of
    those it moved."""
    if not salary_ids:
        return set()
    claimed = await uow.db[SALARIES].update_many(
        {"_id": {"$in": salary_ids}, "status": "due"},
        {"$set": {"status": "in_run", "payment_run_id": run_id}},
        session=uow.session,
    )
    if claimed.modified_count == len(salary_ids):
        return set(salary_ids)
    # some were no longer due (they were read in this transaction, so a concurrent change would
    # rather have failed it with a write conflict): keep the ones moved into this run
    moved = uow.db[SALARIES].find({"_id": {"$in": salary_ids}, "payment_run_id": run_id},
                                  {"_id": 1}, session=uow.session)
    return {doc["_id"] async for doc in moved}


async def confirm_payment_run(uow: UnitOfWork, run: Document) -> Document:
    """The bank executed the run: each salary in it is paid (``SalaryPaid``) exactly once.
    Confirming a confirmed run changes nothing."""
    confirmed = await uow.db[PAYMENT_RUNS].find_one_and_update(
        {"_id": run["_id"], "status": "open"},
        {"$set": {"status": "confirmed", "confirmed_at": uow.clock.now()}},
        session=uow.session, return_document=ReturnDocument.AFTER,
    )
    if confirmed is None:
        current = await uow.db[PAYMENT_RUNS].find_one({"_id": run["_id"]}, session=uow.session)
        return current or run
    await pay_salaries_in_run(uow, confirmed, confirmed["items"])
    return confirmed


def next_salary_event(uow: UnitOfWork, salary: Document) -> dict[str, Any]:
    """What every event about ``salary`` carries, for the version this change gives it."""
    return {"branch": salary["branch"], "version": salary["version"] + 1,
            "occurred_at": uow.clock.now(), "salary_id": salary["_id"],
            "contract_id": salary["contract_id"], "member_id": salary["member_id"]}


async def pay_salaries_in_run(uow: UnitOfWork, run: Document, items: list[Document]) -> list[str]:
    """Each salary of ``items`` still in ``run`` is paid: ``SalaryPaid`` and the member's mail,
    once (a salary already paid, or back to due, is left as it is). The ids paid."""
    paid_on = uow.clock.today()
    in_run = {"status": "in_run", "payment_run_id": run["_id"]}
    salaries = {
        salary["_id"]: salary
        async for salary in uow.db[SALARIES].find(
            {"_id": {"$in": [item["salary_id"] for item in items]}, **in_run},
            session=uow.session,
        )
    } if items else {}
    payments = [item for item in items if item["salary_id"] in salaries]
    if payments:
        # one command for the whole run; the salaries were read in this transaction, so each
        # update finds its salary still in the run (a concurrent change fails the transaction)
        paid = await uow.db[SALARIES].bulk_write([
            UpdateOne({"_id": item["salary_id"], **in_run},
                      {"$set": {"status": "paid", "paid_on": paid_on.isoformat(),
                                "end_to_end_id": item["end_to_end_id"]},
                       "$inc": {"version": 1}})
            for item in payments
        ], ordered=True, session=uow.session)
        if paid.modified_count != len(payments):
            raise RuntimeError(f"payment run {run['_id']} changed while it was confirmed")
    members = await member_contacts(uow, [salaries[item["salary_id"]] for item in payments])
    # the run is a trace of its own; each salary's payment in it is linked to its contract's
    with start_linked_trace("payment run", attributes={"smart.payment_run_id": run["_id"]}):
        for item in payments:
            salary = salaries[item["salary_id"]]
            with start_linked_trace("salary paid", salary.get("traceparent"), own_trace=False,
                                    attributes={"smart.salary_id": salary["_id"]}):
                mail = salary_paid_mail(salary, members.get(salary["member_id"]), item["amount"],
                                        paid_on)
                if mail:
                    send_mail(uow, mail)
                uow.publish(SalaryPaid(
                    **next_salary_event(uow, salary),
                    amount=Money.model_validate(item["amount"]),
                    paid_on=paid_on,
                    payment_run_id=run["_id"],
                    end_to_end_id=item["end_to_end_id"],
                ))
    return [item["salary_id"] for item in payments]


async def member_contacts(uow: UnitOfWork, salaries: list[Document]) -> dict[str, Document]:
    if not salaries:
        return {}
    return {doc["_id"]: doc async for doc in uow.db[MEMBERS].find(
        {"_id": {"$in": [salary["member_id"] for salary in salaries]}},
        {"contact": 1}, session=uow.session)}
