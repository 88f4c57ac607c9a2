"""The bank's pain.002 payment status reports: accepted transfers pay their salaries, rejected
ones bring them back to due with the bank's reason, and tell the member and the staff."""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne
from smart_shared.events import SalaryPaymentRejected
from smart_shared.mail import send_mail
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.problems import invalid

from payroll.domain.pain002 import StatusReason, StatusReport, outcome_of
from payroll.mails import payments_rejected_mail, salary_rejected_mail
from payroll.payment_runs import member_contacts, next_salary_event, pay_salaries_in_run
from payroll.store import PAYMENT_RUNS, SALARIES

REFUSED = "Status report refused"
ORIGINAL_MESSAGE = "CstmrPmtStsRpt/OrgnlGrpInfAndSts/OrgnlMsgId"


async def apply_status_report(uow: UnitOfWork, branch: str, report: StatusReport,
                              staff_mailbox: str | None) -> dict[str, Any]:
    """Apply ``report`` to the run of ``branch`` it names. Each salary changes at most once,
    however often the report is imported: only a salary still in the run is paid or returned.
    The run is confirmed once no transfer of it waits for the bank's word."""
    run = await uow.db[PAYMENT_RUNS].find_one(
        {"branch": branch, "message_id": report.original_message_id}, session=uow.session)
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
    returned = await _return_to_due(uow, run, report.message_id, rejected, staff_mailbox)
    waiting = await uow.db[SALARIES].count_documents(
        {"payment_run_id": run["_id"], "status": "in_run"}, session=uow.session)
    update: dict[str, Any] = {"$addToSet": {"status_reports": report.message_id}}
    if not waiting:
        update["$set"] = {"status": "confirmed", "confirmed_at": uow.clock.now()}
    await uow.db[PAYMENT_RUNS].update_one({"_id": run["_id"], "status": "open"}, update,
                                          session=uow.session)
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
    in_run = {"status": "in_run", "payment_run_id": run["_id"]}
    salaries = {doc["_id"]: doc async for doc in uow.db[SALARIES].find(
        {"_id": {"$in": [item["salary_id"] for item, _ in rejected]}, **in_run},
        session=uow.session)}
    today = uow.clock.today()
    returned: list[dict[str, Any]] = []
    kept: dict[str, dict[str, Any]] = {}
    updates = []
    for item, reason in rejected:
        if item["salary_id"] not in salaries:
            continue
        rejection = {
            "payment_run_id": run["_id"], "end_to_end_id": item["end_to_end_id"],
            "status_report_id": report_id, "on": today.isoformat(), "iban": item["iban"],
            "code": reason.code if reason else None,
            "reason": reason.text if reason else "the bank gave no reason",
            "account_unusable": bool(reason and reason.account_unusable),
        }
        kept[item["salary_id"]] = rejection
        updates.append(UpdateOne({"_id": item["salary_id"], **in_run}, {
            "$set": {"status": "due", "rejection": rejection},
            "$unset": {"payment_run_id": ""},
            "$push": {"rejections": rejection},
            "$inc": {"version": 1},
        }))
        returned.append({"salary_id": item["salary_id"], "member_id": item["member_id"],
                         "amount": item["amount"], **{k: rejection[k] for k in (
                             "code", "reason", "account_unusable")}})
    if not updates:
        return []
    written = await uow.db[SALARIES].bulk_write(updates, ordered=True, session=uow.session)
    if written.modified_count != len(updates):
        raise RuntimeError(f"payment run {run['_id']} changed while its report was applied")
    members = await member_contacts(uow, list(salaries.values()))
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
        mail = salary_rejected_mail(salary, members.get(salary["member_id"]),
                                    kept[salary["_id"]], today)
        if mail:
            send_mail(uow, mail)
    staff_mail = payments_rejected_mail(run, report_id, returned, staff_mailbox, today)
    if staff_mail:
        send_mail(uow, staff_mail)
    return returned

