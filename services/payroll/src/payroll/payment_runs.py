"""Payment runs: gather due salaries into one SEPA file, then confirm them paid; the runs the
scheduler opens by itself tell the staff their file is ready."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from prometheus_client import Counter
from smart_shared.events import SalaryPaid
from smart_shared.ids import new_id
from smart_shared.mail import send_mail
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.problems import Problem, invalid, not_found
from smart_shared.rulepacks import UnknownRulePack
from smart_shared.settings import Settings
from smart_shared.telemetry import start_linked_trace

from payroll import store
from payroll.domain import (
    PAYMENT_RUN_HORIZON,
    NotSepaSafe,
    salary_rules,
    sepa_amount,
    sepa_iban,
    sepa_name,
)
from payroll.mails import payment_run_ready_mail, salary_paid_mail
from payroll.payment_file import Transfer, credit_transfer_file, debtor_account, file_identifiers

SCHEDULER = "scheduler"
"""``opened_by`` of a run the scheduler opened (staff runs carry the staff member's id)."""

EXCLUDED = Counter(
    "smart_payroll_salaries_excluded_total",
    "Due salaries left out of a payment run (or of one that could not open) because their payout "
    "details cannot go into a SEPA file; they stay due",
    ["branch", "reason"],
)


@dataclass(frozen=True)
class OpenPaymentRun:
    """Staff (or the scheduler) ask for the run of every due salary of ``branch`` payable on or
    before ``pay_date``, paid from the salary account the deployment configures."""

    branch: str
    pay_date: date
    opened_by: str
    deployment: Settings


@dataclass(frozen=True)
class ConfirmPaymentRun:
    """Staff say the bank executed the run."""

    branch: str
    run_id: str


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


async def open_payment_run(uow: UnitOfWork, command: OpenPaymentRun) -> Document:
    """Claim every due salary of the branch payable on or before the pay date into a new run
    (conditional updates in this transaction: a salary is never in two runs) and build its
    pain.001 file. A salary whose payout details a SEPA file cannot carry (see ``domain.sepa``)
    stays due and is listed as excluded, with the reason; every other one is paid. A 409 when
    nothing can be paid lists the excluded ones too."""
    branch, pay_date = command.branch, command.pay_date
    _check_pay_date(branch, pay_date, uow.clock.today())
    run_id = new_id()
    due = await store.due_salaries(uow, branch, pay_date)
    members = await store.members_of(uow, (salary["member_id"] for salary in due))
    payable: list[tuple[Document, tuple[str, str]]] = []
    excluded: list[dict[str, str]] = []
    for salary in due:
        try:
            payable.append((salary, _payee(salary, members.get(salary["member_id"]))))
        except NotSepaSafe as unpayable:
            excluded.append({"salary_id": salary["_id"], "member_id": salary["member_id"],
                             "code": unpayable.code, "reason": unpayable.reason})
    claimed = await store.claim_salaries(uow, [salary["_id"] for salary, _ in payable], run_id)
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
    debtor = debtor_account(command.deployment, branch, payer)
    pain001 = credit_transfer_file(payer, debtor, execution_date, transfers)
    message_id, payment_blocks = file_identifiers(pain001)
    run = store.payment_run_of(run_id, branch, pay_date, execution_date, items, excluded,
                               total.model_dump(mode="json"), command.opened_by,
                               uow.clock.now(), pain001, message_id, payment_blocks)
    await store.insert_payment_run(uow, run)
    return run


async def open_scheduled_run(uow: UnitOfWork, command: OpenPaymentRun) -> Document:
    """The run the scheduler opens the working day before a pay date; the branch's staff are
    told its file is ready for the bank."""
    run = await open_payment_run(uow, command)
    mail = payment_run_ready_mail(run, command.deployment.staff_mailbox, uow.clock.today())
    if mail:
        send_mail(uow, mail)
    return run


async def confirm_payment_run(uow: UnitOfWork, command: ConfirmPaymentRun) -> Document:
    """The bank executed the run: each salary in it is paid (``SalaryPaid``) exactly once.
    Confirming a confirmed run changes nothing."""
    confirmed = await store.confirm_open_run(uow, command.branch, command.run_id, uow.clock.now())
    if confirmed is None:
        current = await store.payment_run(uow, command.run_id)
        if current is None or current["branch"] != command.branch:
            raise not_found("Payment run", command.run_id)
        return current
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
    salaries = await store.salaries_in_run(uow, run["_id"],
                                           [item["salary_id"] for item in items])
    payments = [item for item in items if item["salary_id"] in salaries]
    # one command for the whole run
    await store.mark_paid(uow, run["_id"],
                          [(item["salary_id"], item["end_to_end_id"]) for item in payments],
                          paid_on)
    members = await store.members_of(
        uow, (salaries[item["salary_id"]]["member_id"] for item in payments), contact_only=True)
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
