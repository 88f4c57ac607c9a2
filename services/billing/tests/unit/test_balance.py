from decimal import Decimal

import pytest
from billing.domain.balance import Account, CreditTooLarge, payment_outcome
from billing.domain.invoice import credit_note_split
from hypothesis import given
from hypothesis import strategies as st

cents = st.integers(min_value=1, max_value=10_000_00).map(lambda c: Decimal(c) / 100)


def test_two_partial_payments_settle_the_invoice() -> None:
    account = Account(Decimal("121.00"))
    first = account.pay(Decimal("21.00"))
    assert payment_outcome(account, first) == "partially_paid"
    assert first.balance_due == Decimal("100.00")
    second = first.pay(Decimal("100.00"))
    assert payment_outcome(first, second) == "matched"
    assert second.settled and second.credit == 0


def test_an_overpayment_is_kept_as_credit() -> None:
    account = Account(Decimal("100.00")).pay(Decimal("150.00"))
    assert account.balance_due == 0 and account.credit == Decimal("50.00")
    assert payment_outcome(Account(Decimal("100.00")), account) == "overpaid"


def test_a_credit_note_cannot_exceed_what_remains_invoiced() -> None:
    account = Account(Decimal("100.00")).credit_note(Decimal("60.00"))
    with pytest.raises(CreditTooLarge):
        account.credit_note(Decimal("40.01"))
    assert account.credit_note(Decimal("40.00")).settled


def test_crediting_a_paid_invoice_leaves_a_credit_for_the_client() -> None:
    account = Account(Decimal("100.00")).pay(Decimal("100.00")).credit_note(Decimal("30.00"))
    assert account.credit == Decimal("30.00") and account.balance_due == 0


@given(
    cents,
    st.lists(st.tuples(st.sampled_from(["pay", "credit"]), cents), max_size=12),
)
def test_payments_and_credit_notes_always_add_up(total: Decimal, moves: list) -> None:
    account = Account(total)
    paid = credited = Decimal("0")
    for kind, amount in moves:
        if kind == "pay":
            account = account.pay(amount)
            paid += amount
        elif amount <= account.creditable:
            account = account.credit_note(amount)
            credited += amount
        assert account.balance_due >= 0 and account.credit >= 0
        assert not (account.balance_due and account.credit)
        assert total - credited - paid == account.balance_due - account.credit
        assert account.balance_due == account.balance_due.quantize(Decimal("0.01"))


@given(cents, st.sampled_from([Decimal("0.21"), Decimal("0.20"), Decimal("0")]))
def test_a_credited_amount_splits_exactly_into_base_and_vat(amount: Decimal, rate: Decimal) -> None:
    excl, vat = credit_note_split(amount, rate)
    assert excl + vat == amount
    assert abs(excl * rate - vat) <= Decimal("0.01")


def test_a_credit_leaving_the_invoice_lowers_what_was_paid_and_never_below_the_total() -> None:
    overpaid = Account(Decimal("121.00")).pay(Decimal("150.00"))
    left = overpaid.release_credit(Decimal("29.00"))
    assert (left.paid, left.credit, left.balance_due) == (Decimal("121.00"), 0, 0)
    with pytest.raises(CreditTooLarge):
        overpaid.release_credit(Decimal("29.01"))
