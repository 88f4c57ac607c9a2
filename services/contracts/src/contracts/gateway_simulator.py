"""SIMULATOR of the social-security gateway (Dimona-like), for local runs, demos and tests.

It is NOT the real gateway: it keeps its "declarations" in this service's own database
(collection ``simulated_gateway_declarations``) and answers with references starting ``SIM-``.
It can be told to fail, to exercise retries: environment variable
``SMART_DECLARATION_SIMULATOR_FAILING=true`` at start, or ``PUT /v1/declaration-gateway-simulator``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.ids import new_id
from smart_shared.mongo import Document
from smart_shared.simulators import SimulatedOutage

from contracts.domain import Employment, GatewayUnavailable

DECLARATIONS = "simulated_gateway_declarations"
SETTINGS = "simulated_gateway_settings"


class SimulatedSocialSecurityGateway(SimulatedOutage):
    """An ``EmploymentGateway`` that simulates the social-security gateway; replicas of the
    service share its state through MongoDB, like they would share the real gateway."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db, SETTINGS)
        self._declarations = db[DECLARATIONS]

    async def declare(self, contract_id: str, member_id: str, branch: str,
                      work_days: list[date]) -> str:
        references = await self.declare_all([Employment(contract_id, member_id, branch,
                                                        work_days)])
        return references[contract_id]

    async def declare_all(self, employments: Sequence[Employment]) -> dict[str, str]:
        """One settings read and one bulk write for the batch; a contract declared before keeps
        its reference (read back only for those)."""
        if await self.is_failing(*{e.branch for e in employments}):
            raise GatewayUnavailable("simulated social-security gateway outage")
        if not employments:
            return {}
        proposed = [f"SIM-{e.branch}-{new_id().replace('-', '')[-16:].upper()}"
                    for e in employments]
        declared_at = datetime.now(UTC)
        result = await self._declarations.bulk_write([
            UpdateOne({"_id": employment.contract_id}, {"$setOnInsert": {
                "reference": reference,
                "member_id": employment.member_id,
                "work_days": [day.isoformat() for day in employment.work_days],
                "declared_at": declared_at,
                "status": "declared",
            }}, upsert=True)
            for employment, reference in zip(employments, proposed, strict=True)
        ], ordered=False)
        references = {employments[index].contract_id: proposed[index]
                      for index in result.upserted_ids or {}}
        known = [e.contract_id for e in employments if e.contract_id not in references]
        if known:
            async for doc in self._declarations.find({"_id": {"$in": known}}, {"reference": 1}):
                references[doc["_id"]] = str(doc["reference"])
        return references

    async def cancel(self, reference: str) -> None:
        # references read SIM-{branch}-…: the branch whose gateway takes the cancellation
        if await self.is_failing(reference.split("-")[1] if reference.count("-") >= 2 else ""):
            raise GatewayUnavailable("simulated social-security gateway outage")
        await self._declarations.update_one(
            {"reference": reference},
            {"$set": {"status": "cancelled", "cancelled_at": datetime.now(UTC)}},
        )

    async def status_of(self, contract_id: str) -> str | None:
        """The simulated gateway's view of a contract's declaration (for tests and demos)."""
        doc = await self._declarations.find_one({"_id": contract_id})
        return str(doc["status"]) if doc else None
