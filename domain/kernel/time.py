"""Time as the street offices count it: Beijing time (UTC+8), calendar months."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """Aware UTC now."""
    return datetime.now(UTC)


def local(at: datetime) -> datetime:
    """A moment in Beijing time (naive values are taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(CHINA_TZ)


def day_code(at: datetime) -> str:
    """20261130: the Beijing calendar day, as case numbers use it."""
    return local(at).strftime("%Y%m%d")


def previous_month(now: datetime) -> tuple[datetime, datetime, str]:
    """[start, end) of last month in Beijing time, and its label 2026-11."""
    end = local(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end - timedelta(days=1)).replace(day=1)
    return start, end, start.strftime("%Y-%m")
