"""Handing out gapless numbers inside the transaction that creates the numbered document.

The counter is incremented in the same transaction that inserts the invoice or credit note: two
issuers racing on one counter make one transaction fail with a write conflict, and the whole
transaction is retried; an aborted transaction (a crash, an error) never commits its increment.
So a number exists exactly when its document does.

A transaction that numbers several documents of one series (a consumer batch of completed
contracts) increments the counter once for the first and hands out the following numbers from
that block: its first write already holds the counter against every other transaction until it
commits or aborts, so no one else can take them. The rest of the block is added to the counter
with a single ``$inc`` when the unit of work flushes, still inside the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smart_shared.mongo import UnitOfWork

from billing.domain.numbering import Series, counter_id, number_for
from billing.store import add_to_counters, take_sequence


@dataclass
class _Block:
    last: int  # the last sequence handed out
    unwritten: int = 0  # handed out but not yet added to the counter


@dataclass
class _Counters:
    """The counters a unit of work has written once, with what it still has to add to them."""

    blocks: dict[str, _Block] = field(default_factory=dict)

    async def write(self, uow: UnitOfWork) -> None:
        await add_to_counters(uow, {key: block.unwritten for key, block in self.blocks.items()
                                    if block.unwritten})
        for block in self.blocks.values():
            block.unwritten = 0


async def next_sequence(uow: UnitOfWork, series: Series, branch: str, year: int) -> int:
    """The next sequence of ``series`` for ``branch`` and ``year`` (1, 2, 3…)."""
    counters = uow.staged(_Counters)
    key = counter_id(series, branch, year)
    block = counters.blocks.get(key)
    if block is not None:
        block.last += 1
        block.unwritten += 1
        return block.last
    sequence = await take_sequence(uow, key, series, branch, year)
    counters.blocks[key] = _Block(sequence)
    return sequence


async def next_number(uow: UnitOfWork, series: Series, branch: str, year: int) -> tuple[int, str]:
    """The next sequence and its formatted number."""
    sequence = await next_sequence(uow, series, branch, year)
    return sequence, number_for(series, branch, year, sequence)
