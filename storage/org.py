"""The hierarchy, its groups and its staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.kernel.people import User
from domain.org.model import AuditEntry, ChannelRef, Level, Unit
from storage.db import Clock
from storage.orm import (
    ConsoleAuditRow,
    ConsoleSessionRow,
    ConsoleTokenRow,
    MetaRow,
    StaffRow,
    UnitRow,
    UserRow,
)
from storage.people import _user


def _unit(row: UnitRow) -> Unit:
    return Unit(row.code, row.name, Level(row.level), row.parent_code, row.geometry)


TELEGRAM = "telegram"


def _chat(channel: ChannelRef) -> int | None:
    # Units keep one Telegram group each; other platforms have no binding here (yet).
    if channel.platform != TELEGRAM:
        return None
    try:
        return int(channel.address)
    except ValueError:
        return None


class UnitRepo:
    """The hierarchy."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session
        # The session's identity map holds rows weakly; keeping them here saves re-reading a unit
        # (and its ancestors) several times within one update.
        self._rows: dict[str, UnitRow | None] = {}

    async def all(self) -> list[Unit]:
        """Every unit (kept for this session: asking each one's group next costs no further query)."""
        rows = list((await self.s.execute(select(UnitRow).order_by(UnitRow.code))).scalars())
        self._rows.update((r.code, r) for r in rows)
        return [_unit(r) for r in rows]

    async def of_level(self, level: Level, parent: str | None = None) -> list[Unit]:
        """Units of one level (under one parent when given), by code: one query for that level, not every unit's
        outline (asking whether any department exists on each case action read all 200 grids' polygons)."""
        query = select(UnitRow).where(UnitRow.level == level.value)
        if parent is not None:
            query = query.where(UnitRow.parent_code == parent)
        rows = list((await self.s.execute(query.order_by(UnitRow.code))).scalars())
        self._rows.update((r.code, r) for r in rows)
        return [_unit(r) for r in rows]

    async def get(self, code: str) -> Unit | None:
        """By code."""
        if code not in self._rows:
            self._rows[code] = await self.s.get(UnitRow, code)
        row = self._rows[code]
        return _unit(row) if row else None

    async def channel(self, code: str, platform: str) -> str | None:
        """The address of the unit's own group on a platform."""
        if platform != TELEGRAM:
            return None
        if code not in self._rows:
            self._rows[code] = await self.s.get(UnitRow, code)
        row = self._rows[code]
        return str(row.chat_id) if row is not None and row.chat_id is not None else None

    async def has_channel(self, code: str) -> bool:
        """Whether the unit has a group of its own."""
        return await self.channel(code, TELEGRAM) is not None

    async def by_channel(self, channel: ChannelRef) -> Unit | None:
        """The unit bound to a group."""
        chat_id = _chat(channel)
        if chat_id is None:
            return None
        row = (await self.s.execute(select(UnitRow).where(UnitRow.chat_id == chat_id).limit(1))).scalar_one_or_none()
        return _unit(row) if row else None

    async def replace_all(self, units: list[Unit]) -> tuple[int, int]:
        """Insert or update by code (bindings are kept); returns (created, updated)."""
        created = updated = 0
        for u in units:
            row = await self.s.get(UnitRow, u.code)
            if row is None:
                self.s.add(
                    UnitRow(
                        code=u.code, name=u.name, level=u.level.value, parent_code=u.parent_code, geometry=u.geometry
                    )
                )
                created += 1
            else:
                row.name, row.level, row.parent_code, row.geometry = u.name, u.level.value, u.parent_code, u.geometry
                updated += 1
            self._rows[u.code] = row
        await self.s.flush()
        await self._bump()
        return created, updated

    async def _bump(self) -> None:
        res = await self.s.execute(update(MetaRow).where(MetaRow.key == "units_rev").values(value=MetaRow.value + 1))
        if res.rowcount == 0:  # type: ignore[attr-defined]
            self.s.add(MetaRow(key="units_rev", value=1))
            await self.s.flush()

    async def bind(self, code: str, channel: ChannelRef) -> None:
        """Bind a group to a unit."""
        chat_id = _chat(channel)
        if chat_id is None:
            raise ValueError(f"cannot bind a {channel.platform} group")
        await self.s.execute(update(UnitRow).where(UnitRow.code == code).values(chat_id=chat_id))
        self._rows.pop(code, None)
        await self._bump()

    async def unbind(self, channel: ChannelRef) -> list[str]:
        """Forget a group's bindings; returns the codes that lost their group."""
        chat_id = _chat(channel)
        if chat_id is None:
            return []
        codes = list((await self.s.execute(select(UnitRow.code).where(UnitRow.chat_id == chat_id))).scalars())
        if codes:
            await self.s.execute(update(UnitRow).where(UnitRow.chat_id == chat_id).values(chat_id=None))
            for code in codes:
                self._rows.pop(code, None)
            await self._bump()
        return codes

    async def revision(self) -> int:
        """Moves whenever units or bindings change."""
        value = (await self.s.execute(select(MetaRow.value).where(MetaRow.key == "units_rev"))).scalar_one_or_none()
        return int(value or 0)


