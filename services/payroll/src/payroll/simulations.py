"""What will a contract pay? The salary simulation, with the very computation of the real
salary. It reads and writes nothing, so it runs without a transaction and takes the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from smart_shared.clock import Clock
from smart_shared.events import ActivityKind, SalaryBreakdown
from smart_shared.money import Money
from smart_shared.problems import invalid
from smart_shared.rulepacks import UnknownRulePack, branches

from payroll.domain import SIMULATION_HORIZON, SalaryNotPayable, compute_salary, salary_rules


@dataclass(frozen=True)
class SimulateSalary:
    """A contract of this amount, for this kind of activity, in this branch, on a day (today if
    none)."""

    branch: str
    activity_kind: ActivityKind
    amount_excl_vat: Money
    expenses: Money
    on: date | None


def simulate_salary(clock: Clock, command: SimulateSalary) -> SalaryBreakdown:
    """The breakdown the contract would pay, by the branch's rule pack of the day."""
    today = clock.today()
    if command.on and command.on > today + SIMULATION_HORIZON:
        raise invalid("on", f"must be within {SIMULATION_HORIZON.days} days from today")
    try:
        rules = salary_rules(command.branch, command.on or today)
    except UnknownRulePack as missing:
        known_branch = command.on is not None and command.branch in branches()
        raise invalid("on" if known_branch else "branch", str(missing)) from None
    try:
        return compute_salary(rules, command.amount_excl_vat, command.expenses,
                              command.activity_kind)
    except SalaryNotPayable as refused:
        raise invalid(refused.field, refused.message) from None
