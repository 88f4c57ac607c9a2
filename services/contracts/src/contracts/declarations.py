"""The employment declaration's port (the social-security gateway), and withdrawing the
declaration of a cancelled contract with it."""

from __future__ import annotations

import logging

from smart_shared.mongo import Document
from smart_shared.service import Platform

from contracts.domain import EmploymentGateway, GatewayUnavailable
from contracts.store import declaration_to_cancel, record_declaration_cancelled

log = logging.getLogger("contracts")


def gateway_of(platform: Platform) -> EmploymentGateway:
    gateway: EmploymentGateway = platform.extras["gateway"]
    return gateway


async def cancel_declaration(platform: Platform, gateway: EmploymentGateway,
                             contract_id: str) -> bool:
    """Cancel a cancelled contract's declaration with the gateway, if it is still to be
    cancelled; False if it must wait."""
    doc = await declaration_to_cancel(platform.db, contract_id)
    if doc is None:
        return False
    return await withdraw_declaration(platform, gateway, contract_id,
                                      doc["declaration"]["reference"]) is not None


async def withdraw_declaration(platform: Platform, gateway: EmploymentGateway,
                               contract_id: str, reference: str) -> Document | None:
    """Cancel the declaration ``reference`` of a cancelled contract with the gateway; the
    contract as stored then, or None if it must wait or was withdrawn meanwhile. No event and
    one conditional update: no transaction."""
    try:
        await gateway.cancel(reference)
    except GatewayUnavailable as error:
        log.warning("declaration %s of contract %s not cancelled yet: %s",
                    reference, contract_id, error)
        return None
    return await record_declaration_cancelled(platform.db, contract_id, platform.clock.now())
