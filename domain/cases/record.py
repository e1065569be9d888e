"""Reading cases and recording what happens to them: compare-and-set moves, each with its timeline step."""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

from domain.cases.model import Case, CaseEvent, CaseState
from domain.cases.ports import Cases
from domain.kernel.errors import Conflict, NotFound
from domain.kernel.notices import Word
from domain.kernel.people import PeopleService
from domain.kernel.time import Clock


class CaseRecord:
    """Cases and their timelines, as the lifecycle changes them."""

    def __init__(self, cases: Cases, people: PeopleService, clock: Clock) -> None:
        self.cases = cases
        self.people = people
        self.clock = clock

    async def get(self, case_id: int) -> Case:
        """A case or NotFound."""
        case = await self.cases.get(case_id)
        if case is None:
            raise NotFound("case_not_found")
        return case

    async def by_number(self, number: str) -> Case:
        """A case by its number (SB20261201-0001), as staff type it."""
        found = await self.cases.by_number(number.strip().upper()[:32])
        if found is None:
            raise Conflict("case_number_unknown", number=number.strip()[:32])
        return found

    async def move(
        self,
        case: Case,
        actor_id: int | None,
        to: CaseState,
        action: str,
        note: str | None = None,
        photo: str | None = None,
        **changes: object,
    ) -> Case:
        """Change the case if nobody changed it first (else the polite conflict), and record the step."""
        if not await self.cases.transition(case.id, case.state, case.rev, to, **changes):
            await self.conflict(case.id)
        await self.step(case, actor_id, action, note, photo, to)
        return await self.get(case.id)

    async def step(
        self,
        case: Case,
        actor_id: int | None,
        action: str,
        note: str | None = None,
        photo: str | None = None,
        to: CaseState | None = None,
        at: datetime | None = None,
    ) -> None:
        """A step in the timeline that does not change the case itself (a note, a call, a supervision)."""
        await self.cases.add_event(
            CaseEvent(case.id, actor_id, at or self.clock(), case.state, to or case.state, action, note, photo)
        )

    async def conflict(self, case_id: int) -> NoReturn:
        """Somebody was faster: say what the case is now, and who holds it."""
        current = await self.get(case_id)
        who = None
        if current.assignee_id:
            holder = await self.people.get(current.assignee_id)
            who = holder.display_name if holder else None
        raise Conflict("case_changed", state=Word(f"state.{current.state.value}"), who=who or "-")

    async def events(self, case_id: int) -> list[CaseEvent]:
        """A case's timeline, oldest first."""
        return await self.cases.events(case_id)
