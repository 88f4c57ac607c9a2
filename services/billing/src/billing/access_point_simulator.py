"""SIMULATOR of a Peppol access point, for local runs, demos and tests.

It is NOT Peppol: it sends nothing anywhere. It keeps the documents it "transmits" in this
service's own database (collection ``simulated_peppol_transmissions``), answers with transmission
ids starting ``SIM-``, and reports each one delivered the first time it is asked. It refuses, as
an access point does for a receiver the Peppol directory does not know, every document for a
receiver whose VAT number starts ``BE099999`` (e.g. ``BE0999999922``, a valid Belgian number), so
tests and demos can exercise a rejection. It can be told to fail, to exercise retries:
``SMART_PEPPOL_SIMULATOR_FAILING=true`` at start, or ``PUT /v1/peppol-simulator``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.ids import new_id
from smart_shared.mongo import Document
from smart_shared.simulators import SimulatedOutage

from billing.domain.einvoicing import (
    AccessPointUnavailable,
    Delivered,
    DocumentRefused,
    Outcome,
    PeppolDocument,
)

TRANSMISSIONS = "simulated_peppol_transmissions"
SETTINGS = "simulated_peppol_settings"
NOT_ON_PEPPOL = "BE099999"
"""Receivers whose VAT number starts so are unknown to the simulated Peppol directory."""


class SimulatedAccessPoint(SimulatedOutage):
    """An ``AccessPoint`` that simulates a Peppol service provider; replicas of the service
    share its state through MongoDB, as they would share the real one."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db, SETTINGS)
        self._transmissions = db[TRANSMISSIONS]

    async def send(self, document: PeppolDocument) -> str:
        if await self.is_failing(document.branch):
            raise AccessPointUnavailable("simulated Peppol access point outage")
        identifier = document.receiver.partition(":")[2].upper()
        if identifier.startswith(NOT_ON_PEPPOL):
            raise DocumentRefused(f"receiver {document.receiver} is not registered on Peppol "
                                  "(no entry in the Peppol directory)")
        now = datetime.now(UTC)
        # the same document sent again is the same transmission; each send is counted
        stored = await self._transmissions.find_one_and_update(
            {"_id": document.instance_id},
            {"$setOnInsert": {
                "transmission_id": f"SIM-{new_id().replace('-', '')[-20:].upper()}",
                "branch": document.branch, "kind": document.kind, "number": document.number,
                "sender": document.sender, "receiver": document.receiver,
                "ubl": document.ubl, "status": "in_transit", "received_at": now},
             "$inc": {"sends": 1}},
            upsert=True, return_document=ReturnDocument.AFTER,
        )
        assert stored is not None  # upserted
        return str(stored["transmission_id"])

    async def outcome(self, transmission_id: str) -> Outcome:
        stored = await self._transmissions.find_one({"transmission_id": transmission_id})
        if stored is None:
            raise AccessPointUnavailable(f"unknown transmission {transmission_id}")
        if await self.is_failing(stored["branch"]):
            raise AccessPointUnavailable("simulated Peppol access point outage")
        if stored["status"] == "in_transit":
            delivered_at = datetime.now(UTC)
            await self._transmissions.update_one(
                {"_id": stored["_id"], "status": "in_transit"},
                {"$set": {"status": "delivered", "delivered_at": delivered_at}})
            return Delivered(delivered_at)
        return Delivered(stored["delivered_at"].replace(tzinfo=UTC))

    async def transmissions_of(self, instance_id: str) -> Document | None:
        """The simulator's record of a document, with how many times it was sent (tests)."""
        return await self._transmissions.find_one({"_id": instance_id})
