"""Update bookkeeping: ids already handled (de-duplication) and updates a handler failed on (for an operator)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import conflict_insert
from storage.orm import FailedUpdateRow, ProcessedUpdateRow


async def claim_update(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """Record an update id inside the update's transaction; False if it was processed before."""
    stmt = (
        conflict_insert(session)(ProcessedUpdateRow)
        .values(update_id=update_id, at=now)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(ProcessedUpdateRow.update_id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


@dataclass
class FailedUpdate:
    """An update a handler raised an unexpected error on, kept for an operator."""

    update_id: int
    at: datetime
    payload: dict[str, Any]
    error: str
    traceback: str


async def record_failed_update(
    session: AsyncSession, update_id: int, payload: dict[str, Any], error: str, tb: str, now: datetime
) -> None:
    """Keep the update and its traceback (once per update id)."""
    stmt = (
        conflict_insert(session)(FailedUpdateRow)
        .values(update_id=update_id, at=now, payload=payload, error=error[:2000], traceback=tb[-20000:])
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
    await session.execute(stmt)


async def failed_updates(session: AsyncSession, limit: int = 50) -> tuple[int, list[FailedUpdate]]:
    """How many updates failed in all, and the newest `limit` of them."""
    total = int((await session.execute(select(func.count()).select_from(FailedUpdateRow))).scalar_one())
    rows = await session.execute(select(FailedUpdateRow).order_by(FailedUpdateRow.at.desc()).limit(limit))
    return total, [FailedUpdate(r.update_id, r.at, r.payload, r.error, r.traceback) for r in rows.scalars()]
