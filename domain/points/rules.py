"""The tunables of the points context, each default written once (settings override them)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Star levels by cumulative verified hours (the national rule; some cities use other thresholds).
DEFAULT_STAR_HOURS: tuple[float, ...] = (100.0, 300.0, 600.0, 1000.0, 1500.0)


@dataclass(frozen=True)
class PointsRules:
    """Rewards, stars, the board and the supermarket's limits."""

    star_hours: tuple[float, ...] = DEFAULT_STAR_HOURS
    # Points a reporter earns when their report is resolved, by category; the rest get the default.
    report_points: dict[str, int] = field(
        default_factory=lambda: {"fire_safety": 10, "building_safety": 10, "road_traffic": 8}
    )
    report_points_default: int = 5
    # Points a volunteer earns for a service order the resident rated well.
    order_points: int = 10
    # Points a building head earns for each resident's home they confirm (楼栋长's service).
    head_confirm_points: int = 2
    # Points a building head earns for each whole month of service.
    head_month_points: int = 10
    # The most staff may award in one go.
    award_max: int = 1000
    # The monthly credit-star board: how many, and until which day of the month a late board is still posted.
    board_top_n: int = 10
    board_catch_up_days: int = 7
    # The office's language, in which ledger lines (台账) are written.
    locale: str = "zh-CN"
