"""The monthly ledgers (台账): cases, the grid comparison, activities, teams, hours, points and redemptions of a unit
and below.

Built from the same records the 三率 come from, so a ledger, a chat post and a console page agree. Who may
read one: staff of the unit or above, and admins; the operator at the command line reads any.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

from domain.cases.model import Case, CaseEvent, Deadline
from domain.cases.ports import Calls, Cases, Deadlines, Followers
from domain.cases.stats import Rates, StatsService, month_bounds
from domain.kernel.errors import Forbidden, Invalid
from domain.kernel.i18n import word
from domain.kernel.people import PeopleService, User
from domain.kernel.privacy import mask_personal_numbers
from domain.org.model import Level, Unit
from domain.org.service import OrgService
from domain.reporting.model import ActivityLine, CaseLine, HoursLine, PointsLine, RedemptionLine, TeamLine
from domain.reporting.ports import LedgerReads

KINDS = ("cases", "grids", "activities", "teams", "hours", "points", "redemptions")
HIDDEN = "••••"


def mask_name(name: str) -> str:
    """A person's name as someone outside their community reads it: the first character, then stars."""
    name = name.strip()
    return f"{name[:1]}**" if name else "**"


_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(label: str) -> str:
    """A month like 2026-11, or Invalid."""
    label = label.strip()
    if not _MONTH.match(label):
        raise Invalid("month_usage")
    return label


