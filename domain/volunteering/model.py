"""Volunteers, teams, activities, sign-ups and service orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class Volunteer:
    """A volunteer's registration."""

    user_id: int
    phone: str | None = None
    real_name: str | None = None
    community_code: str | None = None
    team_id: int | None = None
    state: str = "draft"
    step: str | None = "phone"

    @property
    def active(self) -> bool:
        """Approved and not deactivated."""
        return self.state == "active"


@dataclass
class Team:
    """A volunteer team of a community."""

    id: int
    community_code: str
    name: str
    leader_id: int | None


@dataclass
class Activity:
    """A published activity."""

    id: int
    community_code: str
    title: str
    description: str
    place: str
    lat: float | None
    lon: float | None
    start: datetime
    end: datetime
    capacity: int
    taken: int
    points_rule: str
    points: int
    team: str | None
    signup_cutoff_hours: float
    checkin_code: str
    state: str = "published"

    @property
    def seats_left(self) -> int:
        """Free confirmed seats."""
        return max(0, self.capacity - self.taken)

    @property
    def length_hours(self) -> float:
        """Scheduled length, the cap on hours credited."""
        return (self.end - self.start).total_seconds() / 3600


@dataclass
class Signup:
    """A person's place in an activity."""

    id: int
    activity_id: int
    user_id: int
    state: str
    checkin_at: datetime | None = None
    checkout_at: datetime | None = None
    hours: float | None = None


@dataclass
class ServiceOrder:
    """A resident's request for help."""

    id: int
    requester_id: int
    what: str
    state: str
    community_code: str | None = None
    when_text: str | None = None
    volunteer_id: int | None = None
    rating: str | None = None
