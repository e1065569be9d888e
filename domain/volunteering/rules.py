"""The tunables of the volunteering context, each default written once (settings override them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class VolunteeringRules:
    """Check-in, reminders and service orders."""

    # Check-in by location counts within this distance of the activity's place.
    checkin_radius_m: float = 300.0
    # Check-in opens this long before the start; check-out stays open this long after the end.
    checkin_early: timedelta = timedelta(minutes=30)
    checkout_late: timedelta = timedelta(hours=2)
    # Reminders before an activity starts.
    reminders: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))
    # A service order nobody took within this long is flagged to the community's staff.
    order_untaken_minutes: float = 120.0