class LedgerService:
    """Ledgers of one unit (and everything below it) for one month."""

    def __init__(
        self,
        cases: Cases,
        deadlines: Deadlines,
        followers: Followers,
        calls: Calls,
        reads: LedgerReads,
        stats: StatsService,
        org: OrgService,
        people: PeopleService,
    ) -> None:
        self.cases = cases
        self.deadlines = deadlines
        self.followers = followers
        self.calls = calls
        self.reads = reads
        self.stats = stats
        self.org = org
        self.people = people
        self.reader: User | None = None  # whose eyes the rows are for (None: the operator)

    async def scope(self, actor: User | None, code: str) -> Unit:
        """The unit, if this person may read its ledgers (None: the operator at the command line); the rows read
        next are shown as this reader may see them."""
        unit = await self.org.find(code)
        if unit is None:
            raise Invalid("unit_unknown", code=code[:40])
        if actor is not None and not await self.org.may_handle(actor, unit.code):
            raise Forbidden("staff_forbidden")
        self.reader = actor
        return unit

    async def _sees_people_of(self, community: str | None) -> bool:
        # A volunteer's hours, points and pickup codes are for their own community's staff (and the admins):
        # they check them in and hand the goods over. Others read the rows with the person masked.
        reader = self.reader
        if reader is None or self.people.is_admin(reader):
            return True
        return community is not None and await self.org.is_staff_of(reader, community)

    async def _codes(self, unit: Unit) -> list[str]:
        return [unit.code] + [u.code for u in await self.org.below(unit.code)]

    async def _communities(self, unit: Unit) -> list[str]:
        # Volunteering is organised by community: a street reads all of its own, a community its own; a grid has
        # none of its own (its community's rows are that community's business, not a grid's).
        return [u.code for u in [unit, *await self.org.below(unit.code)] if u.level is Level.COMMUNITY]

    async def _slice(self, unit: Unit, month: str) -> tuple[list[str], datetime, datetime]:
        # A volunteering ledger's slice: the unit's communities, and the month's bounds.
        return (await self._communities(unit), *month_bounds(parse_month(month)))

    async def _names(self, ids: set[int]) -> dict[int, str]:
        people = await self.people.many(ids)
        return {i: people[i].display_name if i in people else "?" for i in ids}

    async def case_lines(self, unit: Unit, month: str) -> list[CaseLine]:
        """Every case received in the month by the unit or below (merged duplicates included, marked)."""
        start, end = month_bounds(parse_month(month))
        cases = await self.cases.in_month(await self._codes(unit), start, end)
        ids = [c.id for c in cases]
        events: dict[int, list[CaseEvent]] = {}
        for e in await self.cases.events_of(ids):
            events.setdefault(e.case_id, []).append(e)
        clocks: dict[int, list[Deadline]] = {}
        for d in await self.deadlines.of_cases(ids):
            clocks.setdefault(d.case_id, []).append(d)
        followers = await self.followers.counts(ids)
        unit_names = {u.code: u.name for u in await self.org.all()}
        called: dict[int, list[str]] = {}
        for call in await self.calls.of_cases(ids):
            called.setdefault(call.case_id, []).append(unit_names.get(call.department, call.department))
        staff = await self._names({e.actor_id for es in events.values() for e in es if e.actor_id is not None})
        return [
            self._line(c, events.get(c.id, []), clocks.get(c.id, []), followers, called, unit_names, staff)
            for c in sorted(cases, key=lambda c: (c.created_at, c.id))
        ]

    @staticmethod
    def _line(
        c: Case,
        events: list[CaseEvent],
        clocks: list[Deadline],
        followers: dict[int, int],
        called: dict[int, list[str]],
        unit_names: dict[str, str],
        staff: dict[int, str],
    ) -> CaseLine:
        events = sorted(events, key=lambda e: e.at)
        claim = next((e for e in events if e.action == "claim"), None)
        resolve = next((e for e in reversed(events) if e.action == "resolve"), None)
        first = min((d for d in clocks if d.kind == "resolve" and d.state != "cancelled"), key=lambda d: d.started_at,
                    default=None)  # fmt: skip
        on_time = None if first is None or first.state == "open" else first.state == "met"

        def who(e: CaseEvent | None) -> str | None:
            # Staff by name; the reporter is never named in a ledger.
            if e is None or e.actor_id is None or e.actor_id == c.reporter_id:
                return None
            return staff.get(e.actor_id)

        origin = c.origin_unit or c.unit_code
        return CaseLine(
            number=c.number,
            received_at=c.created_at,
            category=c.category,
            description=mask_personal_numbers(c.description),
            address=c.address,
            lat=c.lat,
            lon=c.lon,
            origin_unit=unit_names.get(origin, origin),
            unit=unit_names.get(c.unit_code, c.unit_code),
            state=c.state.value,
            urgent=c.urgent,
            reporter_role=c.reporter_role.value,
            claimed_at=claim.at if claim else None,
            claimed_by=who(claim),
            resolved_at=resolve.at if resolve else None,
            resolved_by=who(resolve),
            resolve_due=first.due_at if first else None,
            on_time=on_time,
            rating=c.rating.value if c.rating else None,
            reopen_count=c.reopen_count,
            escalated=any(e.action == "escalate" for e in events),
            departments=tuple(called.get(c.id, [])),
            followers=followers.get(c.id, 0),
            close_reason=c.close_reason,
        )

    async def summary(self, unit: Unit, month: str) -> tuple[Rates, list[Rates]]:
        """The unit's 三率 and its grids', ranked (the same figures as /stats)."""
        return await self.stats.rates(unit, parse_month(month))

    async def hours(self, unit: Unit, month: str) -> list[HoursLine]:
        """Hours booked in the month to activities of the unit's communities."""
        out = []
        for line in await self.reads.hours(*await self._slice(unit, month)):
            if not await self._sees_people_of(line.community_code):
                line = dataclasses.replace(line, person=mask_name(line.person))
            out.append(line)
        return out

    async def points(self, unit: Unit, month: str) -> list[PointsLine]:
        """Points ledger rows of the month in the unit's communities; a reporter is never named beside a case."""
        out = []
        for line in await self.reads.points(*await self._slice(unit, month)):
            if line.ref and line.ref.startswith("case:"):
                line = dataclasses.replace(
                    line, person=word("role.reporter")
                )  # the office's language, like the reason beside it
            elif not await self._sees_people_of(line.community_code):
                line = dataclasses.replace(line, person=mask_name(line.person))
            out.append(line)
        return out

    async def redemptions(self, unit: Unit, month: str) -> list[RedemptionLine]:
        """Redemptions of the month in the unit's credit supermarkets; pickup codes only for the community's staff."""
        out = []
        for line in await self.reads.redemptions(*await self._slice(unit, month)):
            if not await self._sees_people_of(line.community_code):
                line = dataclasses.replace(line, person=mask_name(line.person), code=HIDDEN)
            out.append(line)
        return out

    async def activities(self, unit: Unit, month: str) -> list[ActivityLine]:
        """Activities of the unit's communities starting in the month, with attendance and hours."""
        return await self.reads.activities(*await self._slice(unit, month))

    async def teams(self, unit: Unit, month: str) -> list[TeamLine]:
        """The unit's volunteer teams, with members now and activities and hours in the month."""
        return await self.reads.teams(*await self._slice(unit, month))
