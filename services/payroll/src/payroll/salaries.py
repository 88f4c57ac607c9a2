"""Use cases on the salary of a contract: decide it once every fact is known, with the loan
instalments due withheld from its net."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from smart_shared.events import InstalmentWithheld, SalaryDue
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.mongo import Document, StagedInserts, UnitOfWork
from smart_shared.telemetry import continue_trace

from payroll.domain import SalaryNotPayable, compute_salary, salary_rules, working_days_after
from payroll.projections import Contracts
from payroll.store import SALARIES
from payroll.withholdings import withhold_instalments

log = logging.getLogger("payroll.salaries")


class _NewSalaries(StagedInserts):
    """The salaries made due in a unit of work, inserted together when it flushes."""

    collection = SALARIES


def _ready(contract: Document) -> bool:
    """The contract's salary can be decided: not decided yet, not cancelled, not found unpayable;
    signed and completed; and either guaranteed (due on the rule pack's count of working days
    after the last work day) or, without the guarantee, its invoice paid (payable at once)."""
    if contract.get("salary_id") or contract.get("cancelled") or contract.get("unpayable"):
        return False
    if not (contract.get("signed") and contract.get("completed")):
        return False
    guarantee = contract.get("guarantee")
    return guarantee == "granted" or (guarantee == "declined"
                                      and bool(contract.get("invoice_paid")))


async def record(uow: UnitOfWork, contract_id: str, branch: str, member_id: str,
                 facts: dict[str, Any]) -> Document:
    """Record ``facts`` on the contract (written with the unit of work's other contracts)."""
    contract = await uow.staged(Contracts).get(uow, contract_id, branch, member_id)
    contract.update(facts)
    return contract


async def record_and_decide(
    uow: UnitOfWork, contract_id: str, branch: str, member_id: str, facts: dict[str, Any],
    only_if: Callable[[Document], bool] | None = None,
) -> str | None:
    """Record ``facts`` on the contract (only when ``only_if`` holds on the contract as it was, if
    given), then decide its salary if they made it due: the contract is claimed with the new
    salary's id. A contract is claimed at most once (``salary_id`` is set once, and written only
    where the contract has none yet), and the claim commits or aborts together with the salary
    and its ``SalaryDue``. Returns the new salary id, if any."""
    contract = await uow.staged(Contracts).get(uow, contract_id, branch, member_id)
    if only_if is not None and not only_if(contract):
        return None
    contract.update(facts)
    if not _ready(contract):
        return None
    salary_id = new_id()
    contract["salary_id"] = salary_id
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
        contract["unpayable"] = str(refused)
        del contract["salary_id"]
        return None
    guaranteed = contract["guarantee"] == "granted"
    if guaranteed:
        payroll = rules.payroll
        pay_date = working_days_after(
            last_work_day, payroll.pay_delay_working_days.value, payroll.holiday_calendar.value
        )
    else:
        pay_date = uow.clock.today()
    breakdown, withheld = await withhold_instalments(uow, contract["member_id"], breakdown)
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
        "loan_withholdings": [{**w, "amount": w["amount"].to_document()} for w in withheld],
        "version": 1 + len(withheld),
        "due_at": now,
        "traceparent": traceparent,
    }
    # inserted with the other salaries of the unit of work just before it commits (one command),
    # as is the contract's claim
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
        for version, instalment in enumerate(withheld, start=2):
            uow.publish(InstalmentWithheld(
                branch=contract["branch"], version=version, occurred_at=now,
                salary_id=salary_id, contract_id=contract_id, member_id=contract["member_id"],
                **instalment))
    return salary_id
