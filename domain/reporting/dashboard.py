"""What a leader's desk shows at a glance: the 三率 over months, what was reported where, volunteering, the map."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from domain.cases.model import Case
from domain.cases.stats import SNAPSHOT_FRESH, Rates, StatsService, month_bounds, months_back
from domain.kernel.errors import Forbidden
from domain.kernel.people import User
from domain.kernel.time import Clock, local
from domain.org.access import ConsoleAccess
from domain.org.model import Level, Unit
from domain.org.service import OrgService
from domain.reporting.ledgers import LedgerService, parse_month
from domain.reporting.ports import Requests

PIN_MAX = 2000
# A closed month's figures may be this old on the dashboard (the runner refreshes them every hour; a desk that
# finds them older recomputes and stores them).
FIGURES_AGE = 2 * SNAPSHOT_FRESH
PLACES = 10


@dataclass(frozen=True)
class MapView:
    """Grids with their month's on-time rate, and the open cases on them."""

    grids: list[tuple[Unit, float | None]]
    pins: list[Case]
    overdue: set[int]


class DashboardService:
    """Figures for the console's dashboard and map, within what the person may see."""

    def __init__(
        self,
        requests: Requests,
        ledgers: LedgerService,
        stats: StatsService,
        access: ConsoleAccess,
        org: OrgService,
        clock: Clock,
    ) -> None:
        self.requests = requests
        self.ledgers = ledgers
        self.stats = stats
        self.access = access
        self.org = org
        self.clock = clock

    def this_month(self) -> str:
        """The current month in Beijing."""
        return local(self.clock()).strftime("%Y-%m")

    async def home(self, actor: User, code: str | None) -> Unit:
        """The unit asked for (if the person may see it), else their highest unit (the street for an admin)."""
        scope = await self.access.scope(actor)
        if code:
            if scope is not None and code not in {u.code for u in scope}:
                raise Forbidden("staff_forbidden")
            return await self.org.get(code)
        if scope is None:
            streets = await self.org.of_level(Level.STREET)
            if streets:
                return streets[0]
            raise Forbidden("staff_forbidden")
        order = {Level.STREET: 0, Level.COMMUNITY: 1, Level.GRID: 2, Level.DEPARTMENT: 3}
        return min(scope, key=lambda u: (order[u.level], u.code))

    async def units_below(self, unit: Unit) -> list[str]:
        """The unit and everything below it."""
        return [unit.code] + [u.code for u in await self.org.below(unit.code)]

    async def trend(self, unit: Unit, month: str, n: int = 6) -> list[tuple[str, Rates]]:
        """The unit's 三率 for the n months up to `month` (closed months as the runner last computed them)."""
        return [
            (label, (await self.stats.rates(unit, label, FIGURES_AGE))[0])
            for label in months_back(parse_month(month), n)
        ]

    async def grids(self, unit: Unit, month: str) -> list[Rates]:
        """The unit's grids ranked for the month."""
        return (await self.stats.rates(unit, month, FIGURES_AGE))[1]

    async def tallies(self, unit: Unit, month: str) -> tuple[dict[str, int], list[tuple[str, int]]]:
        """Cases of the month by category, and the busiest places."""
        start, end = month_bounds(parse_month(month))
        return await self.requests.tallies(await self.units_below(unit), start, end, PLACES)

    async def categories_over(self, unit: Unit, month: str, n: int = 6) -> list[tuple[str, dict[str, int]]]:
        """Cases by category for each of the n months up to `month`."""
        out = []
        for label in months_back(parse_month(month), n):
            start, end = month_bounds(label)
            counts, _ = await self.requests.tallies(await self.units_below(unit), start, end, 0)
            out.append((label, counts))
        return out

    async def volunteering(self, unit: Unit, month: str) -> tuple[dict[str, float], dict[str, int], dict[str, int]]:
        """Per community: verified hours, points earned, redemptions in the month."""
        hours: dict[str, float] = {}
        for h in await self.ledgers.hours(unit, month):
            hours[h.community or "—"] = hours.get(h.community or "—", 0.0) + h.hours
        points: Counter[str] = Counter()
        for p in await self.ledgers.points(unit, month):
            if p.amount > 0 and p.kind == "earn":
                points[p.community or "—"] += p.amount
        redeemed: Counter[str] = Counter(r.community for r in await self.ledgers.redemptions(unit, month))
        return hours, dict(points), dict(redeemed)

    async def map(self, actor: User, unit: Unit, month: str) -> MapView:
        """The unit's grids coloured by the month's on-time rate, with its open cases."""
        ranked = {r.unit: r.on_time_rate for r in await self.grids(unit, month)}
        if unit.level is Level.GRID:
            own = (await self.stats.rates(unit, month))[0]
            ranked[unit.code] = own.on_time_rate
        grids = [u for u in [unit, *await self.org.below(unit.code)] if u.level is Level.GRID and u.geometry]
        pins = await self.requests.open_pins(await self.units_below(unit), PIN_MAX)
        overdue = await self.requests.overdue_among([c.id for c in pins])
        return MapView([(g, ranked.get(g.code)) for g in grids], pins, overdue)
