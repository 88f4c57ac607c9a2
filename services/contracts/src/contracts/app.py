"""Wiring: the contracts service on its shared platform."""

from __future__ import annotations

from smart_shared.http import keep_tokens_out_of_paths
from smart_shared.service import Platform, Service, build_service
from smart_shared.settings import Settings

from contracts.api import (
    SIGN_PREFIX,
    ContractController,
    GatewaySimulatorController,
)
from contracts.domain import ContractRules
from contracts.gateway_simulator import SimulatedSocialSecurityGateway
from contracts.handlers import handlers
from contracts.jobs import contract_jobs
from contracts.store import create_indexes


async def connect_gateway(platform: Platform) -> None:
    """The employment declaration port; locally the labelled simulator of the gateway."""
    gateway = SimulatedSocialSecurityGateway(platform.db)
    await gateway.start(platform.settings.declaration_simulator_failing)
    platform.extras["gateway"] = gateway


def create_service(settings: Settings | None = None) -> Service:
    """The contracts service (tests pass their own isolated settings)."""
    built = build_service(
        "contracts", port=8002,
        controllers=[ContractController, GatewaySimulatorController],
        handlers=handlers,
        indexes=create_indexes,
        jobs=contract_jobs,
        on_start=connect_gateway,
        settings=settings,
        rules={"contracts": ContractRules},
    )
    keep_tokens_out_of_paths(built.app, SIGN_PREFIX)
    return built


service = create_service()
app = service.app
