"""The delivery side of the outbox: rows written by a front end's views, and which message shows which subject."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Clock, conflict_insert
from storage.orm import OutboxRow, PostRow


class OutboxRepo:
    """Messages to deliver, written in the same transaction as the change that causes them."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock
        self.added = 0

    async def add(
        self,
        chat_id: int,
        payload: dict[str, Any],
        edit_of: int | None = None,
        not_before: datetime | None = None,
        tag: str | None = None,
        coalesce: bool = False,
        priority: int = 0,
    ) -> int:
        """Queue a message; an edit inherits its target's chat, so per-chat order covers it.

        With `coalesce`, an edit replaces a still-unsent edit of the same message instead of queueing another:
        a burst of changes becomes one edit.
        """
        if edit_of is not None:
            target = await self.s.get(OutboxRow, edit_of)
            if target is None:
                raise ValueError(f"edit of unknown outbox message {edit_of}")
            chat_id = target.chat_id
            if target.state == "pending" and target.not_before is not None:
                # A post held back for the morning (quiet hours) is edited after it goes, never before.
                not_before = max(not_before, target.not_before) if not_before is not None else target.not_before
            if coalesce:
                waiting = (
                    await self.s.execute(
                        select(OutboxRow.id)
                        .where(OutboxRow.edit_of == edit_of, OutboxRow.state == "pending", OutboxRow.attempts == 0)
                        .order_by(OutboxRow.id.desc())
                        .limit(1)
                    )
                ).scalar_one_or_none()
                if waiting is not None:
                    await self.s.execute(update(OutboxRow).where(OutboxRow.id == waiting).values(payload=payload))
                    return int(waiting)
        now = self.clock()
        new_id = (
            await self.s.execute(
                insert(OutboxRow)
                .values(
                    chat_id=chat_id,
                    payload=payload,
                    edit_of=edit_of,
                    state="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    not_before=not_before,
                    tag=tag[:64] if tag else None,
                    priority=priority,
                )
                .returning(OutboxRow.id)
            )
        ).scalar_one()
        self.added += 1
        return int(new_id)

    async def withdraw(self, tag: str) -> int:
        """Withdraw scheduled messages with this tag that have not gone out."""
        res = await self.s.execute(
            update(OutboxRow).where(OutboxRow.tag == tag[:64], OutboxRow.state == "pending").values(state="cancelled")
        )
        return int(res.rowcount or 0)  # type: ignore[attr-defined]


class PostRepo:
    """Which outbox message shows a subject in a chat."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def get(self, kind: str, subject_id: int, chat_id: int) -> int | None:
        """The outbox id of the subject's current post in the chat."""
        row = await self.s.get(PostRow, (kind, subject_id, chat_id))
        return row.outbox_id if row else None

    async def chats(self, kind: str, subject_id: int) -> list[tuple[int, int]]:
        """(chat, outbox id) of every current post of the subject."""
        rows = await self.s.execute(
            select(PostRow.chat_id, PostRow.outbox_id).where(
                PostRow.subject_kind == kind, PostRow.subject_id == subject_id
            )
        )
        return [(int(c), int(o)) for c, o in rows.all()]

    async def set(self, kind: str, subject_id: int, chat_id: int, outbox_id: int) -> None:
        """From now on this message shows the subject in the chat."""
        stmt = conflict_insert(self.s)(PostRow).values(
            subject_kind=kind, subject_id=subject_id, chat_id=chat_id, outbox_id=outbox_id
        )
        await self.s.execute(
            stmt.on_conflict_do_update(
                index_elements=["subject_kind", "subject_id", "chat_id"], set_={"outbox_id": outbox_id}
            )
        )

    async def forget(self, kind: str, subject_id: int, chat_id: int) -> None:
        """The subject has no live post in the chat any more."""
        row = await self.s.get(PostRow, (kind, subject_id, chat_id))
        if row is not None:
            await self.s.delete(row)
            await self.s.flush()
