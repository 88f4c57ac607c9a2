"""Activities: what a member does, and the joint committee whose rules apply to it."""

from __future__ import annotations

from smart_shared.events.catalogue import Activity

from members.domain.errors import RuleBroken

PERFORMING_ARTS = "304"
DEFAULT_COMMITTEE = "200"
JOINT_COMMITTEES = (PERFORMING_ARTS, DEFAULT_COMMITTEE)
MAX_ACTIVITIES = 10


def normalise_name(name: str) -> str:
    """Activity names are compared and filtered in lower case with single spaces."""
    return " ".join(name.split()).lower()


def validate_activities(activities: list[Activity], field: str = "activities") -> list[Activity]:
    """At least one activity, at most ten, each named once, each with a known joint committee."""
    if not activities:
        raise RuleBroken.on(field, "a member needs at least one activity")
    if len(activities) > MAX_ACTIVITIES:
        raise RuleBroken.on(field, f"at most {MAX_ACTIVITIES} activities")
    errors: list[tuple[str, str]] = []
    seen: set[str] = set()
    result = []
    for index, activity in enumerate(activities):
        name = normalise_name(activity.name)
        if not name:
            errors.append((f"{field}.{index}.name", "must not be empty"))
        elif name in seen:
            errors.append((f"{field}.{index}.name", f"{name!r} is listed twice"))
        if activity.joint_committee not in JOINT_COMMITTEES:
            errors.append((f"{field}.{index}.joint_committee",
                           f"must be one of {', '.join(JOINT_COMMITTEES)}"))
        seen.add(name)
        result.append(activity.model_copy(update={"name": name}))
    if errors:
        raise RuleBroken(errors)
    return result
