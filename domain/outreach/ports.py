"""What the outreach context needs from storage."""

from __future__ import annotations

from typing import Protocol

from domain.outreach.model import Broadcast, DayRecord


class DayRecords(Protocol):
    """Records of fixed days."""

    async def add(self, record: DayRecord) -> int: ...

    async def get(self, record_id: int) -> DayRecord | None: ...

    async def mark_filed(self, record_id: int, index: int) -> bool: ...


class Broadcasts(Protocol):
    """Broadcast notices."""

    async def add(self, broadcast: Broadcast) -> int: ...

    async def get(self, broadcast_id: int) -> Broadcast | None: ...

    async def set_state(self, broadcast_id: int, expected: str, state: str) -> bool: ...

    async def sending(self) -> list[Broadcast]: ...
