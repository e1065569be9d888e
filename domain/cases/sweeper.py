"""The deadline sweeper: reminders, overdue cases, escalation, follow-up and departments' report-in.

It acts on each deadline exactly once: storage hands out due rows locked (PostgreSQL `FOR UPDATE SKIP LOCKED`;
SQLite's writer lock serialises), and every action changes the row in the same transaction. A runner that
was down when something fell due acts on it when it is back (anything due *by now* is due).
"""

from __future__ import annotations

import datetime as dt

from domain.cases.core import OPEN
from domain.cases.deadlines import CASE_CLOCKS, reminder_at
from domain.cases.model import Case, CaseEvent, CaseState, Deadline
from domain.cases.ports import Deadlines
from domain.cases.service import CaseService
from domain.kernel.notices import Audience, Notice, PostMode, Word
from domain.org.model import Level


class Sweeper:
    """Finds what is due and acts."""

    def __init__(self, cases: CaseService, deadlines: Deadlines, reminders: tuple[float, ...]) -> None:
        self.cases = cases
        self.deadlines = deadlines
        self.reminders = reminders

    async def sweep(self, limit: int = 500) -> tuple[int, int]:
        """Act on what is due now (at most `limit` deadlines); returns (deadlines handled, actions taken)."""
        now = self.cases.clock()
        due = await self.deadlines.due(now, limit)
        acted = 0
        for d in due:
            case = await self.cases.cases.get(d.case_id)
            if case is None:
                await self.deadlines.update(d.id, "open", state="cancelled", next_at=None)
                continue
            acted += await self._act(d, case, now)
        return len(due), acted

    async def _act(self, d: Deadline, case: Case, now: dt.datetime) -> int:
        if d.kind in CASE_CLOCKS:
            if case.state not in OPEN:
                await self.deadlines.update(d.id, "open", state="cancelled", next_at=None)
                return 0
            if now < d.due_at:
                return await self._remind(d, case, now)
            return await self._overdue(d, case)
        if d.kind == "escalate":
            await self.deadlines.update(d.id, "open", state="met", next_at=None)
            unit = await self.cases.org.get(case.unit_code)
            if case.state in OPEN and unit.level in (Level.GRID, Level.COMMUNITY):
                await self.cases.escalate(case, None, "")
                return 1
            return 0
        if d.kind in ("follow_up_remind", "follow_up_close"):
            await self.deadlines.update(d.id, "open", state="met", next_at=None)
            if case.state is not CaseState.RESOLVED:
                return 0
            if d.kind == "follow_up_remind":
                await self.cases.ask_rating(case, "case.rate_reminder")
            else:
                await self.cases.close_unrated(case)
            return 1
        if d.kind == "report_in":
            return await self._report_in_missed(d, case)
        await self.deadlines.update(d.id, "open", state="cancelled", next_at=None)
        return 0

    async def _remind(self, d: Deadline, case: Case, now: dt.datetime) -> int:
        clocks = self.cases.clocks
        due = [
            i
            for i, share in enumerate(self.reminders)
            if i >= d.reminders_sent and reminder_at(d, share, clocks.calendar, clocks.policy.office_hours) <= now
        ]
        if not due:
            d.next_at = clocks.next_at(d, self.reminders)
            await self.deadlines.update(d.id, "open", next_at=d.next_at)
            return 0
        # A sweeper that was away sends only the latest reminder that fell due, not a burst of stale ones.
        d.reminders_sent = due[-1] + 1
        d.next_at = clocks.next_at(d, self.reminders)
        await self.deadlines.update(d.id, "open", reminders_sent=d.reminders_sent, next_at=d.next_at)
        holder = await self.cases.people.get(case.assignee_id) if case.assignee_id else None
        await self.cases.notices.emit(
            Notice(
                "case.reminder",
                Audience.unit(case.unit_code),
                {
                    "number": case.number,
                    "deadline": Word(f"deadline.{d.kind}"),
                    "due": d.due_at,
                    "holder": holder.display_name if holder else Word("case.nobody"),
                },
            )
        )
        return 1

    async def _overdue(self, d: Deadline, case: Case) -> int:
        if not await self.deadlines.update(d.id, "open", state="missed", next_at=None):
            return 0
        earlier = [x for x in await self.deadlines.of_cases([case.id]) if x.state == "missed" and x.id != d.id]
        now = self.cases.clock()
        await self.cases.cases.add_event(CaseEvent(case.id, None, now, case.state, case.state, "overdue", d.kind))
        await self.cases.show(case, PostMode.UPDATE)
        if not [x for x in earlier if x.started_at >= d.started_at]:
            # Told honestly, once per round of clocks (a reopened case starts a new round).
            await self.cases.tell_reporter(case, "case.late", deadline=Word(f"deadline.{d.kind}"))
        unit = await self.cases.org.get(case.unit_code)
        if unit.level is Level.GRID:
            # A late case goes to the grid head before it leaves the grid.
            heads = await self.cases.org.heads(unit.code)
            for head in heads:
                await self.cases.notices.emit(
                    Notice(
                        "case.late_to_head",
                        Audience.person(head.id),
                        {"number": case.number, "deadline": Word(f"deadline.{d.kind}"), "unit": unit.name},
                        fallback=Audience.unit(unit.code),
                    )
                )
        await self.cases.clocks.escalation(case)
        return 1

    async def _report_in_missed(self, d: Deadline, case: Case) -> int:
        await self.deadlines.update(d.id, "open", state="missed", next_at=None)
        call = await self.cases.calls.get(case.id, d.ref)
        if call is None or call.state != "called":
            return 0
        await self.cases.calls.update(case.id, d.ref, "called", state="missed")
        department = await self.cases.org.get(d.ref)
        street = next((u for u in await self.cases.org.lineage(case.unit_code) if u.level is Level.STREET), None)
        if street is not None:
            await self.cases.notices.emit(
                Notice(
                    "call.missed",
                    Audience.unit(street.code),
                    {"number": case.number, "department": department.name},
                )
            )
        await self.cases.show(case, PostMode.UPDATE)
        return 1
