"""The lines of each ledger, as plain values (a front end turns them into Excel sheets or web tables)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class CaseLine:
    """One case of the month, with what happened to it."""

    number: str
    received_at: datetime
    category: str
    description: str
    address: str | None
    lat: float | None
    lon: float | None
    origin_unit: str
    unit: str
    state: str
    urgent: bool
    reporter_role: str
    claimed_at: datetime | None = None
    claimed_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolve_due: datetime | None = None
    on_time: bool | None = None
    rating: str | None = None
    reopen_count: int = 0
    escalated: bool = False
    departments: tuple[str, ...] = field(default_factory=tuple)
    followers: int = 0
    close_reason: str | None = None


@dataclass(frozen=True)
class HoursLine:
    """Service hours booked to a person in the month."""

    at: datetime
    person: str
    community: str | None
    activity: str | None
    hours: float
    kind: str
    operator: str | None
    community_code: str | None = None


@dataclass(frozen=True)
class PointsLine:
    """One row of the points ledger."""

    at: datetime
    person: str
    community: str | None
    kind: str
    amount: int
    reason: str
    operator: str | None
    community_code: str | None = None
    ref: str | None = None  # what the points were for: case:<id> (a report), activity:<id>, …


@dataclass(frozen=True)
class ActivityLine:
    """An activity held in the month, with its attendance."""

    start: datetime
    title: str
    community: str
    place: str
    team: str | None
    capacity: int
    signed_up: int
    waitlisted: int
    attended: int
    no_show: int
    hours: float


@dataclass(frozen=True)
class TeamLine:
    """A volunteer team, its people, and what it did in the month."""

    community: str
    name: str
    leader: str | None
    members: int
    activities: int
    hours: float


@dataclass(frozen=True)
class RedemptionLine:
    """One redemption in a credit supermarket."""

    at: datetime
    code: str
    item: str
    price: int
    person: str
    community: str
    state: str
    closed_at: datetime | None
    closed_by: str | None
    community_code: str | None = None


@dataclass(frozen=True)
class RequestLine:
    """A case as another system sees it (Open311 GeoReport v2): no reporter, numbers masked."""

    number: str
    category: str
    description: str
    unit: str
    state: str
    close_reason: str | None
    requested_at: datetime
    updated_at: datetime
    resolve_due: datetime | None
    lat: float | None
    lon: float | None
    address: str | None
    photo: str | None = None  # the report's photo (a Telegram file id or a stored one); shown as a link


@dataclass(frozen=True)
class UpdateLine:
    """One step of a case's timeline, for systems following progress (mySociety's servicerequestupdates)."""

    update_id: int
    number: str
    action: str
    state: str
    at: datetime
    note: str | None
    detail: object = None  # the step's detail in words, as far as the public may read it
    category: str = ""
    photo: str | None = None  # the step's photo (a resolve's), shown as a link


@dataclass(frozen=True)
class RequestQuery:
    """Open311's filters on requests."""

    numbers: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    open_states: bool | None = None  # True: open only, False: closed only
    limit: int = 1000


@dataclass(frozen=True)
class ApiClient:
    """A system allowed to file requests, known by the hash of its key."""

    name: str
    user_id: int
    created_at: datetime
    revoked: bool = False


@dataclass(frozen=True)
class CaseFilter:
    """The list's filters; `before_id` pages backwards through ids (fast at any depth)."""

    states: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    unit: str | None = None
    urgent: bool | None = None
    overdue: bool = False
    start: datetime | None = None
    end: datetime | None = None
    text: str = ""
    before_id: int | None = None
    limit: int = 50
