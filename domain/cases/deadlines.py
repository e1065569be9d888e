"""The clocks on a case, computed at each transition from the service-level policy and the working calendar.

A deadline is a row: when it started, when it is due, whether it was met or missed, how many reminders went
out, and the next moment the sweeper has something to do with it (a reminder, or the deadline itself).

The rules, written once:
- **met or missed** is decided at the moment of the action that stops a clock, against its due time
  (`Deadline.verdict`), never by when a sweeper runs; a clock the sweeper already found missed stays missed;
- a **working-time** clock (working hours, working days) ends inside office hours, so its reminders, its
  overdue notice and the escalation it starts all fall in office hours; only wall-clock (urgent) clocks may
  run out at night;
- a case is **still late** while a clock that binds it in its current state has run out; only then does the
  escalation clock, when it runs out, move an unclaimed case up (`climb`) or tell the level above of a held one
  (`supervise`).
"""

from __future__ import annotations

import datetime as dt
import logging

from domain.cases.lifecycle import Clocks
from domain.cases.model import Case, CaseState, Deadline
from domain.cases.ports import Deadlines
from domain.cases.sla import Duration, Policy
from domain.kernel.markers import Markers
from domain.kernel.notices import Audience, Notice, Notices
from domain.kernel.time import Clock
from domain.kernel.workdays import WorkCalendar
from domain.org.service import OrgService

log = logging.getLogger(__name__)
CASE_CLOCKS = ("claim", "on_site", "resolve")
FOLLOW_UPS = ("follow_up_remind", "follow_up_close")
# The clocks that still bind a case in a state (a late claim is history once the case is claimed).
BINDING = {
    CaseState.NEW: ("claim", "on_site", "resolve"),
    CaseState.CLAIMED: ("on_site", "resolve"),
    CaseState.ON_SITE: ("resolve",),
}


def reminder_at(d: Deadline, share: float, calendar: WorkCalendar, office: tuple[dt.time, dt.time]) -> dt.datetime:
    """When `share` of a deadline's time has passed: of its office time if it counts working time."""
    if d.working:
        return calendar.office_point(d.started_at, d.due_at, share, office)
    return d.started_at + (d.due_at - d.started_at) * share


def next_at(
    d: Deadline, reminders: tuple[float, ...], calendar: WorkCalendar, office: tuple[dt.time, dt.time]
) -> dt.datetime:
    """The next moment the sweeper acts on a deadline: its next reminder, else the deadline itself."""
    for i, share in enumerate(reminders):
        if i >= d.reminders_sent:
            at = reminder_at(d, share, calendar, office)
            if at < d.due_at:
                return at
    return d.due_at


def current_round(clocks: list[Deadline]) -> list[Deadline]:
    """The case clocks of the latest round (a reopened or climbed case starts a new one)."""
    mine = [d for d in clocks if d.kind in CASE_CLOCKS and d.state != "cancelled"]
    if not mine:
        return []
    latest = max(d.started_at for d in mine if d.kind == "claim") if any(d.kind == "claim" for d in mine) else None
    return [d for d in mine if latest is None or d.started_at >= latest]


def still_late(case: Case, clocks: list[Deadline], now: dt.datetime) -> list[Deadline]:
    """The clocks that bind the case in its state and have run out (empty: it is not late now)."""
    binding = BINDING.get(case.state, ())
    return [
        d
        for d in clocks
        if d.kind in binding and (d.state == "missed" or (d.state == "open" and d.verdict(now) == "missed"))
    ]


