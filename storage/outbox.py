"""The sender's side of the outbox: pick due messages per chat, mark them in flight, sent or failed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.orm import OutboxRow, ProcessedUpdateRow


@dataclass
class Envelope:
    """One outbox row as the sender sees it."""

    id: int
    chat_id: int
    payload: dict[str, Any]
    edit_of: int | None
    attempts: int
    priority: int = 0  # 1: bulk (a broadcast)


class OutboxStore:
    """Short transactions of its own, separate from the per-update session.

    A sender marks a message in flight under its own name with a lease; a lease is renewed while the send
    lasts, so only a message whose sender died (its lease ran out) is taken over and sent again.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        owner: str = "sender",
        lease: timedelta = timedelta(seconds=30),
        gate: contextlib.AbstractAsyncContextManager[Any] | None = None,
    ) -> None:
        self.sessions = sessions
        # The process's one-writer gate on SQLite (shared with the updates' transactions): writers queue here
        # instead of sleeping in SQLite's busy handler.
        self.gate = gate or contextlib.nullcontext()
        self.clock = clock
        self.owner = owner[:64]
        self.lease = lease

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        async with self.gate, self.sessions.begin() as s:
            yield s

    async def recover(self) -> int:
        """Messages whose sender died mid-send (lease expired) may or may not have arrived: send them again."""
        async with self._writing() as s:
            res = await s.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.state == "inflight",
                    or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < self.clock()),
                )
                .values(state="pending", lease_owner=None, lease_until=None)
            )
            return int(res.rowcount or 0)  # type: ignore[attr-defined]

    async def defer(self, msg_id: int, delay: float) -> None:
        """Not yet (the chat's pace): try again in `delay` seconds, without counting an attempt."""
        async with self._writing() as s:
            await s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == msg_id, OutboxRow.state == "pending")
                .values(next_attempt_at=self.clock() + timedelta(seconds=delay))
            )

    async def outcomes(self, tag: str) -> list[tuple[int, str, str | None]]:
        """(chat, state, last error) of every message with a tag (a broadcast's delivery)."""
        async with self.sessions() as s:
            rows = await s.execute(
                select(OutboxRow.chat_id, OutboxRow.state, OutboxRow.last_error).where(OutboxRow.tag == tag[:64])
            )
            return [(int(c), str(st), e) for c, st, e in rows.all()]

    async def renew(self, msg_id: int) -> bool:
        """Extend this sender's lease on a message it is still sending."""
        async with self._writing() as s:
            res = await s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == msg_id, OutboxRow.state == "inflight", OutboxRow.lease_owner == self.owner)
                .values(lease_until=self.clock() + self.lease)
            )
            return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def due_heads(self, limit: int) -> list[Envelope]:
        """The oldest pending message of each chat (and class: ordinary, bulk), if it is due; a head that waits
        holds back the rest of its chat and class."""
        now = self.clock()
        async with self.sessions() as s:
            heads = (
                select(func.min(OutboxRow.id).label("id"))
                .where(
                    OutboxRow.state.in_(("pending", "inflight")),
                    or_(OutboxRow.not_before.is_(None), OutboxRow.not_before <= now),
                )
                # Per chat and class: a chat's case message may overtake its broadcast message (never its own kind).
                .group_by(OutboxRow.chat_id, OutboxRow.priority)
                .subquery()
            )
            rows = (
                await s.execute(
                    select(OutboxRow)
                    .join(heads, heads.c.id == OutboxRow.id)
                    .where(OutboxRow.state == "pending", OutboxRow.next_attempt_at <= now)
                    # Bulk messages (broadcasts) go after every chat's ordinary messages that are due.
                    .order_by(OutboxRow.priority, OutboxRow.id)
                    .limit(limit)
                )
            ).scalars()
            return [Envelope(r.id, r.chat_id, r.payload, r.edit_of, r.attempts, r.priority) for r in rows]

    async def next_wake(self) -> datetime | None:
        """When the earliest waiting message becomes due."""
        async with self.sessions() as s:
            at = (
                await s.execute(
                    select(func.min(func.coalesce(OutboxRow.not_before, OutboxRow.next_attempt_at))).where(
                        OutboxRow.state == "pending"
                    )
                )
            ).scalar_one_or_none()
            lease = (
                await s.execute(select(func.min(OutboxRow.lease_until)).where(OutboxRow.state == "inflight"))
            ).scalar_one_or_none()
            if lease is not None and (at is None or lease < at):
                return lease  # a dead sender's lease runs out then: look again
            return at

    async def claim(self, msg_ids: list[int]) -> set[int]:
        """Claim messages for sending in one transaction; the ids this sender got (another may have taken some)."""
        if not msg_ids:
            return set()
        async with self._writing() as s:
            res = await s.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(msg_ids), OutboxRow.state == "pending")
                .values(
                    state="inflight",
                    attempts=OutboxRow.attempts + 1,
                    lease_owner=self.owner,
                    lease_until=self.clock() + self.lease,
                )
                .returning(OutboxRow.id)
            )
            return {int(i) for i in res.scalars()}

    async def mark_sent(self, msg_id: int, message_id: int | None) -> None:
        """Delivered."""
        async with self._writing() as s:
            await s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == msg_id)
                .values(
                    state="sent",
                    sent_at=self.clock(),
                    message_id=message_id,
                    last_error=None,
                    lease_owner=None,
                    lease_until=None,
                )
            )

    async def forget_text(self, msg_id: int) -> None:
        """A secret that has gone out (or never will): its text is no longer kept, in the outbox or its backups."""
        async with self._writing() as s:
            await s.execute(
                update(OutboxRow).where(OutboxRow.id == msg_id).values(payload={"text": "", "secret": True})
            )

    async def retry_later(self, msg_id: int, delay: float, error: str) -> None:
        """Back to pending, not before `delay` seconds."""
        async with self._writing() as s:
            await s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == msg_id)
                .values(
                    state="pending",
                    next_attempt_at=self.clock() + timedelta(seconds=delay),
                    last_error=error[:500],
                    lease_owner=None,
                    lease_until=None,
                )
            )

    async def mark_failed(self, msg_id: int, error: str) -> None:
        """Telegram refused for good (bot blocked, chat gone, bad request): recorded, not retried."""
        async with self._writing() as s:
            await s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == msg_id)
                .values(state="failed", last_error=error[:500], lease_owner=None, lease_until=None)
            )

    async def move_chat(self, old_chat: int, new_chat: int) -> None:
        """A group became a supergroup: its pending messages follow it."""
        async with self._writing() as s:
            await s.execute(
                update(OutboxRow)
                .where(OutboxRow.chat_id == old_chat, OutboxRow.state.in_(("pending", "inflight")))
                .values(chat_id=new_chat)
            )

    async def target(self, msg_id: int) -> tuple[str, int | None, bool] | None:
        """(state, Telegram message id, has photo) of a message an edit or reply refers to."""
        async with self.sessions() as s:
            row = await s.get(OutboxRow, msg_id)
            if row is None:
                return None
            return row.state, row.message_id, bool(row.payload.get("photo"))

    async def backlog(self) -> tuple[int, float]:
        """Messages due and not yet sent, and how long the oldest of them has waited (seconds)."""
        now = self.clock()
        async with self.sessions() as s:
            due = or_(OutboxRow.not_before.is_(None), OutboxRow.not_before <= now)
            n, oldest = (
                await s.execute(
                    select(func.count(), func.min(func.coalesce(OutboxRow.not_before, OutboxRow.created_at))).where(
                        OutboxRow.state.in_(("pending", "inflight")), due
                    )
                )
            ).one()
        return int(n), max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0

    async def counts(self) -> dict[str, int]:
        """Messages by state."""
        async with self.sessions() as s:
            rows = await s.execute(select(OutboxRow.state, func.count()).group_by(OutboxRow.state))
            return {state: int(n) for state, n in rows.all()}

    async def prune_updates(self, older_than: timedelta) -> None:
        """Forget processed update ids once Telegram can no longer redeliver them."""
        async with self._writing() as s:
            await s.execute(delete(ProcessedUpdateRow).where(ProcessedUpdateRow.at < self.clock() - older_than))
