"""Use cases on the salary of a contract: decide it once every fact is known."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from smart_shared.events import SalaryDue
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.telemetry import continue_trace

from payroll.domain import SalaryNotPayable, compute_salary, salary_rules, working_days_after
from payroll.store import CONTRACTS, SALARIES

log = logging.getLogger("payroll.salaries")


def _ready(contract: Document) -> bool:
    if contract.get("salary_id") or contract.get("cancelled") or contract.get("unpayable"):
        return False
    if not contract.get("signed") or not contract.get("completed"):
        return False
    guarantee = contract.get("guarantee")
    if guarantee == "granted":
        return True
    return guarantee == "declined" and bool(contract.get("invoice_paid"))


async def decide_salary(uow: UnitOfWork, contract_id: str) -> str | None:
    """Make the contract's salary due once it is completed, not cancelled, and either guaranteed
    (pay date: the rule pack's count of working days after the last work day) or, without the
    guarantee, its invoice paid (payable at once). Returns the new salary id, if any."""
    contract = await uow.db[CONTRACTS].find_one({"_id": contract_id}, session=uow.session)
    if contract is None or not _ready(contract):
        return None
    last_work_day = date.fromisoformat(contract["last_work_day"])
    rules = salary_rules(contract["branch"], last_work_day)
    try:
        breakdown = compute_salary(
            rules,
            Money.model_validate(contract["amount_excl_vat"]),
            Money.model_validate(contract["expenses"]),
            contract["activity_kind"],
        )
    except SalaryNotPayable as refused:
        log.warning("contract %s cannot pay a salary: %s", contract_id, refused)
        await uow.db[CONTRACTS].update_one(
            {"_id": contract_id}, {"$set": {"unpayable": str(refused)}}, session=uow.session
        )
        return None
    guaranteed = contract["guarantee"] == "granted"
    if guaranteed:
        payroll = rules.payroll
        pay_date = working_days_after(
            last_work_day, payroll.pay_delay_working_days.value, payroll.holiday_calendar.value
        )
    else:
        pay_date = uow.clock.today()
    salary_id = new_id()
    claimed = await uow.db[CONTRACTS].update_one(
        {"_id": contract_id, "salary_id": None}, {"$set": {"salary_id": salary_id}},
        session=uow.session,
    )
    if claimed.modified_count != 1:
        return None
    now = uow.clock.now()
    traceparent = contract.get("traceparent")
    salary: dict[str, Any] = {
        "_id": salary_id,
        "branch": contract["branch"],
        "contract_id": contract_id,
        "member_id": contract["member_id"],
        "activity_kind": contract["activity_kind"],
        "last_work_day": contract["last_work_day"],
        "guaranteed": guaranteed,
        "pay_date": pay_date.isoformat(),
        "breakdown": breakdown.model_dump(mode="json"),
        "status": "due",
        "payment_run_id": None,
        "version": 1,
        "due_at": now,
        "traceparent": traceparent,
    }
    await uow.db[SALARIES].insert_one(salary, session=uow.session)
    with continue_trace("salary due", traceparent, **{"smart.contract_id": contract_id}):
        uow.publish(SalaryDue(
            branch=contract["branch"],
            version=1,
            occurred_at=now,
            salary_id=salary_id,
            contract_id=contract_id,
            member_id=contract["member_id"],
            guaranteed=guaranteed,
            pay_date=pay_date,
            breakdown=breakdown,
        ))
    return salary_id
