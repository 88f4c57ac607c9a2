"""An invoice's account: what was invoiced, paid and credited, and what remains.

Everything is kept as totals of exact amounts, so the balance always adds up:
``total - credited - paid = balance_due - credit``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal

PaymentOutcome = Literal["partially_paid", "matched", "overpaid"]
ZERO = Decimal("0.00")


class CreditTooLarge(ValueError):
    """A credit note for more than remains invoiced."""


@dataclass(frozen=True)
class Account:
    total: Decimal
    paid: Decimal = ZERO
    credited: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        """Positive: the client owes it. Negative: SMart owes it back (credit)."""
        return self.total - self.credited - self.paid

    @property
    def balance_due(self) -> Decimal:
        return max(self.net, ZERO)

    @property
    def credit(self) -> Decimal:
        """Overpayment kept as credit for the client."""
        return max(-self.net, ZERO)

    @property
    def creditable(self) -> Decimal:
        """What a credit note may still take off the invoice."""
        return self.total - self.credited

    @property
    def settled(self) -> bool:
        return self.balance_due == ZERO

    def pay(self, amount: Decimal) -> Account:
        if amount <= 0:
            raise ValueError("a payment is positive")
        return replace(self, paid=self.paid + amount)

    def release_credit(self, amount: Decimal) -> Account:
        """The client's credit leaves this invoice (applied to another, or refunded)."""
        if amount <= 0:
            raise ValueError("a release is positive")
        if amount > self.credit:
            raise CreditTooLarge(f"at most {self.credit} of credit remains")
        return replace(self, paid=self.paid - amount)

    def credit_note(self, amount: Decimal) -> Account:
        if amount <= 0:
            raise ValueError("a credit note is positive")
        if amount > self.creditable:
            raise CreditTooLarge(f"at most {self.creditable} remains to credit")
        return replace(self, credited=self.credited + amount)


def payment_outcome(before: Account, after: Account) -> PaymentOutcome:
    """How a payment left the invoice: still partly due, exactly paid, or paid with a surplus."""
    if after.balance_due > ZERO:
        return "partially_paid"
    if after.credit > before.credit:
        return "overpaid"
    return "matched"