class StaffRepo:
    """Staff membership."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock

    async def add(self, unit_code: str, user_id: int, added_by: int | None) -> bool:
        """Add; False if already there."""
        if await self.s.get(StaffRow, (unit_code, user_id)) is not None:
            return False
        self.s.add(StaffRow(unit_code=unit_code, user_id=user_id, added_by=added_by, created_at=self.clock()))
        await self.s.flush()
        return True

    async def remove(self, unit_code: str, user_id: int) -> bool:
        """Remove; False if not there."""
        row = await self.s.get(StaffRow, (unit_code, user_id))
        if row is None:
            return False
        await self.s.delete(row)
        await self.s.flush()
        return True

    async def units_of(self, user_id: int) -> list[str]:
        """Codes a person is staff of."""
        return list((await self.s.execute(select(StaffRow.unit_code).where(StaffRow.user_id == user_id))).scalars())

    async def members(self, unit_code: str) -> list[User]:
        """Staff of one unit."""
        rows = await self.s.execute(
            select(UserRow).join(StaffRow, StaffRow.user_id == UserRow.id).where(StaffRow.unit_code == unit_code)
        )
        return [_user(r) for r in rows.scalars()]

    async def set_role(self, unit_code: str, user_id: int, role: str) -> bool:
        """A member's role in the unit (worker or head); False if they are not a member."""
        res = await self.s.execute(
            update(StaffRow).where(StaffRow.unit_code == unit_code, StaffRow.user_id == user_id).values(role=role)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def with_role(self, unit_code: str, role: str) -> list[User]:
        """Members of one unit with a role."""
        rows = await self.s.execute(
            select(UserRow)
            .join(StaffRow, StaffRow.user_id == UserRow.id)
            .where(StaffRow.unit_code == unit_code, StaffRow.role == role)
        )
        return [_user(r) for r in rows.scalars()]


class LoginRepo:
    """Console links, sessions and the audit log (the domain's Logins port)."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add_token(self, token_hash: str, user_id: int, at: datetime, expires_at: datetime) -> None:
        """Store a new link's hash."""
        self.s.add(ConsoleTokenRow(token_hash=token_hash, user_id=user_id, created_at=at, expires_at=expires_at))
        await self.s.flush()

    async def take_token(self, token_hash: str, now: datetime) -> int | None:
        """Use a link once (a conditional update: two clicks, one session); its person, or None."""
        result = await self.s.execute(
            update(ConsoleTokenRow)
            .where(
                ConsoleTokenRow.token_hash == token_hash,
                ConsoleTokenRow.used_at.is_(None),
                ConsoleTokenRow.expires_at > now,
            )
            .values(used_at=now)
            .returning(ConsoleTokenRow.user_id)
        )
        found = result.scalar_one_or_none()
        return int(found) if found is not None else None

    async def tokens_since(self, user_id: int, since: datetime) -> int:
        """Links issued to a person since a moment."""
        found = await self.s.execute(
            select(func.count())
            .select_from(ConsoleTokenRow)
            .where(ConsoleTokenRow.user_id == user_id, ConsoleTokenRow.created_at >= since)
        )
        return int(found.scalar_one())

    async def add_session(self, sid_hash: str, user_id: int, csrf: str, at: datetime, expires_at: datetime) -> None:
        """Store a new session's hash."""
        self.s.add(
            ConsoleSessionRow(sid_hash=sid_hash, user_id=user_id, csrf=csrf, created_at=at, expires_at=expires_at)
        )
        await self.s.flush()

    async def session(self, sid_hash: str, now: datetime) -> tuple[int, str, datetime] | None:
        """A live session: person, form token, expiry."""
        row = (
            await self.s.execute(
                select(ConsoleSessionRow).where(
                    ConsoleSessionRow.sid_hash == sid_hash, ConsoleSessionRow.expires_at > now
                )
            )
        ).scalar_one_or_none()
        return (row.user_id, row.csrf, row.expires_at) if row else None

    async def end_session(self, sid_hash: str) -> None:
        """Log out."""
        await self.s.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.sid_hash == sid_hash))

    async def audit(self, user_id: int, at: datetime, action: str, target: str, detail: str) -> None:
        """Append to the audit log."""
        self.s.add(ConsoleAuditRow(user_id=user_id, at=at, action=action, target=target, detail=detail))
        await self.s.flush()

    async def audit_log(self, limit: int) -> list[AuditEntry]:
        """The latest entries first."""
        rows = await self.s.execute(select(ConsoleAuditRow).order_by(ConsoleAuditRow.id.desc()).limit(limit))
        return [AuditEntry(r.user_id, r.at, r.action, r.target, r.detail) for r in rows.scalars()]
