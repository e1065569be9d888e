"""Points and hours: an append-only ledger with a cached, never-negative balance; star levels follow hours."""

from __future__ import annotations

import uuid
from datetime import datetime

from domain.kernel.errors import Conflict, Forbidden, Invalid
from domain.kernel.notices import Audience, Notice, Notices
from domain.kernel.people import User
from domain.kernel.time import Clock
from domain.org.service import OrgService
from domain.points.model import MAX_HOURS_CHANGE, LedgerEntry, Standing
from domain.points.ports import Ledger
from domain.points.rules import PointsRules

REASON_MAX = 200


def star_level(hours: float, thresholds: tuple[float, ...]) -> int:
    """Stars earned by cumulative hours (0 below the first threshold)."""
    return sum(1 for h in thresholds if hours >= h)


class PointsService:
    """Earning, spending, hours and stars; every change is a ledger row with a unique key."""

    def __init__(self, ledger: Ledger, org: OrgService, notices: Notices, clock: Clock, rules: PointsRules) -> None:
        self.ledger = ledger
        self.org = org
        self.notices = notices
        self.clock = clock
        self.rules = rules

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
        entry = LedgerEntry(user_id, kind, amount, reason[:REASON_MAX], key, ref, operator_id, community, self.clock())
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
        community: str | None = None,
    ) -> None:
        """Debit points if the balance covers them (conditional update), else refuse; never below zero."""
        if amount <= 0:
            raise Invalid("points_amount")
        if not await self.ledger.debit(user_id, amount):
            raise Conflict("not_enough_points", need=amount)
        entry = LedgerEntry(user_id, kind, -amount, reason[:REASON_MAX], key, ref, operator_id, community, self.clock())
        if not await self.ledger.append(entry):
            raise Conflict("already_done")

    async def add_hours(
        self, user_id: int, hours: float, kind: str, key: str, ref: str | None = None, operator_id: int | None = None
    ) -> int | None:
        """Record service hours once per key (every change of hours goes through here, corrections included).

        The star level follows the new total; the new level is returned when one was reached.
        """
        if not -MAX_HOURS_CHANGE <= hours <= MAX_HOURS_CHANGE or hours == 0 or (hours < 0 and kind != "correction"):
            raise Invalid("hours_amount")
        before = (await self.ledger.standing(user_id))[2]
        if not await self.ledger.add_hours(user_id, round(hours, 2), kind, ref, key, operator_id):
            return None
        total = (await self.ledger.standing(user_id))[1]
        level = star_level(total, self.rules.star_hours)
        if level != before:
            await self.ledger.set_star_level(user_id, level)
        if level > before:
            await self.notices.emit(
                Notice("points.star_reached", Audience.person(user_id), {"level": level, "hours": total})
            )
            return level
        return None

    async def standing(self, user: User) -> Standing:
        """Balance, hours, stars, distance to the next star and the last ten ledger rows."""
        balance, hours, level = await self.ledger.standing(user.id)
        nxt = next((h for h in self.rules.star_hours if hours < h), None)
        return Standing(
            balance, hours, level, (nxt - hours) if nxt is not None else None, await self.ledger.recent(user.id, 10)
        )

    async def award(self, actor: User, target: User, amount: int, reason: str, unit_code: str) -> None:
        """Staff award duties (e.g. building-head rounds) with a reason."""
        if not await self.org.may_handle(actor, unit_code):
            raise Forbidden("award_forbidden")
        reason = reason.strip()
        if not reason or len(reason) > REASON_MAX:
            raise Invalid("award_usage")
        if not 0 < amount <= self.rules.award_max:
            raise Invalid("points_amount", max=self.rules.award_max)
        community = await self.org.community_of(unit_code)
        await self.earn(
            target.id, amount, reason, f"award:{uuid.uuid4().hex}", f"unit:{unit_code}", actor.id, community, "earn"
        )
        await self.notices.emit(
            Notice("points.awarded", Audience.person(target.id), {"points": amount, "reason": reason})
        )

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
                LedgerEntry(user_id, "expire", -amount, "yearly expiry", key, None, None, None, self.clock())
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
