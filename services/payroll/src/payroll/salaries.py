"""Use cases on the salary of a contract: keep every fact other services publish about it, and
decide the salary once they are all in, with the loan instalments due withheld from its net.

Contracts, guarantees and invoices come on different topics, so their order is not guaranteed:
each use case records its fact on the contract, then asks whether the salary can now be decided.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from smart_shared.codec import stored_day
from smart_shared.events import (
    ContractCancelled,
    ContractSigned,
    GuaranteeDeclined,
    GuaranteeGranted,
    InstalmentWithheld,
    InvoiceIssued,
    InvoicePaid,
    SalaryDue,
    WorkCompleted,
)
from smart_shared.ids import new_id
from smart_shared.money import Money
from smart_shared.mongo import Document, UnitOfWork
from smart_shared.telemetry import continue_trace, current_traceparent

from payroll import store
from payroll.domain import SalaryNotPayable, compute_salary, salary_rules, working_days_after
from payroll.withholdings import withhold_instalments

log = logging.getLogger("payroll.salaries")

ContractFact = (ContractSigned | WorkCompleted | ContractCancelled | GuaranteeGranted
                | GuaranteeDeclined | InvoiceIssued | InvoicePaid)


async def record_contract_signed(uow: UnitOfWork, event: ContractSigned) -> None:
    await _record_and_decide(uow, event, store.signed_facts(event))


async def record_work_completed(uow: UnitOfWork, event: WorkCompleted) -> None:
    await _record_and_decide(uow, event, store.completed_facts(event, current_traceparent()))


async def record_contract_cancelled(uow: UnitOfWork, event: ContractCancelled) -> None:
    await _record(uow, event, store.cancelled_facts(event.cancelled_at))


async def record_guarantee_granted(uow: UnitOfWork, event: GuaranteeGranted) -> None:
    """Guaranteed: the salary is paid on time, whenever the client pays."""
    await _record_decision(uow, event, "granted")


async def record_guarantee_declined(uow: UnitOfWork, event: GuaranteeDeclined) -> None:
    """Not guaranteed: the salary waits for the client's payment."""
    await _record_decision(uow, event, "declined")


async def record_invoice_issued(uow: UnitOfWork, event: InvoiceIssued) -> None:
    store.keep_invoice_issued(uow, event.invoice_id, event.contract_id, event.branch,
                              event.number)
    await _record(uow, event, {"invoice_id": event.invoice_id})


async def record_invoice_paid(uow: UnitOfWork, event: InvoicePaid) -> None:
    """The client paid: a salary waiting without the guarantee is released."""
    store.keep_invoice_paid(uow, event.invoice_id, event.contract_id, event.branch,
                            event.paid_on)
    await _record_and_decide(uow, event, store.invoice_paid_facts(event.invoice_id,
                                                                  event.paid_on))


async def _record_decision(uow: UnitOfWork, event: GuaranteeGranted | GuaranteeDeclined,
                           decision: str) -> None:
    # a stale or repeated decision (its version already known) changes nothing
    await _record_and_decide(uow, event, store.decision_facts(decision, event.version),
                             only_if=lambda contract: store.decision_is_newer(contract,
                                                                              event.version))


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


async def _contract(uow: UnitOfWork, event: ContractFact) -> Document:
    return await uow.staged(store.Contracts).get(uow, event.contract_id, event.branch,
                                                 event.member_id)


async def _record(uow: UnitOfWork, event: ContractFact, facts: Document) -> None:
    """Record ``facts`` on the contract (written with the unit of work's other contracts)."""
    (await _contract(uow, event)).update(facts)


async def _record_and_decide(
    uow: UnitOfWork, event: ContractFact, facts: Document,
    only_if: Callable[[Document], bool] | None = None,
) -> str | None:
    """Record ``facts`` on the contract (only when ``only_if`` holds on the contract as it was, if
    given), then decide its salary if they made it due: the contract is claimed with the new
    salary's id. A contract is claimed at most once (``salary_id`` is set once, and written only
    where the contract has none yet), and the claim commits or aborts together with the salary
    and its ``SalaryDue``. Returns the new salary id, if any."""
    contract = await _contract(uow, event)
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
    last_work_day = stored_day(contract["last_work_day"])
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
    store.stage_salary(uow, salary_id, contract, guaranteed, pay_date, breakdown, withheld, now)
    with continue_trace("salary due", contract.get("traceparent"),
                        **{"smart.contract_id": contract_id}):
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
