"""The bank's pain.002 payment status reports: accepted transfers pay their salaries, rejected
ones bring them back to due with the bank's reason, and tell the member and the staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smart_shared.events import SalaryPaymentRejected
from smart_shared.mail import send_mail
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.problems import invalid

from payroll import store
from payroll.domain.pain002 import StatusReason, StatusReport, outcome_of
from payroll.mails import payments_rejected_mail, salary_rejected_mail
from payroll.payment_runs import next_salary_event, pay_salaries_in_run

REFUSED = "Status report refused"
ORIGINAL_MESSAGE = "CstmrPmtStsRpt/OrgnlGrpInfAndSts/OrgnlMsgId"


@dataclass(frozen=True)
class ApplyStatusReport:
    """Staff import the bank's report on a payment file of their branch; the staff mailbox hears
    of the transfers it rejects."""

    branch: str
    report: StatusReport
    staff_mailbox: str | None


async def apply_status_report(uow: UnitOfWork, command: ApplyStatusReport) -> dict[str, Any]:
    """Apply the report to the run of the branch it names. Each salary changes at most once,
    however often the report is imported: only a salary still in the run is paid or returned.
    The run is confirmed once no transfer of it waits for the bank's word."""
    branch, report = command.branch, command.report
    run = await store.run_of_payment_file(uow, branch, report.original_message_id)
    if run is None:
        raise invalid(ORIGINAL_MESSAGE, f"no payment file of branch {branch} has the message id "
                      f"{report.original_message_id}", REFUSED)
    items = {item["end_to_end_id"]: item for item in run["items"]}
    decided: dict[str, tuple[str, StatusReason | None]] = {}
    for transaction in report.transactions:
        if transaction.end_to_end_id not in items:
            raise invalid(f"{transaction.where}/OrgnlEndToEndId",
                          f"{transaction.end_to_end_id} is not a transfer of payment run "
                          f"{run['_id']}", REFUSED)
        decided[transaction.end_to_end_id] = (transaction.status, transaction.reason)
    # a transfer the report does not name takes its block's status, else the group's
    blocks = set(run.get("payment_blocks", []))
    fallback = next(((status, reason) for block, status, reason in report.block_statuses
                     if block in blocks), None)
    if fallback is None and report.group_status is not None:
        fallback = (report.group_status, report.group_reason)
    if fallback is not None:
        for end_to_end in items:
            decided.setdefault(end_to_end, fallback)
    accepted = [items[e] for e, (status, _) in decided.items() if outcome_of(status) == "accepted"]
    rejected = [(items[e], reason) for e, (status, reason) in decided.items()
                if outcome_of(status) == "rejected"]
    paid = await pay_salaries_in_run(uow, run, accepted)
    returned = await _return_to_due(uow, run, report.message_id, rejected, command.staff_mailbox)
    waiting = await store.transfers_waiting(uow, run["_id"])
    await store.record_status_report(uow, run["_id"], report.message_id,
                                     None if waiting else uow.clock.now())
    return {"payment_run_id": run["_id"], "report_id": report.message_id,
            "version": report.version, "paid": paid, "rejected": returned,
            "waiting": waiting}


async def _return_to_due(uow: UnitOfWork, run: Document, report_id: str,
                         rejected: list[tuple[Document, StatusReason | None]],
                         staff_mailbox: str | None) -> list[dict[str, Any]]:
    """Each rejected salary still in the run is due again, the bank's reason kept on it; the
    member and the staff are told, and subscribers by ``SalaryPaymentRejected``."""
    if not rejected:
        return []
    salaries = await store.salaries_in_run(uow, run["_id"],
                                           [item["salary_id"] for item, _ in rejected])
    today = uow.clock.today()
    returned: list[dict[str, Any]] = []
    kept: dict[str, Document] = {}
    for item, reason in rejected:
        if item["salary_id"] not in salaries:
            continue
        rejection = store.rejection_document(
            run["_id"], item["end_to_end_id"], report_id, today, item["iban"],
            reason.code if reason else None,
            reason.text if reason else "the bank gave no reason",
            bool(reason and reason.account_unusable))
        kept[item["salary_id"]] = rejection
        returned.append({"salary_id": item["salary_id"], "member_id": item["member_id"],
                         "amount": item["amount"], **{k: rejection[k] for k in (
                             "code", "reason", "account_unusable")}})
    if not kept:
        return []
    await store.return_to_due(uow, run["_id"], kept)
    members = await store.members_of(uow, (salary["member_id"] for salary in salaries.values()),
                                     contact_only=True)
    for entry in returned:
        salary = salaries[entry["salary_id"]]
        rejection = kept[salary["_id"]]
        uow.publish(SalaryPaymentRejected(
            **next_salary_event(uow, salary),
            payment_run_id=run["_id"],
            end_to_end_id=rejection["end_to_end_id"],
            code=rejection["code"],
            reason=rejection["reason"],
            rejected_on=today,
        ))
        mail = salary_rejected_mail(salary, members.get(salary["member_id"]), rejection, today)
        if mail:
            send_mail(uow, mail)
    staff_mail = payments_rejected_mail(run, report_id, returned, staff_mailbox, today)
    if staff_mail:
        send_mail(uow, staff_mail)
    return returned
