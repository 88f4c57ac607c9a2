"""A loan's schedule as its pages show it: each instalment's state and the salaries it was
withheld from."""

from __future__ import annotations

from decimal import Decimal

from portal.repayments import instalment_rows, salaries_withheld, still_due


def entry(number: int, paid: str = "0.00", announced: bool = False,
          withheld_from: list[str] | None = None) -> dict[str, object]:
    return {"number": number, "due_date": f"2026-0{number}-15",
            "amount": {"amount": "100.00", "currency": "EUR"},
            "capital": {"amount": "95.00", "currency": "EUR"},
            "interest": {"amount": "5.00", "currency": "EUR"},
            "balance_after": {"amount": str(300 - 95 * number), "currency": "EUR"},
            "paid": paid, "announced": announced, "withheld_from": withheld_from or []}


def loan(status: str, *schedule: dict[str, object]) -> dict[str, object]:
    return {"loan_id": "L1", "status": status, "schedule": list(schedule)}


SALARIES = {"S1": {"salary_id": "S1", "pay_date": "2026-01-20",
                   "breakdown": {"loan_withheld": {"amount": "100.00", "currency": "EUR"}}},
            "S2": {"salary_id": "S2", "pay_date": "2026-02-20", "breakdown": {}}}


def test_an_instalment_withheld_in_full_names_the_salary_that_paid_it() -> None:
    [row] = instalment_rows(loan("disbursed", entry(1, "100.00", True, ["S1"])), SALARIES)
    assert row.state == "withheld"
    [salary] = row.withheld_from
    assert (salary.salary_id, salary.pay_date, salary.withheld) == (
        "S1", "2026-01-20", Decimal("100.00"))


def test_an_instalment_fallen_due_and_partly_withheld_leaves_the_rest_due() -> None:
    rows = instalment_rows(loan("disbursed", entry(1, "40.00", True, ["S2"]), entry(2)),
                           SALARIES)
    assert [row.state for row in rows] == ["part", "upcoming"]
    assert rows[0].withheld_from[0].withheld is None  # that salary shows no loan withholding
    assert still_due(rows) == Decimal("60.00")


def test_instalments_not_yet_fallen_due_are_to_come_and_fallen_due_ones_are_due() -> None:
    rows = instalment_rows(loan("disbursed", entry(1, announced=True), entry(2), entry(3)))
    assert [row.state for row in rows] == ["due", "upcoming", "upcoming"]
    assert still_due(rows) == Decimal("100.00")
    assert (rows[0].capital, rows[0].interest, rows[0].remaining) == (
        Decimal("95.00"), Decimal("5.00"), Decimal("205"))


def test_a_paid_instalment_without_a_salary_is_paid_and_an_ended_loan_leaves_no_rest_due() -> None:
    repaid = instalment_rows(loan("repaid", entry(1, "100.00", True), entry(2)))
    assert [row.state for row in repaid] == ["paid", "settled"]
    defaulted = instalment_rows(loan("defaulted", entry(1, announced=True), entry(2)))
    assert [row.state for row in defaulted] == ["defaulted", "defaulted"]
    assert still_due(repaid) == still_due(defaulted) == Decimal("0.00")


def test_each_salary_that_paid_the_loan_is_listed_once_in_the_order_it_paid() -> None:
    rows = instalment_rows(loan("disbursed", entry(1, "100.00", True, ["S2", "S1"]),
                                entry(2, "100.00", True, ["S1"])), SALARIES)
    assert [w.salary_id for w in salaries_withheld(rows)] == ["S2", "S1"]


def test_a_loan_not_yet_approved_has_no_schedule() -> None:
    assert instalment_rows({"loan_id": "L1", "status": "applied", "schedule": []}) == []
