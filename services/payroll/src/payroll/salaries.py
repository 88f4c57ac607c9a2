"""Use cases on the salary of a contract: decide it once every fact is known."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from pymongo import ReturnDocument
from smart_shared.events import SalaryDue
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.mongo import Document, StagedInserts, UnitOfWork
from smart_shared.telemetry import continue_trace

from payroll.domain import SalaryNotPayable, compute_salary, salary_rules, working_days_after
from payroll.store import CONTRACTS, SALARIES

log = logging.getLogger("payroll.salaries")


class _NewSalaries(StagedInserts):
    """The salaries made due in a unit of work, inserted together when it flushes."""

    collection = SALARIES


def _truthy(name: str) -> dict[str, Any]:
    """Aggregation: the contract's ``name`` is set as Python would see it (not "" either)."""
    return {"$and": [f"${name}", {"$ne": [f"${name}", ""]}]}


def _falsy(name: str) -> dict[str, Any]:
    return {"$not": [_truthy(name)]}


# The contract's salary can be decided (an aggregation expression on the contract): not decided
# yet, not cancelled, not found unpayable; signed and completed; and either guaranteed (due on
# the rule pack's count of working days after the last work day) or, without the guarantee, its
# invoice paid (payable at once).
_READY: dict[str, Any] = {"$and": [
    _falsy("salary_id"), _falsy("cancelled"), _falsy("unpayable"),
    _truthy("signed"), _truthy("completed"),
    {"$or": [
        {"$eq": ["$guarantee", "granted"]},
        {"$and": [{"$eq": ["$guarantee", "declined"]}, _truthy("invoice_paid")]},
    ]},
]}

_FRESH = "__fresh"


def _on_insert(name: str, value: Any) -> dict[str, Any]:
    """Aggregation: ``value`` when the contract has no ``name`` yet (``$setOnInsert``)."""
    return {"$cond": [{"$eq": [{"$type": f"${name}"}, "missing"]}, value, f"${name}"]}


async def record_and_decide(
    uow: UnitOfWork, contract_id: str, branch: str, member_id: str, facts: dict[str, Any],
    only_if: dict[str, Any] | None = None,
) -> str | None:
    """Record ``facts`` on the contract, then decide its salary if they made it due.

    One command does both: it records the facts (only when the aggregation expression
    ``only_if`` holds on the contract as it was, if given) and, when the contract is then
    ready (``_READY``), claims it with the new salary's id, returning the contract. A
    contract is claimed at most once (``salary_id`` is set once), and the claim commits or aborts
    together with the salary and its ``SalaryDue``. Returns the new salary id, if any."""
    salary_id = new_id()
    fresh: Any = f"${_FRESH}" if only_if is not None else True
    recorded = {name: {"$literal": value} for name, value in facts.items()}
    if only_if is not None:
        recorded = {name: {"$cond": [fresh, value, f"${name}"]}
                    for name, value in recorded.items()}
    pipeline: list[dict[str, Any]] = [
        {"$set": {"branch": _on_insert("branch", branch),
                  "member_id": _on_insert("member_id", member_id),
                  **recorded}},
        {"$set": {"salary_id": {"$cond": [{"$and": [fresh, _READY]}, salary_id, "$salary_id"]}}},
    ]
    if only_if is not None:
        pipeline = [{"$set": {_FRESH: only_if}}, *pipeline, {"$unset": _FRESH}]
    contract = await uow.db[CONTRACTS].find_one_and_update(
        {"_id": contract_id}, pipeline, upsert=True, return_document=ReturnDocument.AFTER,
        session=uow.session,
    )
    if contract is None or contract.get("salary_id") != salary_id:
        return None
    return await _make_due(uow, contract, salary_id)


async def _make_due(uow: UnitOfWork, contract: Document, salary_id: str) -> str | None:
    """The salary of ``contract``, claimed for ``salary_id`` in this transaction → ``SalaryDue``
    (or, when the amount cannot carry a salary, the claim undone and the contract flagged)."""
    contract_id = contract["_id"]
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
            {"_id": contract_id},
            {"$set": {"unpayable": str(refused)}, "$unset": {"salary_id": ""}},
            session=uow.session,
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
    # inserted with the other salaries of the unit of work just before it commits (one command);
    # the contract's claim, already written, keeps any other decision on the contract away
    uow.staged(_NewSalaries).documents.append(salary)
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
