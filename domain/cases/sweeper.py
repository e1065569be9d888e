"""The deadline sweeper: reminders, overdue cases, escalation and supervision, follow-up, departments' report-in.

It acts on each deadline exactly once: storage hands out due rows locked (PostgreSQL `FOR UPDATE SKIP LOCKED`;
SQLite's writer lock serialises), and every action changes the row in the same transaction. A runner that
was down when something fell due acts on it when it is back (anything due *by now* is due); what it then
sends about a case that is not urgent waits for the morning if it is night (`domain/kernel/hours.py`).
What happens to a case is a row of the lifecycle table, run as the system.
"""

from __future__ import annotations

import datetime as dt

from domain.cases.deadlines import CASE_CLOCKS, DeadlineClock, reminder_at, still_late
from domain.cases.departments import WhistleService
from domain.cases.lifecycle import RULES, permits
from domain.cases.model import Case, CaseState, Deadline
from domain.cases.ports import Deadlines
from domain.cases.service import CaseService
from domain.kernel.notices import Audience, Notice, Word


class Sweeper:
    """Finds what is due and acts."""

    def __init__(
        self, cases: CaseService, whistle: WhistleService, deadlines: Deadlines, reminders: tuple[float, ...]
    ) -> None:
        self.cases = cases
        self.whistle = whistle
        self.deadlines = deadlines
        self.reminders = reminders

    @property
    def clocks(self) -> DeadlineClock:
        """The case clocks."""
        return self.cases.clocks

    async def sweep(self, limit: int = 500) -> tuple[int, int]:
        """Act on what is due now (at most `limit` deadlines); returns (deadlines handled, actions taken)."""
        now = self.cases.clock()
        due = await self.deadlines.due(now, limit)
        acted = 0
        for d in due:
            case = await self.cases.record.cases.get(d.case_id)
            if case is None:
                await self.deadlines.update(d.id, "open", state="cancelled", next_at=None)
                continue
            acted += await self._act(d, case, now)
        return len(due), acted

    async def _system(self, action: str, case: Case, value: str = "") -> bool:
        # A row the sweeper takes, if the case still allows it.
        row = RULES[action]
        standing = await self.cases.access.of(case, None)
        if not permits(row, case, standing):
            return False
        await self.cases.run(row, case, None, value)
        return True

    async def _act(self, d: Deadline, case: Case, now: dt.datetime) -> int:
        if d.kind in CASE_CLOCKS:
            if case.state not in (CaseState.NEW, CaseState.CLAIMED, CaseState.ON_SITE):
                await self.deadlines.update(d.id, "open", state="cancelled", next_at=None)
                return 0
            if now < d.due_at:
                return await self._remind(d, case, now)
            if not await self.clocks.missed(d):
                return 0
            return int(await self._system("overdue", case, d.kind))
        if d.kind == "escalate":
            await self.deadlines.update(d.id, "open", state="met", next_at=None)
            clocks = await self.deadlines.of_cases([case.id])
            if not still_late(case, clocks, now):
                return 0  # the late clock was met since (claimed, on site): nothing to escalate
            if case.state is CaseState.NEW:
                return int(await self._system("climb", case))
            # 首接负责: a held case is never taken from its holder; the level above is told.
            return int(await self._system("supervise", case, d.ref))
        if d.kind in ("follow_up_remind", "follow_up_close"):
            await self.deadlines.update(d.id, "open", state="met", next_at=None)
            action = "remind_rating" if d.kind == "follow_up_remind" else "close_unrated"
            return int(await self._system(action, case))
        if d.kind == "report_in":
            await self.deadlines.update(d.id, "open", state="missed", next_at=None)
            return int(await self.whistle.missed(case, d.ref))
        await self.deadlines.update(d.id, "open", state="cancelled", next_at=None)
        return 0

    async def _remind(self, d: Deadline, case: Case, now: dt.datetime) -> int:
        clocks = self.clocks
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
        holder = await self.cases.record.people.get(case.assignee_id) if case.assignee_id else None
        await self.cases.post.notices.emit(
            Notice(
                "case.reminder",
                Audience.unit(case.unit_code),
                {
                    "number": case.number,
                    "deadline": Word(f"deadline.{d.kind}"),
                    "due": d.due_at,
                    "holder": holder.display_name if holder else Word("case.nobody"),
                },
                urgent=case.urgent,
            )
        )
        return 1
