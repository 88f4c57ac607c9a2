"""Events in → billing's use cases."""

from __future__ import annotations

from smart_shared.consumer import EventHandlers
from smart_shared.events.catalogue import (
    ContractCancelled,
    ContractSigned,
    DebtWrittenOff,
    MemberErased,
    WorkCompleted,
)
from smart_shared.mongo import UnitOfWork

from billing.credit_notes import credit_written_off_debt
from billing.invoicing import (
    pseudonymise_member,
    record_contract_cancelled,
    record_contract_signed,
    record_work_completed,
)

handlers = EventHandlers()


@handlers.on(ContractSigned)
async def contract_signed(event: ContractSigned, uow: UnitOfWork) -> None:
    await record_contract_signed(event, uow)


@handlers.on(ContractCancelled)
async def contract_cancelled(event: ContractCancelled, uow: UnitOfWork) -> None:
    await record_contract_cancelled(event, uow)


@handlers.on(WorkCompleted)
async def work_completed(event: WorkCompleted, uow: UnitOfWork) -> None:
    await record_work_completed(event, uow)


@handlers.on(DebtWrittenOff)
async def debt_written_off(event: DebtWrittenOff, uow: UnitOfWork) -> None:
    await credit_written_off_debt(event, uow)


@handlers.on(MemberErased)
async def member_erased(event: MemberErased, uow: UnitOfWork) -> None:
    await pseudonymise_member(uow, event.member_id)
