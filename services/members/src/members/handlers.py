"""Events in: the members service is the source of member facts and consumes no one's events."""

from __future__ import annotations

from smart_shared.consumer import EventHandlers

handlers = EventHandlers()
