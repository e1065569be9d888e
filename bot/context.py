"""The one place settings become a domain Context (per update, and for CLI jobs alike)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.config import Settings
from domain.model import Level, UserRef
from domain.ports import Repos
from domain.services import Context, GeoCache

ContextFactory = Callable[[Repos, "str | None"], Context]


def context_factory(
    settings: Settings, clock: Callable[[], datetime], geo: GeoCache | None = None, classifier: object = None
) -> ContextFactory:
    """A function (repos, bot username) → Context configured from settings."""
    geo = geo or GeoCache(settings.community_radius_m, settings.street_radius_m)
    admins = frozenset(UserRef("telegram", str(i)) for i in settings.admin_ids)
    levels = {c: Level(v) for c, v in settings.category_levels.items()}

    def offer_threshold() -> float:
        # Read when needed, not at start-up: the built-in model and its calibration load on first use.
        th = getattr(classifier, "thresholds", None)
        return float(th.group_report) if th is not None else 0.9

    def make(repos: Repos, bot_username: str | None = None) -> Context:
        return Context(
            repos,
            clock,
            geo,
            admins=admins,
            group_locale=settings.default_locale,
            category_levels=levels,
            bot_username=bot_username,
            group_offer_threshold=offer_threshold,
            star_hours=tuple(settings.star_hours),
            report_points=dict(settings.report_points),
            report_points_default=settings.report_points_default,
            checkin_radius_m=settings.checkin_radius_m,
            order_untaken_minutes=settings.order_untaken_minutes,
        )

    return make
