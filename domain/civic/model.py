"""Places people live in, their homes, building heads, and matters put to the residents (议事)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Compound:
    """A residential compound (小区): in one grid, served by a property company (a unit code) or none."""

    code: str
    name: str
    grid_code: str
    property_code: str | None = None
    geometry: dict[str, Any] | None = None


@dataclass(frozen=True)
class Building:
    """A building (楼栋) of a compound."""

    code: str
    name: str
    compound_code: str
    geometry: dict[str, Any] | None = None


class HomeState(enum.StrEnum):
    """Where a registered home stands."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REFUSED = "refused"


@dataclass
class Home:
    """A person's home as they registered it: building, unit (单元) and room."""

    id: int
    user_id: int
    building_code: str
    entrance: str
    room: str
    state: HomeState
    created_at: datetime
    decided_by: int | None = None

    @property
    def household(self) -> str:
        """The household's key: one flat, whoever lives in it."""
        return f"{self.building_code}/{self.entrance}/{self.room}"


class ScopeLevel(enum.StrEnum):
    """Whose homes make a person eligible."""

    BUILDING = "building"
    COMPOUND = "compound"
    GRID = "grid"
    COMMUNITY = "community"


class MatterState(enum.StrEnum):
    """A matter's life: proposed by a resident → open for votes → closed (counted) → decided; or declined."""

    PROPOSED = "proposed"
    DECLINED = "declined"
    OPEN = "open"
    CLOSED = "closed"
    DECIDED = "decided"


class Per(enum.StrEnum):
    """One vote per person, or per household (flat)."""

    PERSON = "person"
    HOUSEHOLD = "household"


@dataclass
class Matter:
    """A matter put to the residents (议事): what, the options, who may vote, the window, the quorum."""

    id: int
    title: str
    body: str
    unit_code: str  # the unit whose staff run it (a grid or community; where it is posted)
    state: MatterState
    created_at: datetime
    options: list[str] = field(default_factory=list)
    scope_level: ScopeLevel = ScopeLevel.GRID
    scope_code: str = ""
    per: Per = Per.PERSON
    quorum_pct: int = 50
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    proposer_id: int | None = None
    opened_by: int | None = None
    answer: str = ""  # why a proposal was not put to a vote
    counts: dict[str, int] = field(default_factory=dict)
    eligible: int = 0
    decision: str = ""
    decided_by: int | None = None

    @property
    def turnout(self) -> int:
        """Votes counted."""
        return sum(self.counts.values())

    @property
    def quorum_met(self) -> bool:
        """Enough of the eligible took part (a matter with nobody eligible never meets it)."""
        return self.eligible > 0 and self.turnout * 100 >= self.quorum_pct * self.eligible


@dataclass(frozen=True)
class FollowUp:
    """One action a decision calls for, filed as a case with its own clock."""

    matter_id: int
    index: int
    text: str
    case_id: int | None = None
    case_number: str = ""


@dataclass(frozen=True)
class CaseBrief:
    """A case as a building head may see it: what, where, how far along; never who reported it."""

    number: str
    category: str
    state: str
    description: str
    lat: float | None
    lon: float | None
    reporter_id: int
    unit_code: str


@dataclass(frozen=True)
class RatingRound:
    """One compound's residents' rating of its property company in one quarter."""

    id: int
    quarter: str
    compound_code: str
    company_code: str
    opens_at: datetime
    closes_at: datetime
    state: str = "open"  # open | closed


@dataclass(frozen=True)
class RatingAnswer:
    """One resident's answer: a score 1–5 per item and a comment (never shown with their name)."""

    round_id: int
    user_id: int
    scores: dict[str, int]
    comment: str
    at: datetime


@dataclass(frozen=True)
class Check:
    """A spot check (period 2026-11) by the housing department, or a yearly review (period 2026) by a community."""

    company_code: str
    kind: str  # spot | review
    period: str
    score: float
    note: str
    by: int
    at: datetime
