"""The dunning schedule as a function: (case state, today) → the next step to take."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from smart_shared.events.catalogue import ClientKind, ReminderLevel
from smart_shared.workdays import working_days_after

from collection.domain.rules import LEVELS, Channel, DebtorRules, TermStart


@dataclass(frozen=True)
class TakenStep:
    level: ReminderLevel
    on: date
    channel: Channel = "email"


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


def free_term_starts(sent_on: date, channel: Channel, start: TermStart) -> date:
    """First day of the free reminder's term (art. XIX.2 §1): the calendar day after an
    e-mailed reminder, the third working day after a posted one."""
    if channel == "post":
        return working_days_after(sent_on, start.post_working_days.value,
                                  start.holiday_calendar.value)
    return sent_on + timedelta(days=start.email_calendar_days.value)


def pay_by(level: ReminderLevel, sent_on: date, channel: Channel,
           rules: DebtorRules) -> date | None:
    """The last day the letter of ``level`` sent on ``sent_on`` gives the debtor to pay.

    The free first reminder to a Belgian consumer: the last of its ``cost_free_days`` calendar
    days; any other letter: ``pay_within_days`` after the day it is sent; None for a letter
    that asks for nothing by a date.
    """
    wait = rules.cost_free_days.value if rules.cost_free_days else 0
    if level == "reminder_1" and wait and rules.term_starts is not None:
        return free_term_starts(sent_on, channel, rules.term_starts) + timedelta(days=wait - 1)
    days = rules.pay_within_days.days_for(level)
    return None if days is None else sent_on + timedelta(days=days)


def costs_allowed_from(state: CaseState, rules: DebtorRules) -> date | None:
    """First day a cost may be claimed after the free reminder (None: no waiting rule applies):
    the day after its term's last day."""
    wait = rules.cost_free_days.value if rules.cost_free_days else 0
    free_reminder = state.taken("reminder_1")
    if not wait or free_reminder is None:
        return None
    if rules.term_starts is None:
        return free_reminder.on + timedelta(days=wait + 1)
    last = pay_by("reminder_1", free_reminder.on, free_reminder.channel, rules)
    assert last is not None
    return last + timedelta(days=1)


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
