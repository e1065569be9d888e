"""Domain objects: plain dataclasses shared by services, repositories and handlers."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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


class Level(enum.StrEnum):
    """Level of an administrative unit, top to bottom."""

    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"


class Role(enum.StrEnum):
    """How a reporter is shown to staff: never by name, only by role."""

    RIDER = "rider"
    RESIDENT = "resident"


class CaseState(enum.StrEnum):
    """Life cycle of a case."""

    NEW = "new"
    CLAIMED = "claimed"
    ON_SITE = "on_site"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Rating(enum.StrEnum):
    """The reporter's verdict on a resolved case."""

    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"


@dataclass(frozen=True)
class UserRef:
    """A person as the outside world names them: platform plus that platform's id."""

    platform: str
    external_id: str


@dataclass
class User:
    """A known person."""

    id: int
    ref: UserRef
    display_name: str
    role: Role | None = None
    locale: str = "zh-CN"
    private_chat_id: int | None = None
    username: str | None = None


@dataclass
class Unit:
    """A street, community or grid; grids carry a polygon (GeoJSON geometry)."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    geometry: dict[str, Any] | None = None
    chat_id: int | None = None


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
    prompt_outbox_id: int | None = None
    candidates: list[str] | None = None
    place_hint: str | None = None

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
    chat_id: int
    user_id: int
    text: str
    photo_file_id: str | None
    state: str
    offer_outbox_id: int | None = None


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
    post_outbox_id: int | None = None
    reopen_count: int = 0
    rating: Rating | None = None


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


@dataclass(frozen=True)
class Button:
    """An inline button: either a callback (`cb` = (prefix, fields)) or a URL."""

    text: str
    cb: tuple[str, dict[str, Any]] | None = None
    url: str | None = None


@dataclass
class OutMessage:
    """A message the domain wants delivered; the outbox stores it and a sender renders it."""

    chat_id: int
    text: str
    photo: str | None = None
    buttons: list[list[Button]] = field(default_factory=list)
    reply_keyboard: list[list[str]] | None = None
    request_location: str | None = None
    request_contact: str | None = None
    remove_keyboard: bool = False
    force_reply: bool = False
    reply_to_outbox_id: int | None = None
    edit_outbox_id: int | None = None
    reply_to_message_id: int | None = None
    # Rendered at send time (a star certificate PNG): {"name", "level", "hours"}.
    certificate: dict[str, object] | None = None
    # Deliver no earlier than this (reminders); until then it does not hold up its chat.
    not_before: datetime | None = None
