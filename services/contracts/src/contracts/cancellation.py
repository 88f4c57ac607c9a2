"""Cancelling a contract before its first work day (``ContractCancelled``), and the contracts an
erased member had not seen validated yet."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from smart_shared.auth import Principal, visible_or_404
from smart_shared.mongo import UnitOfWork
from smart_shared.problems import conflict
from smart_shared.service import Platform

from contracts.declarations import gateway_of, withdraw_declaration
from contracts.domain import Contract, TransitionRefused
from contracts.refusals import status_refused
from contracts.store import (
    contract_from,
    load_contract,
    read_contract,
    save_contract,
    unsigned_contracts_of,
)


@dataclass(frozen=True)
class CancelContract:
    """Staff or the member cancel a contract, for ``reason``."""

    principal: Principal
    contract_id: str
    reason: str


async def cancel_contract(uow: UnitOfWork, command: CancelContract) -> Contract:
    """Cancel before the first work day: ``ContractCancelled``."""
    contract = visible_or_404(command.principal, await load_contract(uow, command.contract_id),
                              "Contract", command.contract_id)
    read_status = contract.status.value
    try:
        event = contract.cancel(command.reason, uow.clock.today(), uow.clock.now())
    except TransitionRefused as error:
        raise status_refused(error) from None
    if not await save_contract(uow, contract, read_status):
        raise conflict("Contract changed", "The contract changed meanwhile; try again")
    uow.publish(event)
    return contract


async def cancel_before_start(platform: Platform, command: CancelContract) -> Contract:
    """Cancel the contract, then its declaration with the gateway, which is no part of the
    transaction (the scheduler finishes it if the gateway is down). The contract is answered
    as then stored."""
    contract = await platform.database.transaction(partial(cancel_contract, command=command))
    reference = contract.declaration.reference
    if contract.declaration.cancel_pending and reference is not None:
        # the transaction just committed the cancellation: nothing to read again first
        withdrawn = await withdraw_declaration(platform, gateway_of(platform),
                                               contract.contract_id, reference)
        if withdrawn is not None:
            return contract_from(withdrawn)
        contract = await read_contract(platform.db, contract.contract_id) or contract
    return contract


async def cancel_unsigned_contracts(uow: UnitOfWork, branch: str, member_id: str) -> None:
    """An erased member's contracts that SMart has not validated yet are cancelled; validated
    ones stay (the law keeps them) and follow their course. A member stays in the branch that
    registered them, so their contracts are all of ``branch``."""
    for doc in await unsigned_contracts_of(uow, branch, member_id):
        contract = contract_from(doc)
        read_status = contract.status.value
        event = contract.cancel("member erased", uow.clock.today(), uow.clock.now())
        if await save_contract(uow, contract, read_status):
            uow.publish(event)
