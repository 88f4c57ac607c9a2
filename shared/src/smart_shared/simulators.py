"""What the platform's labelled SIMULATORS of outside systems share (the social-security gateway,
the Peppol access point): an outage switched for one branch or all, kept in the service's own
database so that its replicas agree, and the staff endpoint that switches it.
"""

from __future__ import annotations

from collections.abc import Callable

from litestar import Controller, get, put
from pydantic import BaseModel, ConfigDict
from pymongo.asynchronous.database import AsyncDatabase

from smart_shared.auth import Principal
from smart_shared.mongo import Document
from smart_shared.service import Platform


class SimulatedOutage:
    """A simulator's outage switch: a setting (e.g. ``SMART_PEPPOL_SIMULATOR_FAILING=true``) sets
    it for every branch at start; staff switch it for their branch."""

    def __init__(self, db: AsyncDatabase[Document], collection: str) -> None:
        self._settings = db[collection]

    async def start(self, failing: bool | None = None) -> None:
        """Apply the deployment's setting, when it has one, to every branch."""
        if failing is not None:
            await self.set_failing(failing)

    async def is_failing(self, *branches: str) -> bool:
        """Whether the simulated system fails for any of ``branches``: switched for all
        branches (at start, in tests) or for one (by that branch's staff)."""
        ids = ["simulator", *(f"simulator:{branch}" for branch in branches)]
        return await self._settings.find_one({"_id": {"$in": ids}, "failing": True}) is not None

    async def set_failing(self, failing: bool, branch: str | None = None) -> None:
        """Switch the simulated outage for one branch, or for every branch when ``None``."""
        key = "simulator" if branch is None else f"simulator:{branch}"
        await self._settings.update_one({"_id": key}, {"$set": {"failing": failing}},
                                        upsert=True)


class SimulatorState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    failing: bool


def outage_switch(path: str, system: str,
                  outage_of: Callable[[Platform], SimulatedOutage]) -> type[Controller]:
    """A staff controller at ``path`` that reads and switches the outage of the SIMULATED
    ``system`` for the caller's branch; ``outage_of`` refuses (403) when the real one runs."""

    class OutageSwitch(Controller):
        tags = ["simulator"]

        @get("/", summary=f"State of the simulated {system} for the caller's branch")
        async def state(self, platform: Platform, principal: Principal) -> SimulatorState:
            principal.require("staff", "admin")
            return SimulatorState(failing=await outage_of(platform).is_failing(principal.branch))

        @put("/", summary=f"Make the simulated {system} fail or answer, for the caller's "
             "branch only")
        async def set_state(self, data: SimulatorState, platform: Platform,
                            principal: Principal) -> SimulatorState:
            principal.require("staff", "admin")
            await outage_of(platform).set_failing(data.failing, principal.branch)
            return data

    OutageSwitch.path = path
    OutageSwitch.__name__ = OutageSwitch.__qualname__ = (
        "".join(word.capitalize() for word in system.split()) + "SimulatorController")
    return OutageSwitch
