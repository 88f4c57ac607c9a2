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
async def read_contracts(uow: UnitOfWork, events: list[Event]) -> None:
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


handlers.on(ContractSigned)(record_contract_signed)
handlers.on(ContractCancelled)(record_contract_cancelled)
handlers.on(WorkCompleted)(record_work_completed)
handlers.on(DebtWrittenOff)(record_written_off_debt)


@handlers.on(MemberErased)
async def member_erased(uow: UnitOfWork, event: MemberErased) -> None:
    await pseudonymise_member(uow, event.member_id)
