"""Events in → billing's use cases."""

from __future__ import annotations

from smart_shared.consumer import EventHandlers
from smart_shared.events import Event
from smart_shared.events.catalogue import (
    ContractCancelled,
    ContractSigned,
    DebtWrittenOff,
    MemberErased,
    WorkCompleted,
)
from smart_shared.mongo import UnitOfWork

from billing.credits import ClientCredits
from billing.invoicing import (
    pseudonymise_member,
    record_contract_cancelled,
    record_contract_signed,
    record_work_completed,
)
from billing.store import Contracts
from billing.write_offs import record_written_off_debt

handlers = EventHandlers()


@handlers.before_batch
async def read_contracts(events: list[Event], uow: UnitOfWork) -> None:
    """The batch's contracts, read at once; its handlers record on them and they are written
    together before the commit."""
    contracts = uow.staged(Contracts)
    await contracts.read(uow, [
        event.contract_id for event in events
        if isinstance(event, ContractSigned | ContractCancelled | WorkCompleted)
    ])
    # and the credit their clients hold, which the invoices issued deduct (one query)
    clients = []
    for event in events:
        if isinstance(event, ContractSigned):
            clients.append((event.branch, event.client.client_key))
        elif isinstance(event, WorkCompleted):
            known = await contracts.get(uow, event.contract_id)
            if known and isinstance(known.get("signed"), dict):
                clients.append((event.branch, known["signed"]["client"]["client_key"]))
    await uow.staged(ClientCredits).read(uow, clients)


@handlers.on(ContractSigned)
async def contract_signed(event: ContractSigned, uow: UnitOfWork) -> None:
    await record_contract_signed(uow, event)


@handlers.on(ContractCancelled)
async def contract_cancelled(event: ContractCancelled, uow: UnitOfWork) -> None:
    await record_contract_cancelled(uow, event)


@handlers.on(WorkCompleted)
async def work_completed(event: WorkCompleted, uow: UnitOfWork) -> None:
    await record_work_completed(uow, event)


@handlers.on(DebtWrittenOff)
async def debt_written_off(event: DebtWrittenOff, uow: UnitOfWork) -> None:
    await record_written_off_debt(uow, event)


@handlers.on(MemberErased)
async def member_erased(event: MemberErased, uow: UnitOfWork) -> None:
    await pseudonymise_member(uow, event.member_id)