class DeadlineClock:
    """Starts, stops and moves the clocks of cases."""

    def __init__(
        self,
        deadlines: Deadlines,
        policy: Policy,
        calendar: WorkCalendar,
        org: OrgService,
        clock: Clock,
        markers: Markers,
        notices: Notices,
    ) -> None:
        self.deadlines = deadlines
        self.policy = policy
        self.calendar = calendar
        self.org = org
        self.clock = clock
        self.markers = markers
        self.notices = notices

    def next_at(self, d: Deadline, reminders: tuple[float, ...] | None = None) -> dt.datetime:
        """The next moment the sweeper acts on this deadline (case clocks are reminded; others are not)."""
        if reminders is None:
            reminders = self.policy.reminders if d.kind in CASE_CLOCKS else ()
        return next_at(d, reminders, self.calendar, self.policy.office_hours)

    async def _estimated(self, start: dt.datetime, due: dt.datetime) -> None:
        # A year nobody knows the holidays of: said once to the admins and in the log, per year.
        for year in range(start.year, due.year + 1):
            if self.calendar.coverage(year).estimated and await self.markers.claim(f"calendar-estimated:{year}"):
                log.warning("no holiday schedule for %s: Monday–Friday counted as working days (estimated)", year)
                await self.notices.emit(Notice("admin.calendar_estimated", Audience.admins(), {"year": year}))

    async def _units(self, case: Case) -> tuple[str, ...]:
        # A unit's own closed days and its ancestors' count for its cases.
        return tuple(u.code for u in await self.org.lineage(case.unit_code))

    async def _add(self, case: Case, kind: str, duration: Duration, start: dt.datetime, ref: str = "") -> Deadline:
        due, estimated = duration.after(start, self.calendar, self.policy.office_hours, await self._units(case))
        if estimated:
            await self._estimated(start, due)
        reminders = self.policy.reminders if kind in CASE_CLOCKS else ()
        working = duration.unit in ("working_hours", "working_days")
        d = Deadline(0, case.id, kind, start, due, estimated=estimated, ref=ref, working=working)
        d.next_at = self.next_at(d, reminders)
        d.id = await self.deadlines.add(d)
        return d

    async def apply(self, effect: Clocks, case: Case) -> list[Deadline]:
        """Carry out a lifecycle row's effect on the clocks; returns the clocks the action found missed."""
        match effect:
            case Clocks.CLAIM_MET:
                return await self.judge(case, ("claim",))
            case Clocks.ON_SITE_MET:
                return await self.judge(case, ("on_site",))
            case Clocks.RESOLVED:
                return await self.resolved(case)
            case Clocks.NEW_ROUND:
                await self.start(case)
            case Clocks.FRESH_AT_LEVEL:
                await self.climbed(case)
            case Clocks.ESCALATION:
                await self.escalation(case)
            case Clocks.RESCHEDULE:
                await self.reschedule(case)
            case Clocks.PAUSE:
                await self.pause(case)
            case Clocks.RESUME:
                await self.resume(case)
            case Clocks.STOP:
                await self.stop(case, None)
            case Clocks.RATED:
                missed = await self.judge(case, ("follow_up_close",))
                await self.stop(case, None)
                return missed
        return []

    async def start(self, case: Case) -> list[Deadline]:
        """Fresh claim / on-site / resolve clocks (a new case, or a reopened one), from now."""
        await self.stop(case, None)
        now = self.clock()
        levels = self.policy.levels(case.category, case.urgent)
        out = []
        for kind in CASE_CLOCKS:
            duration = levels.get(kind)
            if duration is not None:
                out.append(await self._add(case, kind, duration, now))
        return out

    async def climbed(self, case: Case) -> None:
        """At its new level the case gets fresh claim (and on-site) clocks; the resolve clock promised to the
        reporter runs on, and only one that already ran out is replaced, so the case is never without one."""
        now = self.clock()
        levels = self.policy.levels(case.category, case.urgent)
        open_resolve = False
        for d in await self.deadlines.open_for(case.id):
            if d.kind == "resolve":
                open_resolve = True
            elif d.kind in ("claim", "on_site", "escalate"):
                await self.deadlines.update(d.id, "open", state="cancelled", next_at=None)
        for kind in CASE_CLOCKS:
            duration = levels.get(kind)
            if duration is not None and (kind != "resolve" or not open_resolve):
                await self._add(case, kind, duration, now)

    async def judge(self, case: Case, kinds: tuple[str, ...]) -> list[Deadline]:
        """An action stops these clocks: each met or missed by the action's own time; returns the missed."""
        now, missed = self.clock(), []
        for d in await self.deadlines.open_for(case.id):
            if d.kind in kinds:
                verdict = d.verdict(now)
                await self.deadlines.update(d.id, "open", state=verdict, next_at=None, paused_at=None)
                if verdict == "missed":
                    missed.append(d)
        return missed

    async def missed(self, d: Deadline) -> bool:
        """The sweeper found a clock run out (False if an action decided it first)."""
        return await self.deadlines.update(d.id, "open", state="missed", next_at=None)

    async def stop(self, case: Case, kinds: tuple[str, ...] | None) -> None:
        """Cancel open clocks (all of them when kinds is None)."""
        for d in await self.deadlines.open_for(case.id):
            if kinds is None or d.kind in kinds:
                await self.deadlines.update(d.id, "open", state="cancelled", next_at=None)

    async def resolved(self, case: Case) -> list[Deadline]:
        """Resolved: the case clocks stop (each judged); the follow-up (回访) clocks start."""
        missed = await self.judge(case, CASE_CLOCKS)
        await self.stop(case, ("escalate",))
        now = self.clock()
        await self._add(case, "follow_up_remind", self.policy.follow_up_remind, now)
        await self._add(case, "follow_up_close", self.policy.follow_up_close, now)
        return missed

    async def escalation(self, case: Case, told: str = "") -> Deadline | None:
        """After a missed deadline: when the level above acts (once an escalation is pending, no second one).
        `told` is the unit last told of the case (a supervised case climbs its supervision, not itself)."""
        if any(d.kind == "escalate" for d in await self.deadlines.open_for(case.id)):
            return None
        duration = self.policy.escalate_after_urgent if case.urgent else self.policy.escalate_after
        return await self._add(case, "escalate", duration, self.clock(), told)

    async def report_in(self, case: Case, department: str) -> Deadline:
        """A called department's time to report in."""
        duration = self.policy.report_in(department, case.urgent)
        return await self._add(case, "report_in", duration, self.clock(), department)

    async def reported(self, case: Case, department: str) -> str | None:
        """The department reported in: its clock met or missed by now (None if it had no open clock)."""
        now = self.clock()
        for d in await self.deadlines.open_for(case.id):
            if d.kind == "report_in" and d.ref == department:
                verdict = d.verdict(now)
                await self.deadlines.update(d.id, "open", state=verdict, next_at=None)
                return verdict
        return None

    async def reschedule(self, case: Case) -> None:
        """The category or urgency changed: open case clocks are recomputed from when they started."""
        levels = self.policy.levels(case.category, case.urgent)
        units = await self._units(case)
        open_kinds = set()
        for d in await self.deadlines.open_for(case.id):
            if d.kind not in CASE_CLOCKS:
                continue
            open_kinds.add(d.kind)
            duration = levels.get(d.kind)
            if duration is None:
                await self.deadlines.update(d.id, "open", state="cancelled", next_at=None)
                continue
            due, estimated = duration.after(d.started_at, self.calendar, self.policy.office_hours, units)
            d.due_at, d.estimated = due, estimated
            d.working = duration.unit in ("working_hours", "working_days")
            await self.deadlines.update(
                d.id, "open", due_at=due, estimated=estimated, working=d.working, next_at=self.next_at(d)
            )
        # An urgent case gains clocks a normal one lacked (on site within 10 minutes) — only while they can matter.
        started = {"claim": case.state is CaseState.NEW, "on_site": case.state in (CaseState.NEW, CaseState.CLAIMED)}
        for kind in ("claim", "on_site"):
            duration = levels.get(kind)
            if duration is not None and kind not in open_kinds and started[kind]:
                await self._add(case, kind, duration, self.clock())

    async def pause(self, case: Case) -> bool:
        """Waiting for the reporter: open clocks stop running (False if they were paused already)."""
        now, changed = self.clock(), False
        for d in await self.deadlines.open_for(case.id):
            if d.paused_at is None:
                changed |= await self.deadlines.update(d.id, "open", paused_at=now)
        return changed

    async def resume(self, case: Case) -> bool:
        """The reporter answered: paused clocks run on, moved by the time they were paused."""
        now, changed = self.clock(), False
        for d in await self.deadlines.open_for(case.id):
            if d.paused_at is not None:
                shift = now - d.paused_at
                d.started_at, d.due_at = d.started_at + shift, d.due_at + shift
                if d.working:
                    # Office time left at the pause runs on from now: a working clock still ends in office hours.
                    office, units = self.policy.office_hours, await self._units(case)
                    left = self.calendar.office_time(d.paused_at, d.due_at - shift, office, units)
                    d.due_at, _ = self.calendar.add_work_hours(now, left.total_seconds() / 3600, office, units)
                changed |= await self.deadlines.update(
                    d.id,
                    "open",
                    paused_at=None,
                    started_at=d.started_at,
                    due_at=d.due_at,
                    next_at=self.next_at(d),
                )
        return changed

    async def paused(self, case: Case) -> bool:
        """Whether the case's clocks are paused."""
        return any(d.paused_at is not None for d in await self.deadlines.open_for(case.id))

    async def current(self, case: Case) -> list[Deadline]:
        """The open clocks of a case."""
        return await self.deadlines.open_for(case.id)
