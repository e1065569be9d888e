"""Ledger entries, standings, supermarket items and orders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Limits of a supermarket item, the same for /item and `gridbot catalog import`.
ITEM_NAME_MAX = 100
PRICE_MAX = 100_000
STOCK_MAX = 100_000
# One entry of hours: an activity lasts at most a week, so no single change can be larger.
MAX_HOURS_CHANGE = 24.0 * 7


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
