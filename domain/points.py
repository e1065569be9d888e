"""Points, hours, stars and the credit supermarket: an append-only ledger with a cached, never-negative balance."""

from __future__ import annotations

import html
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.i18n import t
from domain.model import Level, OutMessage, User

if TYPE_CHECKING:
    from domain.services import Context, OrgService

DEFAULT_STAR_HOURS: tuple[float, ...] = (100, 300, 600, 1000, 1500)
# Limits of a supermarket item, the same for /item and `gridbot catalog import`.
ITEM_NAME_MAX = 100
PRICE_MAX = 100_000
STOCK_MAX = 100_000
# One entry of hours: an activity lasts at most a week, so no single change can be larger.
MAX_HOURS_CHANGE = 24.0 * 7
# Unambiguous on a phone screen and when read aloud at the counter: no 0/O, 1/I/L.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


@dataclass
class LedgerEntry:
    """One row of the points ledger; amount is signed (earn > 0, redeem < 0)."""

    user_id: int
    kind: str
    amount: int
    reason: str
    key: str
    ref: str | None = None
    operator_id: int | None = None
    community_code: str | None = None
    created_at: datetime | None = None
    id: int = 0


@dataclass
class Standing:
    """What 我的积分 shows."""

    balance: int
    hours: float
    star_level: int
    next_star_hours: float | None
    recent: list[LedgerEntry] = field(default_factory=list)


@dataclass
class ShopItem:
    """An item of a community's credit supermarket."""

    id: int
    community_code: str
    name: str
    price: int
    stock: int
    active: bool = True


@dataclass
class ShopOrder:
    """A redemption and its pickup code."""

    id: int
    user_id: int
    item_id: int
    price: int
    code: str
    state: str
    created_at: datetime


class Ledger(Protocol):
    """Storage of the points and hours ledgers and the cached balances."""

    async def append(self, entry: LedgerEntry) -> bool: ...

    async def credit(self, user_id: int, amount: int) -> None: ...

    async def debit(self, user_id: int, amount: int) -> bool: ...

    async def standing(self, user_id: int) -> tuple[int, float, int]: ...

    async def recent(self, user_id: int, n: int) -> list[LedgerEntry]: ...

    async def add_hours(
        self, user_id: int, hours: float, kind: str, ref: str | None, key: str, operator_id: int | None
    ) -> bool: ...

    async def set_star_level(self, user_id: int, level: int) -> None: ...

    async def ledger_totals(self) -> dict[int, tuple[int, float]]: ...

    async def cached_totals(self) -> dict[int, tuple[int, float]]: ...

    async def set_cached(self, user_id: int, balance: int, hours: float) -> None: ...

    async def top_earners(self, community: str, since: datetime, until: datetime, n: int) -> list[tuple[int, int]]: ...

    async def expiry_inputs(self, cutoff: datetime) -> list[tuple[int, int, int, int, int]]: ...


class Shop(Protocol):
    """Storage of supermarket items and orders."""

    async def items(self, community: str) -> list[ShopItem]: ...

    async def item(self, item_id: int) -> ShopItem | None: ...

    async def upsert_item(self, community: str, name: str, price: int, stock: int) -> tuple[ShopItem, bool]: ...

    async def take_one(self, item_id: int) -> bool: ...

    async def put_back(self, item_id: int) -> None: ...

    async def add_order(self, order: ShopOrder) -> ShopOrder: ...

    async def order_by_code(self, code: str) -> ShopOrder | None: ...

    async def close_order(self, order_id: int, to_state: str, by: int | None, at: datetime) -> bool: ...


def star_level(hours: float, thresholds: tuple[float, ...]) -> int:
    """Stars earned by cumulative hours (0 below the first threshold)."""
    return sum(1 for h in thresholds if hours >= h)


