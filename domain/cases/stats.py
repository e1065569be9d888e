"""The 三率 and staff performance, computed from the recorded timeline (cases, their events and clocks).

Definitions (also in the README, "The 三率"):
- a case **belongs** to the month (Beijing time) it was received in and to the unit it was first sent to,
  counted for that unit and every unit above it; a duplicate merged into another case is not counted;
- **received**: those cases; **reports** adds the people who followed one of them instead of filing again;
- **及时响应率** (claimed in time): of the cases whose first claim deadline has been decided (met, or passed),
  the share claimed by it;
- **按期办结率** (resolved in time): of the cases whose first resolve deadline has been decided, the share
  resolved by it (a reopened case is judged on its first round);
- **办结率** (resolved): the share of received cases resolved or closed by now;
- **满意率** (satisfaction): (满意 + 基本满意) ÷ cases with a final rating (unrated ones are left out, never
  counted as satisfied; a phone follow-up's verdict is a rating);
- **reopened**: cases reopened at least once; **overdue now**: open cases with a missed clock in their current
  round; **escalated**: cases that climbed at least once; **department cases**: cases with a department called.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.cases.bodies import BodyFigures, body_figures
from domain.cases.model import Case, CaseState, Deadline
from domain.cases.ports import Calls, Cases, Deadlines, Followers, RateSnapshots
from domain.kernel.hours import QuietHours
from domain.kernel.markers import Markers
from domain.kernel.notices import Audience, Notice, Notices
from domain.kernel.people import PeopleService, User
from domain.kernel.time import CHINA_TZ, Clock, local, previous_month
from domain.org.model import Level, Unit
from domain.org.service import OrgService


@dataclass
class Rates:
    """The figures of one unit for one month."""

    unit: str
    name: str
    received: int = 0
    reports: int = 0
    claim_decided: int = 0
    claimed_in_time: int = 0
    resolve_decided: int = 0
    resolved_in_time: int = 0
    resolved: int = 0
    rated: int = 0
    satisfied: int = 0
    reopened: int = 0
    overdue_now: int = 0
    escalated: int = 0
    department_cases: int = 0

    @staticmethod
    def share(part: int, whole: int) -> float | None:
        """part ÷ whole, or None when there is nothing to divide."""
        return part / whole if whole else None

    @property
    def response_rate(self) -> float | None:
        """及时响应率."""
        return self.share(self.claimed_in_time, self.claim_decided)

    @property
    def on_time_rate(self) -> float | None:
        """按期办结率."""
        return self.share(self.resolved_in_time, self.resolve_decided)

    @property
    def resolution_rate(self) -> float | None:
        """办结率."""
        return self.share(self.resolved, self.received)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率."""
        return self.share(self.satisfied, self.rated)


@dataclass
class WorkerStats:
    """One person's month as a case handler."""

    user_id: int
    name: str
    claimed: int = 0
    resolved: int = 0
    resolved_in_time: int = 0
    claim_minutes: list[float] = field(default_factory=list)
    resolve_minutes: list[float] = field(default_factory=list)
    ratings: Counter[str] = field(default_factory=Counter)

    @property
    def median_claim_minutes(self) -> float | None:
        """Median time from report (or reopening) to claim."""
        return statistics.median(self.claim_minutes) if self.claim_minutes else None

    @property
    def median_resolve_minutes(self) -> float | None:
        """Median time from claim to resolution."""
        return statistics.median(self.resolve_minutes) if self.resolve_minutes else None

    @property
    def on_time_rate(self) -> float | None:
        """Resolutions by their deadline ÷ resolutions."""
        return Rates.share(self.resolved_in_time, self.resolved)


# The steps that carry a rating (the reporter's, or a phone follow-up's), and the ratings they can carry.
RATED = ("rate", "reopen", "follow_up")
RATINGS = ("satisfied", "basic", "unsatisfied")


def month_bounds(label: str) -> tuple[datetime, datetime]:
    """[start, end) of a month like 2026-11 in Beijing time."""
    year, month = (int(x) for x in label.split("-"))
    start = datetime(year, month, 1, tzinfo=CHINA_TZ)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


# Closed months change little (a late rating, a reopened case): the runner recomputes each unit's last months
# when their figures are older than this, and a desk reads them instead of recomputing a month of a big street.
SNAPSHOT_MONTHS = 6
SNAPSHOT_FRESH = timedelta(hours=1)


def months_back(label: str, n: int) -> list[str]:
    """The n months ending with `label` (a month like 2026-11), oldest first."""
    year, month = (int(x) for x in label.split("-"))
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _encode(figures: tuple[Rates, list[Rates]]) -> str:
    totals, grids = figures
    return json.dumps({"totals": dataclasses.asdict(totals), "grids": [dataclasses.asdict(g) for g in grids]})


def _decode(payload: str) -> tuple[Rates, list[Rates]]:
    data = json.loads(payload)
    return Rates(**data["totals"]), [Rates(**g) for g in data["grids"]]


