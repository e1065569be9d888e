"""Cases, drafts and what the classifier made of a text."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from domain.kernel.people import Role
from domain.kernel.rating import Rating

CATEGORIES: tuple[str, ...] = (
    "fire_safety",
    "road_traffic",
    "public_facility",
    "environment",
    "parking",
    "building_safety",
    "property_service",
    "neighbor_dispute",
    "other",
)

INTENTS: tuple[str, ...] = (
    "report_issue",
    "service_request",
    "volunteer_signup",
    "activity_list",
    "points_query",
    "points_redeem",
    "report_status",
    "greet",
    "help",
    "out_of_scope",
)

# Longest description, note or group message taken in; longer texts are refused politely, not cut.
MAX_TEXT = 2000


class CaseState(enum.StrEnum):
    """Life cycle of a case."""

    NEW = "new"
    CLAIMED = "claimed"
    ON_SITE = "on_site"
    RESOLVED = "resolved"
    CLOSED = "closed"


@dataclass
class Classification:
    """What the classifier made of a text."""

    intent: str
    confidence: float
    category: str | None = None
    category_confidence: float = 0.0
    ranking: list[tuple[str, float]] = field(default_factory=list)
    category_ranking: list[tuple[str, float]] = field(default_factory=list)
    model_version: str = ""
    # Below the calibrated thresholds the bot asks instead of guessing.
    intent_sure: bool = True
    category_sure: bool = True
    place_hint: str | None = None
    entities: list[tuple[str, str]] = field(default_factory=list)
    # How much a message reads as a report rather than chat, for offers in groups (None: use the intent).
    report_score: float | None = None
    # The hazards to life the classifier reads in it (fire, gas …), beside the lexicon's (domain.cases.danger):
    # sure enough to act on alone (emergency numbers, an urgent draft) …
    danger: tuple[str, ...] = ()
    # … and enough to offer in a group, where the other choice is silence.
    danger_hint: tuple[str, ...] = ()


@dataclass
class Draft:
    """A report being put together in a private chat; persisted so nothing sent is lost."""

    user_id: int
    text: str | None = None
    photo_file_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    unit_code: str | None = None
    category: str | None = None
    confidence: float | None = None
    model_version: str | None = None
    candidates: list[str] | None = None
    place_hint: str | None = None
    # None: nobody decided; the reporter's 🔥 tap (or what the words suggest) sets it.
    urgent: bool | None = None
    # Telegram's id of the photo's file (the same file sent again has the same id): catches a resent photo.
    photo_unique_id: str | None = None
    # 代报: the resident a building head is reporting for.
    on_behalf: str | None = None

    @property
    def has_place(self) -> bool:
        """A location or a chosen unit fixes the place."""
        return (self.lat is not None and self.lon is not None) or self.unit_code is not None

    @property
    def has_description(self) -> bool:
        """Text, or a photo with a category chosen, describes the problem."""
        return bool(self.text) or (self.photo_file_id is not None and self.category is not None)


@dataclass
class LabelledExample:
    """A text with the label a person gave it (a clarification tap or a staff correction)."""

    text: str
    source: str
    intent: str | None = None
    category: str | None = None
    user_id: int | None = None
    case_id: int | None = None
    model_version: str | None = None
    predicted_intent: str | None = None
    predicted_category: str | None = None
    id: int = 0


@dataclass
class GroupOffer:
    """A group message the bot offered to turn into a report for its author."""

    id: int
    unit_code: str
    user_id: int
    text: str
    photo_file_id: str | None
    state: str


@dataclass
class Case:
    """A handled report."""

    id: int
    number: str
    reporter_id: int
    reporter_role: Role
    description: str
    category: str
    unit_code: str
    state: CaseState
    rev: int
    created_at: datetime
    photo_file_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    fallback: bool = False
    confidence: float | None = None
    model_version: str | None = None
    assignee_id: int | None = None
    reopen_count: int = 0
    rating: Rating | None = None
    urgent: bool = False
    photo_unique_id: str | None = None
    merged_into: int | None = None
    # Why a closed case closed: rated, unrated (no rating after the follow-up time), merged.
    close_reason: str | None = None
    # The unit it was first sent to: monthly figures count it there, wherever it went since.
    origin_unit: str | None = None
    # 代报: who a building head filed it for (a name and flat, masked); shown to staff only.
    on_behalf: str | None = None


@dataclass
class Deadline:
    """A clock running on a case: claim, on site, resolve, escalate, follow-up, a department's report-in."""

    id: int
    case_id: int
    kind: str
    started_at: datetime
    due_at: datetime
    state: str = "open"  # open | met | missed | cancelled
    reminders_sent: int = 0
    estimated: bool = False
    paused_at: datetime | None = None
    ref: str = ""  # the department of a report-in deadline
    next_at: datetime | None = None  # the next moment something is due (a reminder or the deadline)
    working: bool = False  # counted in working time: its reminders fall in office hours, not at night

    def verdict(self, at: datetime) -> str:
        """Met or missed for the action that stops this clock at `at`: decided against the due time at the moment
        of the action, never by when a sweeper happened to run (time while paused does not count)."""
        if self.state in ("met", "missed"):
            return self.state
        counted = self.paused_at if self.paused_at is not None and self.paused_at < at else at
        return "met" if counted <= self.due_at else "missed"


@dataclass
class CaseEvent:
    """One recorded transition of a case."""

    case_id: int
    actor_id: int | None
    at: datetime
    from_state: CaseState | None
    to_state: CaseState
    action: str
    note: str | None = None
    photo_file_id: str | None = None


@dataclass
class DepartmentCall:
    """A department called to a case (吹哨): when it reported in, what it did, whether its part is done."""

    case_id: int
    department: str
    called_at: datetime
    called_by: int | None
    note: str = ""
    state: str = "called"  # called | reported | done | missed
    reported_at: datetime | None = None
    done_at: datetime | None = None
    done_note: str | None = None
