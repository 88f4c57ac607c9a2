"""The dunning schedules, walked day by day as the platform's scheduler would."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from collection.domain import CaseState, TakenStep, collection_rules, planned_step, step_due
from collection.domain.rules import Channel
from smart_shared.events.catalogue import ClientKind

BE = collection_rules("BE", date(2026, 1, 1))
FR = collection_rules("FR", date(2026, 1, 1))


def walk(branch: str, kind: ClientKind, due: date, days: int = 220,
         paused_between: tuple[int, int] | None = None,
         channel: Channel = "email") -> list[tuple[str, int]]:
    """Every step taken, as (level, days after the due date), checking once a day."""
    rules = collection_rules(branch, due).for_debtor(kind)
    state = CaseState(branch=branch, kind=kind, due_date=due)
    taken: list[tuple[str, int]] = []
    for offset in range(days + 1):
        today = due + timedelta(days=offset)
        paused = paused_between is not None and paused_between[0] <= offset < paused_between[1]
        state = CaseState(branch, kind, due, state.steps, paused=paused)
        level = step_due(state, today, rules)
        if level:
            state = CaseState(branch, kind, due, (*state.steps, TakenStep(level, today, channel)))
            taken.append((level, offset))
    return taken


def test_business_debtor_is_reminded_at_7_21_35_60_and_written_off_at_180() -> None:
    assert walk("BE", "business", date(2026, 3, 2)) == [
        ("reminder_1", 7), ("reminder_2", 21), ("formal_notice", 35),
        ("legal_handover", 60), ("write_off_proposed", 180),
    ]


def test_business_schedule_ignores_weekends_and_holidays() -> None:
    assert walk("BE", "business", date(2026, 3, 27)) == [
        ("reminder_1", 7), ("reminder_2", 21), ("formal_notice", 35),
        ("legal_handover", 60), ("write_off_proposed", 180),
    ]


def test_art_xix_2_consumer_gets_the_free_reminder_then_14_days_from_the_next_day() -> None:
    # reminder 1 e-mailed on Monday 9 March; the term runs 10 to 23 March; costs from 24 March
    assert walk("BE", "consumer", date(2026, 3, 2)) == [
        ("reminder_1", 7), ("reminder_2", 22), ("formal_notice", 35),
        ("legal_handover", 60), ("write_off_proposed", 180),
    ]


def test_art_xix_2_an_emailed_reminder_term_starts_the_next_calendar_day_even_a_saturday() -> None:
    # reminder 1 e-mailed on Friday 13 March; the term runs 14 to 27 March; costs from 28 March
    assert walk("BE", "consumer", date(2026, 3, 6))[:2] == [("reminder_1", 7), ("reminder_2", 22)]


def test_art_xix_2_a_posted_reminder_term_starts_the_third_working_day_after_it_is_sent() -> None:
    # reminder 1 posted on Friday 13 March; third working day Wednesday 18 March; the term
    # runs 18 to 31 March; costs from 1 April
    assert walk("BE", "consumer", date(2026, 3, 6), channel="post")[:2] == [
        ("reminder_1", 7), ("reminder_2", 26)]


def test_art_xix_2_a_posted_reminder_term_skips_easter_monday() -> None:
    # reminder 1 posted on Friday 3 April 2026; Easter Monday 6 April; third working day
    # Thursday 9 April; the term runs 9 to 22 April; costs from 23 April
    assert walk("BE", "consumer", date(2026, 3, 27), channel="post")[:2] == [
        ("reminder_1", 7), ("reminder_2", 27)]


@pytest.mark.parametrize("kind", ["business", "consumer"])
def test_france_follows_its_own_schedule(kind: ClientKind) -> None:
    assert walk("FR", kind, date(2026, 3, 2)) == [
        ("reminder_1", 10), ("reminder_2", 25), ("formal_notice", 40),
        ("legal_handover", 75), ("write_off_proposed", 180),
    ]


def test_nothing_happens_before_the_first_reminder_day() -> None:
    state = CaseState("BE", "business", date(2026, 3, 2))
    for offset in range(7):
        assert step_due(state, date(2026, 3, 2) + timedelta(days=offset), BE.business) is None
    assert step_due(state, date(2026, 3, 9), BE.business) == "reminder_1"


def test_a_pause_holds_the_schedule_and_it_catches_up_one_step_a_day() -> None:
    steps = walk("BE", "business", date(2026, 3, 2), paused_between=(10, 50))
    assert steps == [
        ("reminder_1", 7), ("reminder_2", 50), ("formal_notice", 51),
        ("legal_handover", 60), ("write_off_proposed", 180),
    ]


def test_a_closed_case_plans_nothing() -> None:
    state = CaseState("BE", "business", date(2026, 3, 2), closed=True)
    assert planned_step(state, BE.business) is None


def test_after_the_write_off_step_nothing_is_left() -> None:
    due = date(2026, 3, 2)
    steps = tuple(TakenStep(level, due + timedelta(days=d)) for level, d in
                  walk("BE", "business", due))
    assert planned_step(CaseState("BE", "business", due, steps), BE.business) is None


def test_schedule_days_come_from_the_rule_pack_with_sources() -> None:
    assert BE.business.schedule.formal_notice.value == 35
    assert "2 August 2002" in BE.business.fixed_compensation.source  # type: ignore[union-attr]
    assert FR.business.fixed_compensation.value == 40  # type: ignore[union-attr]
