"""The monthly credit-star board (信用之星): each community's top earners by points earned last month."""

from __future__ import annotations

from domain.kernel.hours import QuietHours
from domain.kernel.markers import Markers
from domain.kernel.notices import Audience, Notice, Notices
from domain.kernel.people import PeopleService
from domain.kernel.time import Clock, local, previous_month
from domain.org.model import Level
from domain.org.service import OrgService
from domain.points.ports import Ledger
from domain.points.rules import PointsRules


class BoardService:
    """Posts each community's monthly board once (a community with no group of its own is skipped)."""

    def __init__(
        self,
        ledger: Ledger,
        org: OrgService,
        people: PeopleService,
        markers: Markers,
        notices: Notices,
        clock: Clock,
        rules: PointsRules,
        quiet: QuietHours | None = None,
    ) -> None:
        self.quiet = quiet or QuietHours()
        self.ledger = ledger
        self.org = org
        self.people = people
        self.markers = markers
        self.notices = notices
        self.clock = clock
        self.rules = rules

    async def post_monthly(self) -> list[str]:
        """Post last month's boards that are not posted yet; returns the community codes posted to."""
        now = self.clock()
        # Posted on the 1st; a bot that was down then catches up within the first days, never later.
        if local(now).day > self.rules.board_catch_up_days or self.quiet.contains(now):
            return []  # never at night: a board due then waits for the morning
        start, end, label = previous_month(now)
        posted = []
        for unit in await self.org.of_level(Level.COMMUNITY):
            if not await self.org.has_group(unit.code):
                continue
            if not await self.markers.claim(f"board:{label}:{unit.code}"):
                continue
            top = await self.ledger.top_earners(unit.code, start, end, self.rules.board_top_n)
            if not top:
                continue  # nobody earned points: an empty board is not a board
            entries = []
            for user_id, points in top:
                person = await self.people.get(user_id)
                entries.append((person.display_name if person else "?", points))
            await self.notices.emit(
                Notice(
                    "points.board",
                    Audience.unit(unit.code),
                    {"year": start.year, "month": start.month, "unit": unit.name, "entries": entries},
                )
            )
            posted.append(unit.code)
        return posted
