"""The tunables of the cases context, each default written once (settings override them)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import timedelta

from domain.cases.sla import Policy, load_policy
from domain.cases.urgency import EmergencyNumbers
from domain.kernel.workdays import WorkCalendar
from domain.org.model import Level


@functools.cache
def default_policy() -> Policy:
    """The shipped service-level policy (read once)."""
    return load_policy(None)


@dataclass(frozen=True)
class CaseRules:
    """Routing and listening rules."""

    # Categories handled above the grid: disputes go to the community's mediators by default.
    category_levels: dict[str, Level] = field(default_factory=lambda: {"neighbor_dispute": Level.COMMUNITY})
    # A point in no grid goes to the nearest community within this distance, else the street within the next.
    community_radius_m: float = 1500.0
    street_radius_m: float = 5000.0
    # In groups, an author is offered to file a message at most once per this long.
    offer_cooldown: timedelta = timedelta(minutes=30)
    # Deadlines: the service-level policy and the working-day calendar.
    policy: Policy = field(default_factory=default_policy)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    # Danger to life: whom to call first (an office sets its gas company's line).
    emergency: EmergencyNumbers = field(default_factory=EmergencyNumbers)
