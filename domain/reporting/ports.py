"""What reporting needs from storage: the volunteering and points ledgers, joined for reading."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.reporting.model import HoursLine, PointsLine, RedemptionLine


class LedgerReads(Protocol):
    """Month slices of the hours, points and redemption ledgers of some communities."""

    async def hours(self, communities: list[str], start: datetime, end: datetime) -> list[HoursLine]: ...

    async def points(self, communities: list[str], start: datetime, end: datetime) -> list[PointsLine]: ...

    async def redemptions(self, communities: list[str], start: datetime, end: datetime) -> list[RedemptionLine]: ...