def _first(clocks: list[Deadline], kind: str) -> Deadline | None:
    mine = [d for d in clocks if d.kind == kind and d.state != "cancelled"]
    return min(mine, key=lambda d: (d.started_at, d.id)) if mine else None


def _decided(d: Deadline | None, now: datetime) -> bool:
    return d is not None and (d.state in ("met", "missed") or d.due_at <= now)


class StatsService:
    """Monthly figures per unit and per worker, in chat and (later) in ledgers and the console."""

    def __init__(
        self,
        cases: Cases,
        deadlines: Deadlines,
        followers: Followers,
        calls: Calls,
        org: OrgService,
        people: PeopleService,
        markers: Markers,
        notices: Notices,
        clock: Clock,
        snapshots: RateSnapshots | None = None,
        quiet: QuietHours | None = None,
    ) -> None:
        self.quiet = quiet or QuietHours()
        self.snapshots = snapshots
        self.cases = cases
        self.deadlines = deadlines
        self.followers = followers
        self.calls = calls
        self.org = org
        self.people = people
        self.markers = markers
        self.notices = notices
        self.clock = clock
        # One unit of work (an update, a page) asks for a month's rates more than once (the trend, the ranking,
        # the map); they are computed once per instance, which lives as long as that unit of work.
        self._rates: dict[tuple[str, str], tuple[Rates, list[Rates]]] = {}

    async def _data(self, code: str, start: datetime, end: datetime) -> tuple[list[Case], set[int], list[Deadline]]:
        units = [code] + [u.code for u in await self.org.below(code)]
        cases = [c for c in await self.cases.in_month(units, start, end) if c.close_reason != "merged"]
        ids = [c.id for c in cases]
        # Only whether a case climbed is counted: asking for that, not for every timeline, keeps a month of a
        # big street (tens of thousands of cases, four events each) from loading every event.
        return cases, await self.cases.with_action(ids, "escalate"), await self.deadlines.of_cases(ids)

    async def body(self, code: str, label: str) -> BodyFigures:
        """A called body's own figures for a month (a department, a property company): its calls and how they went."""
        start, end = month_bounds(label)
        return await body_figures(self.calls, self.deadlines, self.cases, code, start, end)

    async def rates(self, unit: Unit, label: str, max_age: timedelta | None = None) -> tuple[Rates, list[Rates]]:
        """The unit's figures for a month, and (for a community or street) its grids' figures, best first.

        With `max_age`, a closed month's figures may come from its snapshot if it is no older than that."""
        key = (unit.code, label)
        if key in self._rates:
            return self._rates[key]
        closed = label < local(self.clock()).strftime("%Y-%m")
        if max_age is not None and closed and self.snapshots is not None:
            found = await self.snapshots.get(unit.code, label)
            if found is not None and self.clock() - found[0] <= max_age:
                self._rates[key] = _decode(found[1])
                return self._rates[key]
        self._rates[key] = await self._compute_rates(unit, label)
        if closed and self.snapshots is not None:
            await self.snapshots.put(unit.code, label, self.clock(), _encode(self._rates[key]))
        return self._rates[key]

    async def refresh_snapshots(self, limit: int) -> int:
        """Recompute up to `limit` stale closed-month figures of streets and communities (the runner's job)."""
        if self.snapshots is None:
            return 0
        now = self.clock()
        # The closed months before this one, the most recent first (the one a desk looks at most).
        months = months_back(local(now).strftime("%Y-%m"), SNAPSHOT_MONTHS + 1)[-2::-1]
        units = [u for level in (Level.STREET, Level.COMMUNITY) for u in await self.org.of_level(level)]
        ages = await self.snapshots.ages([u.code for u in units], months)
        stale = [
            (unit, label)
            for label in months
            for unit in units
            if now - ages.get((unit.code, label), datetime.min.replace(tzinfo=CHINA_TZ)) > SNAPSHOT_FRESH
        ]
        for unit, label in stale[:limit]:
            self._rates.pop((unit.code, label), None)
            await self.rates(unit, label)
        return min(len(stale), limit)

    async def _compute_rates(self, unit: Unit, label: str) -> tuple[Rates, list[Rates]]:
        start, end = month_bounds(label)
        cases, escalated, clocks = await self._data(unit.code, start, end)
        now = self.clock()
        by_case: dict[int, list[Deadline]] = {}
        for d in clocks:
            by_case.setdefault(d.case_id, []).append(d)
        ids = [c.id for c in cases]
        follower_counts = await self.followers.counts(ids)
        called_cases = {c.case_id for c in await self.calls.of_cases(ids)}
        totals = Rates(unit.code, unit.name)
        grids: dict[str, Rates] = {}
        if unit.level in (Level.COMMUNITY, Level.STREET):
            grids = {g.code: Rates(g.code, g.name) for g in await self.org.below(unit.code, Level.GRID)}
        for case in cases:
            targets = [totals] + ([grids[case.origin_unit]] if case.origin_unit in grids else [])
            mine = by_case.get(case.id, [])
            claim, resolve = _first(mine, "claim"), _first(mine, "resolve")
            followers = follower_counts.get(case.id, 0)
            called = case.id in called_cases
            current_round = [d for d in mine if d.kind in ("claim", "on_site", "resolve")]
            latest = max((d.started_at for d in current_round), default=None)
            overdue = case.state not in (CaseState.RESOLVED, CaseState.CLOSED) and any(
                d.state == "missed" and d.started_at == latest for d in current_round
            )
            for r in targets:
                r.received += 1
                r.reports += 1 + followers
                if _decided(claim, now):
                    r.claim_decided += 1
                    r.claimed_in_time += claim is not None and claim.state == "met"
                if _decided(resolve, now):
                    r.resolve_decided += 1
                    r.resolved_in_time += resolve is not None and resolve.state == "met"
                r.resolved += case.state in (CaseState.RESOLVED, CaseState.CLOSED)
                if case.rating is not None:
                    r.rated += 1
                    r.satisfied += case.rating.value in ("satisfied", "basic")
                r.reopened += case.reopen_count > 0
                r.overdue_now += overdue
                r.escalated += case.id in escalated
                r.department_cases += called
        ranked = sorted(grids.values(), key=lambda r: (-(r.on_time_rate or 0), -(r.satisfaction_rate or 0), r.unit))
        return totals, ranked

    async def workers(self, unit: Unit, label: str) -> list[WorkerStats]:
        """Per staff member: claims, resolutions, medians, on-time rate, ratings (for them and levels above)."""
        start, end = month_bounds(label)
        units = [unit.code] + [u.code for u in await self.org.below(unit.code)]
        cases = {c.id: c for c in await self.cases.in_month(units, start - timedelta(days=92), end)}
        events = await self.cases.events_of(list(cases))
        clocks = await self.deadlines.of_cases(list(cases))
        out: dict[int, WorkerStats] = {}
        round_start: dict[int, datetime] = {}
        claimed_at: dict[int, datetime] = {}
        # Each round's rating belongs to that round's resolver, counted once (a reopened case has two rounds).
        resolver: dict[int, WorkerStats | None] = {}
        for e in sorted(events, key=lambda e: e.at):
            case = cases[e.case_id]
            if e.action in ("submit", "reopen"):
                round_start[case.id] = e.at
            if e.action in RATED and e.note:
                verdict = e.note.partition(" ")[0]
                rated = resolver.pop(case.id, None)
                if rated is not None and verdict in RATINGS:
                    rated.ratings[verdict] += 1
            if e.actor_id is None or not start <= local(e.at) < end:
                if e.action == "claim":
                    claimed_at[case.id] = e.at
                if e.action == "resolve":
                    resolver[case.id] = None  # resolved in another month: its rating is that month's
                continue
            if e.action not in ("claim", "resolve"):
                continue
            w = out.get(e.actor_id)
            if w is None:
                person = await self.people.get(e.actor_id)
                w = out[e.actor_id] = WorkerStats(e.actor_id, person.display_name if person else "?")
            if e.action == "claim":
                claimed_at[case.id] = e.at
                w.claimed += 1
                w.claim_minutes.append((e.at - round_start.get(case.id, case.created_at)).total_seconds() / 60)
            else:
                w.resolved += 1
                resolver[case.id] = w
                if case.id in claimed_at:
                    w.resolve_minutes.append((e.at - claimed_at[case.id]).total_seconds() / 60)
                due = [d for d in clocks if d.case_id == case.id and d.kind == "resolve" and d.started_at <= e.at]
                if due and e.at <= max(due, key=lambda d: d.started_at).due_at:
                    w.resolved_in_time += 1
        return sorted(out.values(), key=lambda w: (-w.resolved, -w.claimed, w.name))

    async def may_see(self, user: User, code: str) -> bool:
        """Figures of a unit are for its staff and the levels above (never for residents)."""
        return await self.org.may_handle(user, code)

    async def post_monthly(self) -> list[str]:
        """On the 1st (or the first days after), last month's comparison in each community and street group."""
        now = self.clock()
        if local(now).day > 7 or self.quiet.contains(now):
            return []  # never at night: the month's figures wait for the morning
        _, _, label = previous_month(now)
        if await self.markers.seen(f"stats:{label}"):
            return []  # every sweep of the first week passes here: one read once the month is posted
        posted = []
        for level in (Level.COMMUNITY, Level.STREET):
            for unit in await self.org.of_level(level):
                if not await self.org.has_group(unit.code) or not await self.markers.claim(
                    f"stats:{label}:{unit.code}"
                ):
                    continue
                totals, grids = await self.rates(unit, label)
                if not totals.received:
                    continue  # a month with nothing received (e.g. before the bot went live) is not a comparison
                await self.notices.emit(
                    Notice("stats.month", Audience.unit(unit.code), {"month": label, "rates": totals, "grids": grids})
                )
                posted.append(unit.code)
        await self.markers.claim(f"stats:{label}")
        return posted
