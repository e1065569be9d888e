"""People, awaited replies and markers."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.kernel.awaiting import Awaited, Awaiting
from domain.kernel.people import Role, User, UserRef
from storage.db import Clock, conflict_insert
from storage.orm import AwaitingRow, MetaRow, UserRow


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        ref=UserRef(row.platform, row.external_id),
        display_name=row.display_name,
        role=Role(row.role) if row.role else None,
        locale=row.locale,
        username=row.username,
        reachable=row.reachable,
    )


class UserRepo:
    """People."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock

    async def upsert(
        self, ref: UserRef, display_name: str, username: str | None, locale: str | None, reachable: bool
    ) -> User:
        """Find by platform id, creating or refreshing the row."""
        row = (
            await self.s.execute(
                select(UserRow).where(UserRow.platform == ref.platform, UserRow.external_id == ref.external_id)
            )
        ).scalar_one_or_none()
        if row is None:
            row = UserRow(
                platform=ref.platform,
                external_id=ref.external_id,
                display_name=display_name[:128],
                username=username,
                locale=locale or "zh-CN",
                reachable=reachable,
                created_at=self.clock(),
            )
            self.s.add(row)
            await self.s.flush()
        else:
            if display_name and row.display_name != display_name[:128]:
                row.display_name = display_name[:128]
            if username != row.username and username is not None:
                row.username = username
            if reachable and not row.reachable:
                row.reachable = True
            if locale is not None and row.locale != locale:
                row.locale = locale
        return _user(row)

    async def get(self, user_id: int) -> User | None:
        """By id."""
        row = await self.s.get(UserRow, user_id)
        return _user(row) if row else None

    async def many(self, user_ids: set[int]) -> dict[int, User]:
        """By ids, 500 to a statement."""
        ids, out = sorted(user_ids), {}
        for i in range(0, len(ids), 500):  # bound parameters per statement, as the case reads do
            rows = (await self.s.execute(select(UserRow).where(UserRow.id.in_(ids[i : i + 500])))).scalars()
            out.update({row.id: _user(row) for row in rows})
        return out

    async def by_ref(self, ref: UserRef) -> User | None:
        """By platform id."""
        row = (
            await self.s.execute(
                select(UserRow).where(UserRow.platform == ref.platform, UserRow.external_id == ref.external_id)
            )
        ).scalar_one_or_none()
        return _user(row) if row else None

    async def by_username(self, username: str) -> User | None:
        """By @username, case-insensitively."""
        row = (
            await self.s.execute(
                select(UserRow).where(func.lower(UserRow.username) == username.lstrip("@").lower()).limit(1)
            )
        ).scalar_one_or_none()
        return _user(row) if row else None

    async def set_role(self, user_id: int, role: Role) -> None:
        """Rider or resident."""
        await self.s.execute(update(UserRow).where(UserRow.id == user_id).values(role=role.value))


class AwaitingRepo:
    """One awaited reply per person."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def get(self, user_id: int) -> Awaiting | None:
        """The awaited reply, if any (expired ones too: the service decides)."""
        row = await self.s.get(AwaitingRow, user_id)
        if row is None:
            return None
        try:
            kind = Awaited(row.kind)
        except ValueError:
            return None
        return Awaiting(kind, row.ref, row.expires_at)

    async def put(self, user_id: int, awaiting: Awaiting) -> None:
        """Create or replace."""
        row = await self.s.get(AwaitingRow, user_id)
        if row is None:
            self.s.add(
                AwaitingRow(user_id=user_id, kind=awaiting.kind.value, ref=awaiting.ref, expires_at=awaiting.expires_at)
            )
        else:
            row.kind, row.ref, row.expires_at = awaiting.kind.value, awaiting.ref, awaiting.expires_at
        await self.s.flush()

    async def clear(self, user_id: int) -> None:
        """Nothing awaited any more."""
        row = await self.s.get(AwaitingRow, user_id)
        if row is not None:
            await self.s.delete(row)
            await self.s.flush()


class MarkerRepo:
    """Named markers in the meta table."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def claim(self, key: str) -> bool:
        """Set a marker once; False if it was set before (by anyone, in any process)."""
        stmt = (
            conflict_insert(self.s)(MetaRow)
            .values(key=marker_key(key), value=1)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        return (await self.s.execute(stmt.returning(MetaRow.key))).scalar_one_or_none() is not None

    async def forget(self, key: str) -> None:
        """Clear a marker (a setting turned back to its default)."""
        await self.s.execute(delete(MetaRow).where(MetaRow.key == marker_key(key)))

    async def seen(self, key: str) -> bool:
        """Whether a marker was set."""
        found = await self.s.execute(select(MetaRow.key).where(MetaRow.key == marker_key(key)))
        return found.scalar_one_or_none() is not None


def marker_key(key: str) -> str:
    """The key as stored: long keys keep a readable head and a hash of the whole (64 characters fit)."""
    if len(key) <= 64:
        return key
    return f"{key[:40]}#{hashlib.sha256(key.encode()).hexdigest()[:23]}"


async def expiring(session: AsyncSession, now: datetime) -> int:
    """How many awaited replies have expired (for housekeeping)."""
    return int(
        (
            await session.execute(select(func.count()).select_from(AwaitingRow).where(AwaitingRow.expires_at <= now))
        ).scalar_one()
    )
