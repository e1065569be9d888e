"""The office's media store (a directory or an S3-compatible bucket) and the queue of photos to fetch into it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import obstore
from obstore.store import LocalStore, MemoryStore, from_url
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.kernel.media import STORED
from storage.db import conflict_insert
from storage.orm import MediaRow

# A photo Telegram would not hand over after this many tries is given up (logged; the case keeps its file id).
MAX_ATTEMPTS = 8


class ObjectMedia:
    """Bytes under keys in any store obstore reaches: file://, s3:// (AWS_* settings from the environment),
    memory:// for tests."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._store: Any = None

    @property
    def store(self) -> Any:
        """The obstore store, made on first use (a directory is created only when a photo is kept)."""
        if self._store is None:
            scheme = urlsplit(self.url).scheme
            if scheme in ("", "file"):
                root = Path(urlsplit(self.url).path if scheme else self.url).resolve()
                root.mkdir(parents=True, exist_ok=True)
                self._store = LocalStore(root)
            elif scheme == "memory":
                self._store = MemoryStore()
            else:
                # S3-compatible (MinIO, Ceph, a cloud's OSS): endpoint and keys come from AWS_* variables.
                self._store = from_url(self.url)
        return self._store

    async def put(self, key: str, data: bytes) -> None:
        """Keep the bytes (an existing key is overwritten with the same content: keys are content hashes)."""
        await obstore.put_async(self.store, key, data)

    async def get(self, key: str) -> bytes | None:
        """The bytes, or None when nothing is kept under the key."""
        try:
            result = await obstore.get_async(self.store, key)
        except FileNotFoundError:
            return None
        return bytes(await result.bytes_async())


class MediaQueue:
    """Telegram photos to keep: noted when a case or step takes one, fetched by the runner, then read by key."""

    def __init__(self, session: AsyncSession, clock: Callable[[], datetime]) -> None:
        self.s = session
        self.clock = clock

    async def note(self, file_id: str | None) -> None:
        """Queue a Telegram photo (once; stored photos and repeats are no-ops)."""
        if not file_id or file_id.startswith(STORED):
            return
        now = self.clock()
        insert = conflict_insert(self.s)
        await self.s.execute(
            insert(MediaRow)
            .values(file_id=file_id, state="pending", attempts=0, next_at=now, created_at=now)
            .on_conflict_do_nothing(index_elements=["file_id"])
        )

    async def due(self, limit: int) -> list[str]:
        """Photos whose turn has come, oldest first."""
        rows = await self.s.execute(
            select(MediaRow.file_id)
            .where(MediaRow.state == "pending", MediaRow.next_at <= self.clock())
            .order_by(MediaRow.next_at)
            .limit(limit)
        )
        return list(rows.scalars())

    async def key_of(self, file_id: str) -> str | None:
        """Where a Telegram photo is kept, once it is."""
        return (
            await self.s.execute(select(MediaRow.key).where(MediaRow.file_id == file_id, MediaRow.state == "stored"))
        ).scalar_one_or_none()

    async def stored(self, file_id: str, key: str) -> None:
        """Kept: from now on read from the store."""
        insert = conflict_insert(self.s)
        now = self.clock()
        await self.s.execute(
            insert(MediaRow)
            .values(file_id=file_id, key=key, state="stored", attempts=1, next_at=now, created_at=now)
            .on_conflict_do_update(index_elements=["file_id"], set_={"key": key, "state": "stored", "error": None})
        )

    async def failed(self, file_id: str, error: str) -> bool:
        """A try that did not work: again later (backing off), or given up after MAX_ATTEMPTS; True if given up."""
        row = (await self.s.execute(select(MediaRow).where(MediaRow.file_id == file_id))).scalar_one_or_none()
        if row is None:
            return False
        attempts = row.attempts + 1
        gave_up = attempts >= MAX_ATTEMPTS
        await self.s.execute(
            update(MediaRow)
            .where(MediaRow.file_id == file_id)
            .values(
                attempts=attempts,
                error=error[:200],
                state="failed" if gave_up else "pending",
                next_at=self.clock() + timedelta(minutes=2**attempts),
            )
        )
        return gave_up
