"""Domain events: one context reacts to what happened in another, inside the same unit of work.

A context publishes a fact ("a case was resolved"); the composition subscribes handlers of other contexts
("its reporter earns points"). Handlers run at once, in the publishing transaction, so the reaction commits
or rolls back with the change that caused it; a refusal raised by a handler refuses the whole update.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

E = TypeVar("E")
Handler = Callable[[Any], Awaitable[None]]


@dataclass(frozen=True)
class CaseResolved:
    """A case was resolved (each time; a reopened case resolved again is resolved again)."""

    case_id: int
    number: str
    reporter_id: int
    category: str
    unit_code: str
    by_person: bool = True  # False: another system filed it (Open311); only people earn points


@dataclass(frozen=True)
class AttendanceRecorded:
    """A volunteer's hours for an activity were recorded (check-out, back-fill or a correction)."""

    user_id: int
    activity_id: int
    title: str
    community_code: str
    hours: float  # this change; negative for a correction downwards
    kind: str  # verified | backfill | correction
    points: int  # points this change earns (negative: taken back)
    hours_key: str  # idempotency key of the hours entry
    points_key: str  # idempotency key of the points entry
    operator_id: int | None = None


@dataclass(frozen=True)
class OrderRated:
    """A resident rated the volunteer who took their service order."""

    order_id: int
    volunteer_id: int
    community_code: str | None
    satisfied: bool


@dataclass(frozen=True)
class MatterToFile:
    """A matter raised on a fixed day, to become a case of the unit that recorded it."""

    unit_code: str
    text: str
    recorded_by: int
    record_id: int
    index: int


@dataclass(frozen=True)
class CaseOpened:
    """A case was filed and posted (a property company serving its place may be called to it)."""

    case_id: int
    category: str
    unit_code: str
    reporter_id: int
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class HomeConfirmed:
    """A building head vouched for a resident's home (a building head's service earns points)."""

    home_id: int
    head_id: int
    grid_code: str
    community_code: str | None


@dataclass(frozen=True)
class HeadServed:
    """A building head served a whole month (their service earns points once a month)."""

    head_id: int
    month: str
    community_code: str | None


class EventBus:
    """Synchronous publish/subscribe for one unit of work."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)
        self.published: list[object] = []

    def subscribe(self, event_type: type[E], handler: Callable[[E], Awaitable[None]]) -> None:
        """Run `handler` for every published event of this type."""
        self._handlers[event_type].append(handler)

    async def publish(self, event: object) -> None:
        """Run every handler of the event's type, in subscription order."""
        self.published.append(event)
        for handler in self._handlers[type(event)]:
            await handler(event)
