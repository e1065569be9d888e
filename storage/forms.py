"""Multi-step forms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.orm import FormRow


class FormRepo:
    """One form per (user, kind)."""

    def __init__(self, session: AsyncSession, clock: Callable[[], datetime]) -> None:
        self.s = session
        self.clock = clock

    async def get(self, user_id: int, kind: str) -> dict[str, Any] | None:
        """The form's data."""
        row = await self.s.get(FormRow, (user_id, kind))
        return dict(row.data) if row else None

    async def save(self, user_id: int, kind: str, data: dict[str, Any]) -> None:
        """Create or replace."""
        row = await self.s.get(FormRow, (user_id, kind))
        if row is None:
            self.s.add(FormRow(user_id=user_id, kind=kind, data=data, updated_at=self.clock()))
        else:
            row.data, row.updated_at = dict(data), self.clock()
        await self.s.flush()

    async def delete(self, user_id: int, kind: str) -> None:
        """Drop."""
        row = await self.s.get(FormRow, (user_id, kind))
        if row is not None:
            await self.s.delete(row)
            await self.s.flush()
