"""Carrying out the lifecycle table: the one entry point for every action on a case (buttons, commands, console)."""

from __future__ import annotations

from domain.cases import lifecycle
from domain.cases.core import OPEN
from domain.cases.model import MAX_TEXT, Case, CaseEvent, Deadline
from domain.cases.verdicts import CaseVerdicts
from domain.kernel.errors import Conflict, Forbidden, Invalid
from domain.kernel.notices import Audience, Notice, Phrase, PostMode, Word
from domain.kernel.people import User

__all__ = ["CaseService"]


class CaseService(CaseVerdicts):
    """Case transitions: each checked against the table, recorded, and told to whom it concerns."""

    async def allowed(self, case: Case, user: User) -> list[str]:
        """What this person may do with the case now (a front end shows exactly these)."""
        unit = await self.org.get(case.unit_code)
        return lifecycle.allowed(case, unit.level, await self.actors(case, user))

    async def check(self, case_id: int, action: str, rev: int, actor: User) -> Case:
        """The case, if this person may take this action on it now (else the refusal the action would get)."""
        case = await self.get(case_id)
        await self._check(case, action, rev, actor)
        return case

    async def act(self, case_id: int, action: str, rev: int, actor: User, value: str = "") -> Case:
        """Take an action of the table on a case (a button press, a command, or a console's action)."""
        case = await self.get(case_id)
        t = await self._check(case, action, rev, actor)
        # Who the step is shown as: the person acting, or the worker a desk claims the case for.
        holder, note = actor, None
        if action == "claim":
            holder = await self._claimant(case, actor, value)
            if holder.id != actor.id:
                # A grid worker phoned the desk from the street: the case is theirs (their clocks, their
                # figures), and the story says who assigned it.
                await self.cases.add_event(
                    CaseEvent(case.id, actor.id, self.clock(), case.state, case.state, "assign", holder.display_name)
                )
                note = Phrase("case.note.assigned", {"by": actor.display_name})
            case = await self._move(case, holder, t.target or case.state, action, assignee_id=holder.id)
            await self.clocks.met(case, "claim")
            if note is not None:
                params = {
                    "number": case.number,
                    "category": Word(f"category.{case.category}"),
                    "by": actor.display_name,
                }
                await self.notices.emit(Notice("case.assigned", Audience.person(holder.id), params))
        elif action == "onsite":
            case = await self._move(case, actor, t.target or case.state, action)
            await self.clocks.met(case, "on_site")
        elif action == "resolve":
            return await self._ask_resolve_note(case, actor)
        elif action == "reject":
            return await self._reject(case, actor)
        elif action == "dispatch":
            return await self._dispatch(case, actor, value)
        elif action == "recategorize":
            return await self._recategorize(case, actor, value)
        elif action == "rate":
            return await self._rate(case, actor, value)
        elif action == "reopen":
            return await self._reopen(case, actor)
        elif action == "escalate":
            return await self.escalate(case, actor, value)
        elif action == "merge":
            return await self.merge(case, int(value) if value.isdigit() else 0, actor)
        else:
            raise Invalid("unknown_action")
        await self.show(case, PostMode.UPDATE, holder, note=note)
        await self.tell_reporter(case, t.tell_reporter or "", who=holder.display_name)
        return case

    async def claimants(self, case: Case) -> list[User]:
        """Who a desk may claim the case for: the staff of the case's unit."""
        return await self.org.members(case.unit_code)

    async def _claimant(self, case: Case, actor: User, value: str) -> User:
        # The person claiming, or the staff member of the case's unit a desk names.
        if not value:
            return actor
        holder = await self.people.get(int(value)) if value.isdigit() and len(value) < 19 else None
        if holder is None or not await self.org.may_handle(holder, case.unit_code):
            raise Invalid("claim_for_not_staff")
        return holder

    async def by_number(self, number: str) -> Case:
        """A case by its number (SB20261201-0001), as staff type it."""
        found = await self.cases.by_number(number.strip().upper()[:32])
        if found is None:
            raise Conflict("case_number_unknown", number=number.strip()[:32])
        return found

    async def set_urgency(self, case_id: int, urgent: bool, actor: User, reason: str) -> Case:
        """Staff raise a case to urgent or lower it, with a reason; its clocks are recomputed."""
        case = await self.get(case_id)
        if not await self.org.may_handle(actor, case.unit_code):
            raise Forbidden("not_your_case")
        if case.state not in OPEN:
            raise Conflict("case_closed")
        reason = reason.strip()
        if not reason or len(reason) > MAX_TEXT:
            raise Invalid("urgency_usage")
        if case.urgent == urgent:
            return case
        case = await self._move(case, actor, case.state, "urgent" if urgent else "not_urgent", reason, urgent=urgent)
        await self.clocks.reschedule(case)
        note = Phrase("case.note.urgency", {"urgent": Word(f"urgency.{urgent}"), "reason": reason})
        await self.show(case, PostMode.UPDATE, actor, note=note)
        return case

    async def pause(self, case_id: int, actor: User, reason: str) -> Case:
        """Waiting for the reporter (an answer, access to a flat): the clocks stop until it is resumed."""
        case = await self.get(case_id)
        if not await self.org.may_handle(actor, case.unit_code):
            raise Forbidden("not_your_case")
        if case.state not in OPEN or not await self.clocks.pause(case):
            raise Conflict("cannot_pause")
        await self.cases.add_event(CaseEvent(case.id, actor.id, self.clock(), case.state, case.state, "pause", reason))
        await self.tell_reporter(case, "case.paused", reason=reason or "-")
        return case

    async def resume(self, case_id: int, actor: User | None) -> Case:
        """The clocks run again, moved by the pause."""
        case = await self.get(case_id)
        if actor is not None and not await self.org.may_handle(actor, case.unit_code):
            raise Forbidden("not_your_case")
        if not await self.clocks.resume(case):
            raise Conflict("not_paused")
        actor_id = actor.id if actor else None
        await self.cases.add_event(CaseEvent(case.id, actor_id, self.clock(), case.state, case.state, "resume", None))
        await self.show(case, PostMode.UPDATE)
        return case

    async def timeline(self, case_id: int, user: User) -> tuple[Case, list[CaseEvent]]:
        """A case and its history, for its reporter, its followers or its staff."""
        case = await self.get(case_id)
        if not await self.actors(case, user) and user.id not in await self.followers.of_case(case.id):
            raise Forbidden("not_your_report")
        return case, await self.cases.events(case_id)

    async def clocks_of(self, case: Case) -> list[Deadline]:
        """Every clock of a case (running, met, missed)."""
        return await self.deadlines.of_cases([case.id])

    async def mine(self, user: User, limit: int = 10) -> list[Case]:
        """The reporter's latest cases."""
        return await self.cases.by_reporter(user.id, limit)
