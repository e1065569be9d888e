"""Units of the hierarchy and the channels (working groups) bound to them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class Level(enum.StrEnum):
    """Level of an administrative unit, top to bottom."""

    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    # A functional department (城管, 市场监管, 燃气 …) the street can call to a case (吹哨报到); it hangs
    # under a street but is not a step of the grid → community → street ladder.
    DEPARTMENT = "department"


LEVEL_ORDER = (Level.GRID, Level.COMMUNITY, Level.STREET)


@dataclass
class Unit:
    """A street, community or grid; grids carry a polygon (GeoJSON geometry)."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    geometry: dict[str, Any] | None = None


@dataclass(frozen=True)
class ChannelRef:
    """A unit's working group on some platform; the address is the platform's own (opaque to the domain)."""

    platform: str
    address: str


@dataclass(frozen=True)
class AuditEntry:
    """One action taken in the staff console: who, when, what, on what."""

    user_id: int
    at: datetime
    action: str
    target: str
    detail: str
