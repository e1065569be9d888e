"""Fixed days, their records, and broadcasts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from domain.org.model import Level


@dataclass(frozen=True)
class FixedDay:
    """A recurring day of the month on which a level meets residents."""

    key: str  # minqing | reception | three_party | …
    days: tuple[int, ...]
    levels: tuple[Level, ...]
    on_holiday: str = "next_workday"  # next_workday | previous_workday | keep


@dataclass
class DayRecord:
    """What a fixed day brought: how many residents came, which matters they raised."""

    id: int
    unit_code: str
    day: date
    kind: str
    received: int
    matters: list[str] = field(default_factory=list)
    filed: list[int] = field(default_factory=list)  # indexes of matters already turned into cases
    recorded_by: int | None = None


@dataclass
class Broadcast:
    """A notice from a street or community to every group under it."""

    id: int
    unit_code: str
    requested_by: int
    text: str
    photo: str | None
    state: str  # draft | sending | reported | cancelled
    created_at: datetime
    audience: list[str] = field(default_factory=list)
