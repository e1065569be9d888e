"""The office's rules for 议事: defaults a matter takes when its opener does not say."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.civic.assessment import Plan, default_plan


@dataclass(frozen=True)
class CivicRules:
    """Voting windows, quorum and limits."""

    window_days: int = 7
    window_days_max: int = 60
    # A matter closes at this Beijing hour on its last day (results are read in the evening, not at night).
    close_hour: int = 20
    quorum_pct: int = 50
    options_max: int = 6
    # Cases of these categories in a compound with a property company call the company (its group, its clock).
    property_categories: tuple[str, ...] = ("property_service",)
    # A case's point this near a compound's or building's point is in that compound (no outline drawn).
    place_radius_m: float = 150.0
    # The 五位一体 assessment: rating items, window, weights (the office's YAML file, or the shipped one).
    plan: Plan = field(default_factory=default_plan)
    # The office's language, in which default options ("同意 / 不同意") are written.
    locale: str = "zh-CN"
