"""The clocks on a case, computed at each transition from the service-level policy and the working calendar.

A deadline is a row: when it started, when it is due, whether it was met or missed, how many reminders went
out, and the next moment the sweeper has something to do with it (a reminder, or the deadline itself).
"""

from __future__ import annotations

import datetime as dt
import logging

from domain.cases.model import Case, Deadline
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

    async def met(self, case: Case, *kinds: str) -> None:
        """These clocks stopped in time (a missed one stays missed)."""
        for d in await self.deadlines.open_for(case.id):
            if d.kind in kinds:
                await self.deadlines.update(d.id, "open", state="met", next_at=None)

    async def stop(self, case: Case, kinds: tuple[str, ...] | None) -> None:
        """Cancel open clocks (all of them when kinds is None)."""
        for d in await self.deadlines.open_for(case.id):
            if kinds is None or d.kind in kinds:
                await self.deadlines.update(d.id, "open", state="cancelled", next_at=None)

    async def resolved(self, case: Case) -> None:
        """Resolved: the case clocks stop; the follow-up (回访) clocks start."""
        await self.met(case, *CASE_CLOCKS)
        await self.stop(case, ("escalate",))
        now = self.clock()
        await self._add(case, "follow_up_remind", self.policy.follow_up_remind, now)
        await self._add(case, "follow_up_close", self.policy.follow_up_close, now)

    async def escalation(self, case: Case) -> Deadline | None:
        """After a missed deadline: when the case climbs (once an escalation is pending, no second one)."""
        if any(d.kind == "escalate" for d in await self.deadlines.open_for(case.id)):
            return None
        duration = self.policy.escalate_after_urgent if case.urgent else self.policy.escalate_after
        return await self._add(case, "escalate", duration, self.clock())

    async def report_in(self, case: Case, department: str) -> Deadline:
        """A called department's time to report in."""
        duration = self.policy.department_report_in_urgent if case.urgent else self.policy.department_report_in
        return await self._add(case, "report_in", duration, self.clock(), department)

    async def reported(self, case: Case, department: str) -> None:
        """The department reported in."""
        for d in await self.deadlines.open_for(case.id):
            if d.kind == "report_in" and d.ref == department:
                await self.deadlines.update(d.id, "open", state="met", next_at=None)

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
        started = {"claim": case.state.value == "new", "on_site": case.state.value in ("new", "claimed")}
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
                changed |= await self.deadlines.update(
                    d.id,
                    "open",
                    paused_at=None,
                    started_at=d.started_at,
                    due_at=d.due_at,
                    next_at=self.next_at(d),
                )
        return changed

    async def current(self, case: Case) -> list[Deadline]:
        """The open clocks of a case."""
        return await self.deadlines.open_for(case.id)