class PointsService:
    """Earning, spending, hours and stars; every change is a ledger row with a unique key."""

    def __init__(self, ctx: Context, org: OrgService) -> None:
        self.ctx = ctx
        self.org = org
        self.ledger = ctx.repos.ledger
        self.star_hours = ctx.star_hours

    async def earn(
        self,
        user_id: int,
        amount: int,
        reason: str,
        key: str,
        ref: str | None = None,
        operator_id: int | None = None,
        community: str | None = None,
        kind: str = "earn",
    ) -> bool:
        """Credit points once per key; a repeated key changes nothing and returns False."""
        if amount <= 0:
            raise Invalid("points_amount")
        entry = LedgerEntry(user_id, kind, amount, reason[:200], key, ref, operator_id, community, self.ctx.clock())
        if not await self.ledger.append(entry):
            return False
        await self.ledger.credit(user_id, amount)
        return True

    async def spend(
        self,
        user_id: int,
        amount: int,
        reason: str,
        key: str,
        ref: str | None = None,
        kind: str = "redeem",
        operator_id: int | None = None,
    ) -> None:
        """Debit points if the balance covers them (conditional update), else refuse; never below zero."""
        if amount <= 0:
            raise Invalid("points_amount")
        if not await self.ledger.debit(user_id, amount):
            raise Conflict("not_enough_points", need=amount)
        entry = LedgerEntry(user_id, kind, -amount, reason[:200], key, ref, operator_id, None, self.ctx.clock())
        if not await self.ledger.append(entry):
            raise Conflict("already_done")

    async def add_hours(
        self, user: User, hours: float, kind: str, key: str, ref: str | None = None, operator_id: int | None = None
    ) -> int | None:
        """Record service hours once per key (every change of hours goes through here, corrections included).

        The star level follows the new total; the new level is returned when one was reached.
        """
        if not -MAX_HOURS_CHANGE <= hours <= MAX_HOURS_CHANGE or hours == 0 or (hours < 0 and kind != "correction"):
            raise Invalid("hours_amount")
        before = (await self.ledger.standing(user.id))[2]
        if not await self.ledger.add_hours(user.id, round(hours, 2), kind, ref, key, operator_id):
            return None
        total = (await self.ledger.standing(user.id))[1]
        level = star_level(total, self.star_hours)
        if level != before:
            await self.ledger.set_star_level(user.id, level)
        if level > before:
            if user.private_chat_id:
                await self.ctx.repos.outbox.add(
                    OutMessage(
                        user.private_chat_id, t("points.star_reached", user.locale, level=level, hours=f"{total:g}")
                    )
                )
            return level
        return None

    async def standing(self, user: User) -> Standing:
        """Balance, hours, stars, distance to the next star and the last ten ledger rows."""
        balance, hours, level = await self.ledger.standing(user.id)
        nxt = next((h for h in self.star_hours if hours < h), None)
        return Standing(
            balance, hours, level, (nxt - hours) if nxt is not None else None, await self.ledger.recent(user.id, 10)
        )

    async def award(self, actor: User, target: User, amount: int, reason: str, chat_id: int) -> str:
        """Staff award duties (e.g. building-head rounds) with a reason; returns the unit name."""
        unit = await self.ctx.repos.units.by_chat(chat_id)
        if unit is None:
            raise NotFound("chat_not_bound")
        if not await self.org.may_handle(actor, unit.code):
            raise Forbidden("award_forbidden")
        if not reason.strip():
            raise Invalid("award_usage")
        if amount <= 0 or amount > 1000:
            raise Invalid("points_amount")
        community = await self.org.community_of(unit.code)
        await self.earn(
            target.id,
            amount,
            reason.strip(),
            f"award:{uuid.uuid4().hex}",
            f"unit:{unit.code}",
            actor.id,
            community,
            kind="earn",
        )
        if target.private_chat_id:
            await self.ctx.repos.outbox.add(
                OutMessage(
                    target.private_chat_id,
                    t("points.awarded", target.locale, points=amount, reason=html.escape(reason.strip())),
                )
            )
        return unit.name

    async def expire_before(self, cutoff: datetime) -> int:
        """Expire points earned before `cutoff` that are still unspent (oldest spent first); returns the total."""
        total = 0
        for user_id, earned_before, spent, expired, balance in await self.ledger.expiry_inputs(cutoff):
            amount = min(balance, max(0, earned_before - spent - expired))
            if amount <= 0:
                continue
            key = f"expire:{cutoff.date().isoformat()}:{user_id}"
            if not await self.ledger.debit(user_id, amount):
                continue
            if not await self.ledger.append(
                LedgerEntry(user_id, "expire", -amount, "yearly expiry", key, None, None, None, self.ctx.clock())
            ):
                await self.ledger.credit(user_id, amount)  # already expired under this key: undo the debit
                continue
            total += amount
        return total

    async def rebuild(self) -> list[tuple[int, int, int, float, float]]:
        """Recompute cached balances and hours from the ledgers; returns (user, cached, ledger, …) that differed."""
        ledger = await self.ledger.ledger_totals()
        cached = await self.ledger.cached_totals()
        fixed = []
        for user_id in sorted(set(ledger) | set(cached)):
            pts, hrs = ledger.get(user_id, (0, 0.0))
            cpts, chrs = cached.get(user_id, (0, 0.0))
            if pts != cpts or abs(hrs - chrs) > 1e-6:
                fixed.append((user_id, cpts, pts, chrs, hrs))
                await self.ledger.set_cached(user_id, pts, hrs)
        return fixed


