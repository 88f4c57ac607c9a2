"""The dunning schedule as a function: (case state, today) → the next step to take."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays
from smart_shared.events.catalogue import ClientKind, ReminderLevel

from collection.domain.rules import LEVELS, DebtorRules


@dataclass(frozen=True)
class TakenStep:
    level: ReminderLevel
    on: date


@dataclass(frozen=True)
class CaseState:
    """What the schedule needs to know about a case."""

    branch: str
    kind: ClientKind
    due_date: date
    steps: tuple[TakenStep, ...] = ()
    paused: bool = False
    closed: bool = False

    @property
    def last_step(self) -> TakenStep | None:
        return self.steps[-1] if self.steps else None

    def taken(self, level: ReminderLevel) -> TakenStep | None:
        return next((step for step in self.steps if step.level == level), None)


@dataclass(frozen=True)
class PlannedStep:
    level: ReminderLevel
    on: date


@cache
def _public_holidays(country: str, year: int) -> frozenset[date]:
    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:
        return frozenset()


def next_working_day(day: date, country: str) -> date:
    """The first Monday-Friday after ``day`` that is not a public holiday in ``country``."""
    candidate = day + timedelta(days=1)
    while candidate.weekday() >= 5 or candidate in _public_holidays(country, candidate.year):
        candidate += timedelta(days=1)
    return candidate


def costs_allowed_from(state: CaseState, rules: DebtorRules) -> date | None:
    """First day a cost may be claimed after the free reminder (None: no waiting rule applies).

    The term starts the working day after the reminder was e-mailed and lasts ``cost_free_days``.
    """
    wait = rules.cost_free_days.value if rules.cost_free_days else 0
    free_reminder = state.taken("reminder_1")
    if not wait or free_reminder is None:
        return None
    return next_working_day(free_reminder.on, state.branch) + timedelta(days=wait)


def planned_step(state: CaseState, rules: DebtorRules) -> PlannedStep | None:
    """The next step of the schedule and the earliest day it may be taken.

    At most one step a day: a schedule that fell behind (a pause, a stopped service) catches up
    one step at a time, so each letter still follows the one before it.
    """
    if state.closed:
        return None
    last = state.last_step
    index = LEVELS.index(last.level) + 1 if last else 0
    if index >= len(LEVELS):
        return None
    level = LEVELS[index]
    on = state.due_date + timedelta(days=rules.schedule.day_of(level))
    if last and on <= last.on:
        on = last.on + timedelta(days=1)
    if rules.claims_costs_at(level):
        allowed = costs_allowed_from(state, rules)
        if allowed and on < allowed:
            on = allowed
    return PlannedStep(level, on)


def step_due(state: CaseState, today: date, rules: DebtorRules) -> ReminderLevel | None:
    """The step to take today, if any: none while a payment plan pauses the case."""
    if state.paused:
        return None
    planned = planned_step(state, rules)
    if planned is None or planned.on > today:
        return None
    return planned.level
