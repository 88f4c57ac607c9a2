"""The ledger balances, respects its floors and books each fact once, whatever happens."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fund.domain import (
    ACCOUNTS,
    FloorBreached,
    Guarantee,
    GuaranteeReserveNeeded,
    Ledger,
    Transfer,
    balances_from,
    capital_injection,
    contribution,
    is_balanced,
    lendable,
    post_in_order,
    zero_balances,
)
from fund.domain.loan import disbursement
from hypothesis import given, settings
from hypothesis import strategies as st

BRANCH = "BE"
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("20000"), places=2)


def test_a_transfer_must_move_a_positive_amount_in_cents() -> None:
    with pytest.raises(ValueError):
        Transfer(id="x", branch=BRANCH, kind="capital", amount=Decimal("0"))
    with pytest.raises(ValueError):
        Transfer(id="x", branch=BRANCH, kind="capital", amount=Decimal("1.001"))


def test_the_free_balance_cannot_go_below_zero() -> None:
    ledger = Ledger()
    ledger.book(capital_injection(BRANCH, "k", Decimal("100.00")))
    guarantee = Guarantee("c1", BRANCH, "m1", "client", True, Decimal("100.01"))
    with pytest.raises(FloorBreached):
        for transfer in guarantee.reserve():
            ledger.book(transfer)
    assert ledger.balance(BRANCH, "free") == Decimal("100.00")
    assert ledger.balance(BRANCH, "reserved") == Decimal("0.00")


def test_booking_the_same_transfer_twice_books_it_once() -> None:
    ledger = Ledger()
    injection = capital_injection(BRANCH, "k", Decimal("50.00"))
    assert ledger.book(injection) is True
    assert ledger.book(injection) is False
    assert ledger.balance(BRANCH, "free") == Decimal("50.00")


def test_grant_advance_recover_returns_the_money_and_books_the_contribution() -> None:
    ledger = Ledger()
    ledger.book(capital_injection(BRANCH, "seed", Decimal("10000.00")))
    guarantee = Guarantee("c1", BRANCH, "m1", "client", True, Decimal("935.00"))
    for transfer in guarantee.reserve():
        ledger.book(transfer)
    assert (ledger.balance(BRANCH, "free"), ledger.balance(BRANCH, "reserved")) == (
        Decimal("9065.00"), Decimal("935.00"))
    for transfer in guarantee.advance("s1"):
        ledger.book(transfer)
    assert ledger.balance(BRANCH, "advances") == Decimal("935.00")
    assert ledger.balance(BRANCH, "reserved") == Decimal("0.00")
    recovered, transfers = guarantee.settle_payment("i1")
    for transfer in transfers + contribution(BRANCH, "i1", "c1", Decimal("10.00")):
        ledger.book(transfer)
    assert recovered == Decimal("935.00")
    assert ledger.balance(BRANCH, "free") == Decimal("10010.00")
    assert ledger.balance(BRANCH, "contributions") == Decimal("10.00")
    assert is_balanced(ledger.balances[BRANCH])


def test_paid_before_the_salary_is_due_means_no_advance() -> None:
    guarantee = Guarantee("c1", BRANCH, "m1", "client", True, Decimal("935.00"))
    guarantee.reserve()
    recovered, transfers = guarantee.settle_payment("i1")
    assert recovered == 0 and [t.kind for t in transfers] == ["release"]
    assert guarantee.advance("s1") == []
    assert guarantee.exposure == 0


def test_written_off_before_the_salary_is_due_becomes_a_loss_once_advanced() -> None:
    guarantee = Guarantee("c1", BRANCH, "m1", "client", True, Decimal("935.00"))
    guarantee.reserve()
    assert guarantee.write_off() == []
    kinds = [t.kind for t in guarantee.advance("s1")]
    assert kinds == ["advance", "loss"]
    assert guarantee.lost == Decimal("935.00") and guarantee.exposure == 0


def test_a_smaller_salary_cost_releases_the_rest_of_the_reservation() -> None:
    guarantee = Guarantee("c1", BRANCH, "m1", "client", True, Decimal("935.00"))
    guarantee.reserve()
    transfers = guarantee.advance("s1", Decimal("900.00"))
    assert [(t.kind, t.amount) for t in transfers] == [
        ("advance", Decimal("900.00")), ("release", Decimal("35.00"))]


Step = st.tuples(
    st.sampled_from(["capital", "grant", "advance", "pay", "cancel", "write_off", "replay"]),
    st.integers(min_value=0, max_value=5),
    money,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(Step, max_size=60))
def test_any_sequence_keeps_the_ledger_balanced_above_its_floors_and_idempotent(
    steps: list[tuple[str, int, Decimal]],
) -> None:
    ledger = Ledger()
    guarantees: dict[str, Guarantee] = {}
    booked: list[Transfer] = []

    def book(transfers: list[Transfer]) -> None:
        for transfer in transfers:
            if ledger.book(transfer):
                booked.append(transfer)

    for number, (action, index, amount) in enumerate(steps):
        contract = f"c{index}"
        guarantee = guarantees.get(contract)
        if action == "capital":
            book([capital_injection(BRANCH, f"k{number}", amount)])
        elif action == "grant" and guarantee is None:
            granted = ledger.balance(BRANCH, "free") >= amount  # the decision's fund rule
            guarantee = Guarantee(contract, BRANCH, "m", "client", granted, amount)
            guarantees[contract] = guarantee
            book(guarantee.reserve())
        elif guarantee is not None and action == "advance":
            book(guarantee.advance(f"s{index}"))
        elif guarantee is not None and action == "pay":
            _, transfers = guarantee.settle_payment(f"i{index}")
            book(transfers + contribution(BRANCH, f"i{index}", contract, amount))
        elif guarantee is not None and action == "cancel":
            book(guarantee.cancel())
        elif guarantee is not None and action == "write_off":
            book(guarantee.write_off())
        elif action == "replay" and booked:
            before = {b: dict(v) for b, v in ledger.balances.items()}
            assert ledger.book(booked[int(amount * 100) % len(booked)]) is False
            assert ledger.balances == before

        balances = ledger.balances.get(BRANCH)
        if balances is None:
            continue
        assert is_balanced(balances)
        assert all(balances[account] >= 0 for account in ACCOUNTS)
        assert balances == balances_from(booked)
        # the reserved account is the sum of pending reservations, advances the per-contract
        # sub-ledger
        assert balances["reserved"] == sum((g.reserved for g in guarantees.values()), Decimal(0))
        assert balances["advances"] == sum(
            (g.outstanding_advance for g in guarantees.values()), Decimal(0))
        assert balances["losses"] == sum(
            (g.lost - g.loss_recovered for g in guarantees.values()), Decimal(0))


def test_every_floor_holds_after_each_transfer_of_a_batch_not_only_at_the_end() -> None:
    balances = {BRANCH: {**zero_balances(), "free": Decimal("100.00"),
                         "capital": Decimal("100.00")}}
    before = {BRANCH: dict(balances[BRANCH])}
    # released then reserved again: the reserved account would end where it started, but it
    # would go below zero on the way
    transfers = [
        Transfer(id="release:c1", branch=BRANCH, kind="release", amount=Decimal("50.00")),
        Transfer(id="reserve:c1", branch=BRANCH, kind="reserve", amount=Decimal("50.00")),
    ]
    with pytest.raises(FloorBreached, match="BE reserved"):
        post_in_order(transfers, balances)
    assert balances == before
    post_in_order(list(reversed(transfers)), balances)
    assert balances == before


def test_a_loan_may_use_only_the_free_balance_beyond_what_the_guarantees_need() -> None:
    ledger = Ledger()
    ledger.book(capital_injection(BRANCH, "seed", Decimal("10000.00")))
    guarantee = Guarantee("c1", BRANCH, "m1", "client", True, Decimal("3000.00"))
    for transfer in guarantee.reserve():
        ledger.book(transfer)
    balances = ledger.balances[BRANCH]
    assert lendable(balances) == Decimal("4000.00")  # 7,000 free less the 3,000 reserved
    with pytest.raises(GuaranteeReserveNeeded):
        disbursement(BRANCH, "loan-1", Decimal("4000.01"), balances)
    ledger.book(disbursement(BRANCH, "loan-1", Decimal("4000.00"), balances))
    assert ledger.balance(BRANCH, "loans") == Decimal("4000.00")
    assert ledger.balance(BRANCH, "free") == ledger.balance(BRANCH, "reserved")
    assert lendable(ledger.balances[BRANCH]) == Decimal("0.00")
    assert is_balanced(ledger.balances[BRANCH])


def test_an_instalment_repaid_brings_back_capital_and_books_the_interest_as_income() -> None:
    ledger = Ledger()
    ledger.book(capital_injection(BRANCH, "seed", Decimal("1000.00")))
    ledger.book(disbursement(BRANCH, "loan-1", Decimal("600.00"), ledger.balances[BRANCH]))
    ledger.book(Transfer("repayment:loan-1:1", BRANCH, "repayment", Decimal("98.50")))
    ledger.book(Transfer("loan_interest:loan-1:1", BRANCH, "loan_interest", Decimal("2.50")))
    assert ledger.balance(BRANCH, "loans") == Decimal("501.50")
    assert ledger.balance(BRANCH, "interest") == Decimal("2.50")
    assert ledger.balance(BRANCH, "free") == Decimal("501.00")
    assert is_balanced(ledger.balances[BRANCH])
