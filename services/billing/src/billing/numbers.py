"""Handing out gapless numbers inside the transaction that creates the numbered document.

The counter is incremented in the same transaction that inserts the invoice or credit note: two
issuers racing on one counter make one transaction fail with a write conflict, and the whole
transaction is retried; an aborted transaction (a crash, an error) never commits its increment.
So a number exists exactly when its document does.
"""

from __future__ import annotations

from pymongo import ReturnDocument
from smart_shared.mongo import UnitOfWork

from billing.domain.numbering import Series, counter_id, number_for
from billing.store import COUNTERS


async def next_sequence(uow: UnitOfWork, series: Series, branch: str, year: int) -> int:
    """The next sequence of ``series`` for ``branch`` and ``year`` (1, 2, 3…)."""
    counter = await uow.db[COUNTERS].find_one_and_update(
        {"_id": counter_id(series, branch, year)},
        {"$inc": {"sequence": 1}, "$setOnInsert": {"series": series, "branch": branch,
                                                    "year": year}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        session=uow.session,
    )
    assert counter is not None  # an upsert returning the document after it always finds one
    return int(counter["sequence"])


async def next_number(uow: UnitOfWork, series: Series, branch: str, year: int) -> tuple[int, str]:
    """The next sequence and its formatted number."""
    sequence = await next_sequence(uow, series, branch, year)
    return sequence, number_for(series, branch, year, sequence)
