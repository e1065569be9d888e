"""Update bookkeeping: ids already handled (de-duplication) and updates a handler failed on (for an operator)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
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


def lane_lock_id(key: str) -> int:
    """A signed 64-bit advisory-lock id for a lane key (a chat or a person)."""
    return int.from_bytes(hashlib.blake2b(f"gridbot-lane:{key}".encode(), digest_size=8).digest(), "big", signed=True)


async def lock_lanes(session: AsyncSession, keys: tuple[str, ...]) -> None:
    """On PostgreSQL, hold the update's chat and person until the transaction ends: two processes never handle
    one chat's (or one person's) updates at the same time. Taken in one order, so two updates cannot deadlock.
    SQLite needs nothing: its write lock already lets one transaction in at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for lock_id in sorted({lane_lock_id(k) for k in keys}):
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


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
