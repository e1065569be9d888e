"""The credit supermarket: redeem (points and stock in one transaction), verify once, cancel with a refund."""

from __future__ import annotations

import csv
import io
import secrets

import yaml

from domain.kernel.errors import Conflict, Invalid, NotFound
from domain.kernel.notices import Audience, Notice, Notices
from domain.kernel.people import User
from domain.kernel.text import clean
from domain.kernel.time import Clock
from domain.org.model import Level
from domain.org.service import OrgService
from domain.points.ledger import PointsService
from domain.points.model import ITEM_NAME_MAX, PRICE_MAX, STOCK_MAX, ShopItem, ShopOrder
from domain.points.ports import Shop

# Unambiguous on a phone screen and when read aloud at the counter: no 0/O, 1/I/L.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CATALOG_FIELDS = ("community", "name", "price", "stock")


def pickup_code() -> str:
    """A short code the counter can read off a phone."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


class ShopService:
    """Items per community; redemptions, verification and refunds by community staff."""

    def __init__(self, shop: Shop, points: PointsService, org: OrgService, notices: Notices, clock: Clock) -> None:
        self.shop = shop
        self.points = points
        self.org = org
        self.notices = notices
        self.clock = clock

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
        await self.points.spend(
            user.id, item.price, item.name, f"redeem:{code}", f"item:{item.id}", community=item.community_code
        )
        order = await self.shop.add_order(ShopOrder(0, user.id, item.id, item.price, code, "reserved", self.clock()))
        return order, item

    async def _order_for_staff(self, actor: User, code: str) -> tuple[ShopOrder, ShopItem]:
        code = code.strip().upper()[:16]
        order = await self.shop.order_by_code(code)
        if order is None:
            raise NotFound("order_not_found", code=code)
        item = await self.shop.item(order.item_id)
        assert item is not None
        await self.org.require(actor, item.community_code, "shop_forbidden")
        return order, item

    async def verify(self, actor: User, code: str) -> tuple[ShopOrder, ShopItem]:
        """Hand the item over: a pickup code works exactly once."""
        order, item = await self._order_for_staff(actor, code)
        if order.state != "reserved" or not await self.shop.close_order(order.id, "picked_up", actor.id, self.clock()):
            raise Conflict(f"order_{order.state}", code=order.code)
        return order, item

    async def cancel(self, actor: User, code: str) -> tuple[ShopOrder, ShopItem]:
        """Cancel an order not yet picked up: points back (a refund row), item back in stock."""
        order, item = await self._order_for_staff(actor, code)
        if order.state != "reserved" or not await self.shop.close_order(order.id, "cancelled", actor.id, self.clock()):
            raise Conflict(f"order_{order.state}", code=order.code)
        await self.points.earn(
            order.user_id,
            order.price,
            item.name,
            f"refund:{order.code}",
            f"order:{order.id}",
            actor.id,
            community=item.community_code,  # the ledger of the supermarket it came back to
            kind="refund",
        )
        await self.shop.put_back(item.id)
        await self.notices.emit(
            Notice(
                "shop.cancelled",
                Audience.person(order.user_id),
                {"item": item.name, "code": order.code, "points": order.price},
            )
        )
        return order, item

    async def upsert_item(
        self, actor: User, unit_code: str, name: str, price: int, stock: int
    ) -> tuple[ShopItem, bool]:
        """Community staff add or update an item from the community's group."""
        unit = await self.org.get(unit_code)
        if unit.level is not Level.COMMUNITY:
            raise Invalid("shop_community_only")
        await self.org.require(actor, unit.code, "shop_forbidden")
        name = name.strip()
        if not name or len(name) > ITEM_NAME_MAX or not 0 < price <= PRICE_MAX or not 0 <= stock <= STOCK_MAX:
            raise Invalid("item_usage")
        return await self.shop.upsert_item(unit.code, name, price, stock)


def _whole(value: object, key: str, low: int, high: int, problems: list[str]) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.append(f"{key} is missing")
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not (text.isascii() and text.lstrip("-").isdigit()):
        problems.append(f"{key}: {text[:24]!r} is not a whole number")
        return None
    number = int(text)
    if not low <= number <= high:
        shown = text if len(text) <= 24 else text[:20] + "…"
        problems.append(f"{key} must be between {low} and {high}, got {shown}")
        return None
    return number


def _catalog_rows(text: str, fmt: str) -> tuple[list[object], list[str]]:
    if fmt == "csv":
        try:
            reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
            rows: list[object] = list(reader)
        except csv.Error as e:
            return [], [f"file: not valid CSV: {e}"]
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [f for f in _CATALOG_FIELDS if f not in header]
        if rows and missing:
            return [], [f"file: the header row lacks the column(s) {', '.join(missing)}"]
        return rows, []
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return [], [f"file: not valid YAML{where}: {getattr(e, 'problem', None) or e}"]
    if isinstance(data, dict):
        if "items" not in data:
            return [], ["file: expected a list of items, or a mapping with the key 'items' holding one"]
        data = data["items"]
    if data is None:
        data = []
    if not isinstance(data, list):
        return [], ["file: expected a list of items, or a mapping with the key 'items' holding one"]
    return list(data), []


def parse_catalog(text: str, fmt: str) -> tuple[list[tuple[int, str, str, int, int]], list[str]]:
    """(row, community, name, price, stock) from CSV or YAML, or every problem found, row by row."""
    text = clean(text)  # the file's text, cleaned once where it comes in
    rows, problems = _catalog_rows(text, fmt)
    if problems:
        return [], problems
    if not rows:
        return [], ["file: no items found"]
    items: list[tuple[int, str, str, int, int]] = []
    for n, row in enumerate(rows, start=2 if fmt == "csv" else 1):
        here: list[str] = []
        if not isinstance(row, dict):
            problems.append(f"row {n}: expected a mapping of {', '.join(_CATALOG_FIELDS)}")
            continue
        fields = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        unknown = [k for k in fields if k not in _CATALOG_FIELDS]
        if unknown:
            here.append(f"unknown field(s) {', '.join(repr(k) for k in unknown)}")
        community = str(fields.get("community") or "").strip()
        name = str(fields.get("name") or "").strip()
        if not community:
            here.append("community is missing")
        elif len(community) > 32 or any(c.isspace() for c in community):
            here.append(f"community must be a code like QH-01, not {community[:40]!r}")
        if not name:
            here.append("name is missing")
        elif len(name) > ITEM_NAME_MAX:
            here.append(f"name is longer than {ITEM_NAME_MAX} characters ({len(name)})")
        price = _whole(fields.get("price"), "price", 1, PRICE_MAX, here)
        stock = _whole(fields.get("stock"), "stock", 0, STOCK_MAX, here)
        problems += [f"row {n}: {p}" for p in here]
        if not here and price is not None and stock is not None:
            items.append((n, community, name, price, stock))
    return (items if not problems else []), problems