def pickup_code() -> str:
    """A short code the counter can read off a phone."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


class ShopService:
    """The credit supermarket: redeem (points and stock in one transaction), verify once, cancel with refund."""

    def __init__(self, ctx: Context, org: OrgService, points: PointsService) -> None:
        self.ctx = ctx
        self.org = org
        self.shop = ctx.repos.shop
        self.points = points

    async def catalogue(self, community: str) -> list[ShopItem]:
        """Active items of a community."""
        return [i for i in await self.shop.items(community) if i.active]

    async def item(self, item_id: int) -> ShopItem:
        """One active item."""
        item = await self.shop.item(item_id)
        if item is None or not item.active:
            raise NotFound("item_not_found")
        return item

    async def redeem(self, user: User, item_id: int) -> tuple[ShopOrder, ShopItem]:
        """Take one from stock and the price from the balance; both or neither."""
        item = await self.item(item_id)
        if not await self.shop.take_one(item.id):
            raise Conflict("out_of_stock", item=item.name)
        code = pickup_code()
        # Raising here rolls back the stock taken above: the whole update is one transaction.
        await self.points.spend(user.id, item.price, item.name, f"redeem:{code}", f"item:{item.id}")
        order = await self.shop.add_order(
            ShopOrder(0, user.id, item.id, item.price, code, "reserved", self.ctx.clock())
        )
        return order, item

    async def _order_for_staff(self, actor: User, code: str) -> tuple[ShopOrder, ShopItem]:
        order = await self.shop.order_by_code(code.strip().upper())
        if order is None:
            raise NotFound("order_not_found", code=code)
        item = await self.shop.item(order.item_id)
        assert item is not None
        if not await self.org.may_handle(actor, item.community_code):
            raise Forbidden("shop_forbidden")
        return order, item

    async def verify(self, actor: User, code: str) -> tuple[ShopOrder, ShopItem]:
        """Hand the item over: a pickup code works exactly once."""
        order, item = await self._order_for_staff(actor, code)
        if order.state != "reserved" or not await self.shop.close_order(
            order.id, "picked_up", actor.id, self.ctx.clock()
        ):
            raise Conflict(f"order_{order.state}", code=order.code)
        return order, item

    async def cancel(self, actor: User, code: str) -> tuple[ShopOrder, ShopItem]:
        """Cancel an order not yet picked up: points back (a refund row), item back in stock."""
        order, item = await self._order_for_staff(actor, code)
        if order.state != "reserved" or not await self.shop.close_order(
            order.id, "cancelled", actor.id, self.ctx.clock()
        ):
            raise Conflict(f"order_{order.state}", code=order.code)
        await self.points.earn(
            order.user_id, order.price, item.name, f"refund:{order.code}", f"order:{order.id}", actor.id, kind="refund"
        )
        await self.shop.put_back(item.id)
        owner = await self.ctx.repos.users.get(order.user_id)
        if owner and owner.private_chat_id:
            await self.ctx.repos.outbox.add(
                OutMessage(
                    owner.private_chat_id,
                    t(
                        "shop.cancelled_notice",
                        owner.locale,
                        item=html.escape(item.name),
                        code=order.code,
                        points=order.price,
                    ),
                )
            )
        return order, item

    async def upsert_item(self, actor: User, chat_id: int, name: str, price: int, stock: int) -> tuple[ShopItem, bool]:
        """Community staff add or update an item from the community's group."""
        unit = await self.ctx.repos.units.by_chat(chat_id)
        if unit is None:
            raise NotFound("chat_not_bound")
        if unit.level is not Level.COMMUNITY:
            raise Invalid("shop_community_only")
        if not await self.org.may_handle(actor, unit.code):
            raise Forbidden("shop_forbidden")
        if not name.strip() or not 0 < price <= PRICE_MAX or not 0 <= stock <= STOCK_MAX or len(name) > ITEM_NAME_MAX:
            raise Invalid("item_usage")
        return await self.shop.upsert_item(unit.code, name.strip()[:100], price, stock)
