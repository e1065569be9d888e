"""Named markers set once, by anyone, in any process ("this month's board was posted")."""

from __future__ import annotations

from typing import Protocol


class Markers(Protocol):
    """Storage of markers."""

    async def claim(self, key: str) -> bool: ...

    async def seen(self, key: str) -> bool: ...

    async def forget(self, key: str) -> None: ...
