"""A contract's guarantee and the transfers each step of its life books.

The reservation is two-phase: pending when granted, then either posted as an advance (the salary
was due before the client paid) or voided (the client paid first, or the contract was cancelled).
Each step is allowed once, whatever order the facts arrive in; a step that does not apply books
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from fund.domain.ledger import Transfer, TransferKind

ZERO = Decimal("0.00")
Reservation = Literal["none", "pending", "posted", "voided"]
CONTRACT_TRANSFERS: tuple[TransferKind, ...] = (
    "reserve", "advance", "release", "recover", "loss", "loss_recovery",
)


def transfer_id(kind: TransferKind, cause: str) -> str:
    """A transfer's id, derived from what caused it: booking the same fact twice books once."""
    return f"{kind}:{cause}"


def contract_transfer_ids(contract_id: str) -> list[str]:
    """Every transfer a contract's guarantee can book in its life."""
    return [transfer_id(kind, contract_id) for kind in CONTRACT_TRANSFERS]


@dataclass
class Guarantee:
    contract_id: str
    branch: str
    member_id: str
    client_key: str
    granted: bool
    amount: Decimal = ZERO          # the salary cost reserved when granted
    reservation: Reservation = "none"
    advanced: Decimal = ZERO
    recovered: Decimal = ZERO
    lost: Decimal = ZERO
    loss_recovered: Decimal = ZERO
    invoice_paid: bool = False
    written_off: bool = False
    cancelled: bool = False
    invoice_id: str | None = None   # the contract's invoice, once known

    @property
    def reserved(self) -> Decimal:
        return self.amount if self.reservation == "pending" else ZERO

    @property
    def outstanding_advance(self) -> Decimal:
        return self.advanced - self.recovered - self.lost

    @property
    def exposure(self) -> Decimal:
        """What the fund stands to lose on this contract (counts against the caps)."""
        return self.reserved + self.outstanding_advance

    def _transfer(self, kind: TransferKind, amount: Decimal, pending_id: str | None = None,
                  reference: str | None = None) -> Transfer:
        return Transfer(id=transfer_id(kind, self.contract_id), branch=self.branch, kind=kind,
                        amount=amount, contract_id=self.contract_id, pending_id=pending_id,
                        reference=reference)

    def reserve(self) -> list[Transfer]:
        """Earmark the salary cost on the free balance (the pending half of the reservation)."""
        if not self.granted or self.reservation != "none" or self.amount <= 0:
            return []
        self.reservation = "pending"
        return [self._transfer("reserve", self.amount)]

    def advance(self, salary_id: str, salary_cost: Decimal | None = None) -> list[Transfer]:
        """The salary is due and the client has not paid: post the reservation as an advance.

        At most the reserved amount is advanced; a smaller salary cost releases the rest.
        """
        if self.reservation != "pending" or self.invoice_paid:
            return []
        amount = self.amount if salary_cost is None else min(self.amount, salary_cost)
        transfers: list[Transfer] = []
        pending = f"reserve:{self.contract_id}"
        if amount > 0:
            transfers.append(self._transfer("advance", amount, pending_id=pending,
                                            reference=salary_id))
        if self.amount - amount > 0:
            transfers.append(self._transfer("release", self.amount - amount, pending_id=pending,
                                            reference=salary_id))
        self.reservation = "posted"
        self.advanced = amount
        if self.written_off:
            transfers += self.absorb_loss()
        return transfers

    def release(self, reason: str) -> list[Transfer]:
        """Void the pending reservation: the earmarked money is free again."""
        if self.reservation != "pending":
            return []
        self.reservation = "voided"
        return [self._transfer("release", self.amount, pending_id=f"reserve:{self.contract_id}",
                               reference=reason)]

    def settle_payment(self, invoice_id: str) -> tuple[Decimal, list[Transfer]]:
        """The client paid: recover the advance, or release the reservation if none was made.

        Returns the advance recovered (zero when nothing had been advanced) and the transfers.
        """
        if self.invoice_paid:
            return ZERO, []
        self.invoice_paid = True
        transfers = self.release(f"invoice {invoice_id} paid")
        recovered = ZERO
        if self.outstanding_advance > 0:
            recovered = self.outstanding_advance
            self.recovered += recovered
            transfers.append(self._transfer("recover", recovered, reference=invoice_id))
        if self.lost - self.loss_recovered > 0:
            late = self.lost - self.loss_recovered
            self.loss_recovered += late
            recovered += late
            transfers.append(self._transfer("loss_recovery", late, reference=invoice_id))
        return recovered, transfers

    def write_off(self) -> list[Transfer]:
        """The debt is abandoned: the advance becomes the fund's loss (later, if not yet paid)."""
        if self.written_off or self.invoice_paid:
            return []
        self.written_off = True
        return self.absorb_loss()

    def absorb_loss(self) -> list[Transfer]:
        if self.lost > 0 or self.outstanding_advance <= 0:
            return []
        amount = self.outstanding_advance
        self.lost = amount
        return [self._transfer("loss", amount)]

    def cancel(self) -> list[Transfer]:
        """The contract was cancelled before work started: nothing will be advanced."""
        if self.cancelled:
            return []
        self.cancelled = True
        return self.release("contract cancelled")


def contribution(branch: str, invoice_id: str, contract_id: str, amount: Decimal) -> list[Transfer]:
    """The fund's share of a paid invoice (nothing when it rounds to zero)."""
    if amount <= 0:
        return []
    return [Transfer(id=transfer_id("contribution", invoice_id), branch=branch, kind="contribution",
                     amount=amount, contract_id=contract_id, reference=invoice_id)]


def capital_injection(branch: str, key: str, amount: Decimal) -> Transfer:
    """Capital brought into the branch's fund; ``key`` makes the injection happen once."""
    return Transfer(id=f"capital:{branch}:{key}", branch=branch, kind="capital", amount=amount,
                    reference=key)
