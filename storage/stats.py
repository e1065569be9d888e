"""Snapshots of a unit's monthly figures (the domain's RateSnapshots port)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import conflict_insert
from storage.orm import RateSnapshotRow


class SnapshotRepo:
    """One row per unit and month, overwritten when the figures are recomputed."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def get(self, unit_code: str, month: str) -> tuple[datetime, str] | None:
        """When the figures were computed, and them."""
        row = await self.s.get(RateSnapshotRow, (unit_code, month))
        return (row.computed_at, row.payload) if row is not None else None

    async def put(self, unit_code: str, month: str, at: datetime, payload: str) -> None:
        """Store (or replace) the figures; two writers racing both succeed, the later one stays."""
        stmt = (
            conflict_insert(self.s)(RateSnapshotRow)
            .values(unit_code=unit_code, month=month, computed_at=at, payload=payload)
            .on_conflict_do_update(index_elements=["unit_code", "month"], set_={"computed_at": at, "payload": payload})
        )
        await self.s.execute(stmt)

    async def ages(self, units: list[str], months: list[str]) -> dict[tuple[str, str], datetime]:
        """When each stored unit-month was computed."""
        rows = await self.s.execute(
            select(RateSnapshotRow.unit_code, RateSnapshotRow.month, RateSnapshotRow.computed_at).where(
                RateSnapshotRow.unit_code.in_(units), RateSnapshotRow.month.in_(months)
            )
        )
        return {(u, m): at for u, m, at in rows.all()}
