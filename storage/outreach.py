"""Fixed-day records and broadcasts."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.outreach.model import Broadcast, DayRecord
from storage.db import Clock
from storage.orm import BroadcastRow, DayRecordRow


def _record(r: DayRecordRow) -> DayRecord:
    return DayRecord(r.id, r.unit_code, r.day, r.kind, r.received, list(r.matters), list(r.filed), r.recorded_by)


class DayRecordRepo:
    """What fixed days brought."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock

    async def add(self, record: DayRecord) -> int:
        """Insert; returns the id."""
        row = DayRecordRow(
            unit_code=record.unit_code,
            day=record.day,
            kind=record.kind,
            received=record.received,
            matters=list(record.matters),
            filed=[],
            recorded_by=record.recorded_by,
            created_at=self.clock(),
        )
        self.s.add(row)
        await self.s.flush()
        return row.id

    async def get(self, record_id: int) -> DayRecord | None:
        """By id, fresh."""
        row = (
            await self.s.execute(
                select(DayRecordRow).where(DayRecordRow.id == record_id).execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return _record(row) if row else None

    async def mark_filed(self, record_id: int, index: int) -> bool:
        """Remember a matter became a case (False if it had already); the row is locked while checking."""
        row = (
            await self.s.execute(
                select(DayRecordRow)
                .where(DayRecordRow.id == record_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if row is None or index in (row.filed or []):
            return False
        row.filed = [*(row.filed or []), index]
        await self.s.flush()
        return True


def _broadcast(r: BroadcastRow) -> Broadcast:
    return Broadcast(r.id, r.unit_code, r.requested_by, r.text, r.photo, r.state, r.created_at, list(r.audience))


class BroadcastRepo:
    """Broadcast notices."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, broadcast: Broadcast) -> int:
        """Insert; returns the id."""
        row = BroadcastRow(
            unit_code=broadcast.unit_code,
            requested_by=broadcast.requested_by,
            text=broadcast.text,
            photo=broadcast.photo,
            state=broadcast.state,
            audience=list(broadcast.audience),
            created_at=broadcast.created_at,
        )
        self.s.add(row)
        await self.s.flush()
        return row.id

    async def get(self, broadcast_id: int) -> Broadcast | None:
        """By id, fresh."""
        row = (
            await self.s.execute(
                select(BroadcastRow).where(BroadcastRow.id == broadcast_id).execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return _broadcast(row) if row else None

    async def set_state(self, broadcast_id: int, expected: str, state: str) -> bool:
        """Compare-and-set."""
        res = await self.s.execute(
            update(BroadcastRow)
            .where(BroadcastRow.id == broadcast_id, BroadcastRow.state == expected)
            .values(state=state)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def sending(self) -> list[Broadcast]:
        """Broadcasts waiting for their delivery report."""
        rows = await self.s.execute(
            select(BroadcastRow).where(BroadcastRow.state == "sending").order_by(BroadcastRow.id)
        )
        return [_broadcast(r) for r in rows.scalars()]
