"""Ledger and supermarket repositories: conditional updates keep balances and stock from going negative."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.points.model import LedgerEntry, ShopItem, ShopOrder
from storage.db import conflict_insert
from storage.orm import BalanceRow, HoursRow, LedgerRow, ShopItemRow, ShopOrderRow


class LedgerRepo:
    """Points and hours ledgers plus the cached balance row per user."""

    def __init__(self, session: AsyncSession, clock: Callable[[], datetime]) -> None:
        self.s = session
        self.clock = clock

    async def append(self, entry: LedgerEntry) -> bool:
        """Insert unless the idempotency key exists (then False and nothing changes)."""
        insert = conflict_insert(self.s)
        stmt = (
            insert(LedgerRow)
            .values(
                user_id=entry.user_id,
                kind=entry.kind,
                amount=entry.amount,
                reason=entry.reason,
                ref=entry.ref,
                operator_id=entry.operator_id,
                idempotency_key=entry.key,
                community_code=entry.community_code,
                created_at=entry.created_at or self.clock(),
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(LedgerRow.id)
        )
        return (await self.s.execute(stmt)).scalar_one_or_none() is not None

    async def _ensure(self, user_id: int) -> None:
        insert = conflict_insert(self.s)
        await self.s.execute(
            insert(BalanceRow)
            .values(user_id=user_id, balance=0, hours=0.0, star_level=0)
            .on_conflict_do_nothing(index_elements=["user_id"])
        )

    async def credit(self, user_id: int, amount: int) -> None:
        """balance += amount."""
        await self._ensure(user_id)
        await self.s.execute(
            update(BalanceRow).where(BalanceRow.user_id == user_id).values(balance=BalanceRow.balance + amount)
        )

    async def debit(self, user_id: int, amount: int) -> bool:
        """balance -= amount only if the balance covers it (one conditional UPDATE: no read-then-write race)."""
        res = await self.s.execute(
            update(BalanceRow)
            .where(BalanceRow.user_id == user_id, BalanceRow.balance >= amount)
            .values(balance=BalanceRow.balance - amount)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def standing(self, user_id: int) -> tuple[int, float, int]:
        """(balance, hours, star level)."""
        row = (
            await self.s.execute(
                select(BalanceRow.balance, BalanceRow.hours, BalanceRow.star_level).where(BalanceRow.user_id == user_id)
            )
        ).one_or_none()
        return (int(row[0]), float(row[1]), int(row[2])) if row else (0, 0.0, 0)

    async def recent(self, user_id: int, n: int) -> list[LedgerEntry]:
        """Newest ledger rows first."""
        rows = await self.s.execute(
            select(LedgerRow).where(LedgerRow.user_id == user_id).order_by(LedgerRow.id.desc()).limit(n)
        )
        return [
            LedgerEntry(
                r.user_id,
                r.kind,
                r.amount,
                r.reason,
                r.idempotency_key,
                r.ref,
                r.operator_id,
                r.community_code,
                r.created_at,
                r.id,
            )
            for r in rows.scalars()
        ]

    async def add_hours(
        self, user_id: int, hours: float, kind: str, ref: str | None, key: str, operator_id: int | None
    ) -> bool:
        """Record hours once per key and add them to the cached total."""
        insert = conflict_insert(self.s)
        stmt = (
            insert(HoursRow)
            .values(
                user_id=user_id,
                hours=hours,
                kind=kind,
                ref=ref,
                operator_id=operator_id,
                idempotency_key=key,
                created_at=self.clock(),
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(HoursRow.id)
        )
        if (await self.s.execute(stmt)).scalar_one_or_none() is None:
            return False
        await self._ensure(user_id)
        await self.s.execute(
            update(BalanceRow).where(BalanceRow.user_id == user_id).values(hours=BalanceRow.hours + hours)
        )
        return True

    async def set_star_level(self, user_id: int, level: int) -> None:
        """Remember the level reached (so it is announced once)."""
        await self.s.execute(update(BalanceRow).where(BalanceRow.user_id == user_id).values(star_level=level))

    async def ledger_totals(self) -> dict[int, tuple[int, float]]:
        """Per user: (sum of points ledger, sum of hours ledger)."""
        pts = dict(
            (
                await self.s.execute(select(LedgerRow.user_id, func.sum(LedgerRow.amount)).group_by(LedgerRow.user_id))
            ).all()
        )
        hrs = dict(
            (await self.s.execute(select(HoursRow.user_id, func.sum(HoursRow.hours)).group_by(HoursRow.user_id))).all()
        )
        return {u: (int(pts.get(u) or 0), float(hrs.get(u) or 0.0)) for u in set(pts) | set(hrs)}

    async def cached_totals(self) -> dict[int, tuple[int, float]]:
        """Per user: (cached balance, cached hours)."""
        rows = await self.s.execute(select(BalanceRow.user_id, BalanceRow.balance, BalanceRow.hours))
        return {int(u): (int(b), float(h)) for u, b, h in rows.all()}

    async def set_cached(self, user_id: int, balance: int, hours: float) -> None:
        """Overwrite the cache with ledger truth."""
        await self._ensure(user_id)
        await self.s.execute(
            update(BalanceRow).where(BalanceRow.user_id == user_id).values(balance=balance, hours=hours)
        )

    async def top_earners(self, community: str, since: datetime, until: datetime, n: int) -> list[tuple[int, int]]:
        """Users by points earned (kind earn) in [since, until) attributed to a community."""
        total = func.sum(LedgerRow.amount).label("total")
        rows = await self.s.execute(
            select(LedgerRow.user_id, total)
            .where(
                LedgerRow.community_code == community,
                LedgerRow.kind == "earn",
                LedgerRow.created_at >= since,
                LedgerRow.created_at < until,
            )
            .group_by(LedgerRow.user_id)
            .order_by(total.desc(), LedgerRow.user_id)
            .limit(n)
        )
        return [(int(u), int(p)) for u, p in rows.all()]

    async def expiry_inputs(self, cutoff: datetime) -> list[tuple[int, int, int, int, int]]:
        """Per user: (earned before cutoff, spent net of refunds, already expired, balance)."""
        earned = func.sum(
            case((and_(LedgerRow.kind == "earn", LedgerRow.created_at < cutoff), LedgerRow.amount), else_=0)
        )
        spent = func.sum(case((LedgerRow.kind.in_(("redeem", "refund")), -LedgerRow.amount), else_=0))
        expired = func.sum(case((LedgerRow.kind == "expire", -LedgerRow.amount), else_=0))
        rows = await self.s.execute(
            select(LedgerRow.user_id, earned, spent, expired, BalanceRow.balance)
            .join(BalanceRow, BalanceRow.user_id == LedgerRow.user_id)
            .group_by(LedgerRow.user_id, BalanceRow.balance)
        )
        return [(int(u), _zero(e), _zero(sp), _zero(x), _zero(b)) for u, e, sp, x, b in rows.all()]


def _zero(x: int | None) -> int:
    return int(x or 0)


def _item(r: ShopItemRow) -> ShopItem:
    return ShopItem(r.id, r.community_code, r.name, r.price, r.stock, r.active)


def _order(r: ShopOrderRow) -> ShopOrder:
    return ShopOrder(r.id, r.user_id, r.item_id, r.price, r.code, r.state, r.created_at)


class ShopRepo:
    """Items and orders."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def items(self, community: str) -> list[ShopItem]:
        """A community's items, cheapest first."""
        rows = await self.s.execute(
            select(ShopItemRow)
            .where(ShopItemRow.community_code == community)
            .order_by(ShopItemRow.price, ShopItemRow.id)
        )
        return [_item(r) for r in rows.scalars()]

    async def item(self, item_id: int) -> ShopItem | None:
        """By id (fresh)."""
        row = (
            await self.s.execute(
                select(ShopItemRow).where(ShopItemRow.id == item_id).execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return _item(row) if row else None

    async def upsert_item(self, community: str, name: str, price: int, stock: int) -> tuple[ShopItem, bool]:
        """Create, or update price and stock of the item with that name."""
        row = (
            await self.s.execute(
                select(ShopItemRow).where(ShopItemRow.community_code == community, ShopItemRow.name == name)
            )
        ).scalar_one_or_none()
        created = row is None
        if row is None:
            row = ShopItemRow(community_code=community, name=name, price=price, stock=stock, active=True)
            self.s.add(row)
        else:
            row.price, row.stock, row.active = price, stock, True
        await self.s.flush()
        return _item(row), created

    async def take_one(self, item_id: int) -> bool:
        """stock -= 1 only if some is left."""
        res = await self.s.execute(
            update(ShopItemRow)
            .where(ShopItemRow.id == item_id, ShopItemRow.stock >= 1, ShopItemRow.active.is_(True))
            .values(stock=ShopItemRow.stock - 1)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def put_back(self, item_id: int) -> None:
        """stock += 1."""
        await self.s.execute(update(ShopItemRow).where(ShopItemRow.id == item_id).values(stock=ShopItemRow.stock + 1))

    async def add_order(self, order: ShopOrder) -> ShopOrder:
        """Insert a reserved order."""
        row = ShopOrderRow(
            user_id=order.user_id,
            item_id=order.item_id,
            price=order.price,
            code=order.code,
            state=order.state,
            created_at=order.created_at,
        )
        self.s.add(row)
        await self.s.flush()
        return _order(row)

    async def order_by_code(self, code: str) -> ShopOrder | None:
        """By pickup code."""
        row = (await self.s.execute(select(ShopOrderRow).where(ShopOrderRow.code == code))).scalar_one_or_none()
        return _order(row) if row else None

    async def close_order(self, order_id: int, to_state: str, by: int | None, at: datetime) -> bool:
        """reserved → picked_up | cancelled, once."""
        res = await self.s.execute(
            update(ShopOrderRow)
            .where(ShopOrderRow.id == order_id, ShopOrderRow.state == "reserved")
            .values(state=to_state, closed_by=by, closed_at=at)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]
