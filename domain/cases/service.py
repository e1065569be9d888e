"""Carrying out the lifecycle table: the one entry point for every operation on a case (buttons, commands, the
console, the sweeper). `act` checks the row's preconditions; `run` does its step and then what its columns say.
"""

from __future__ import annotations

from domain.cases import lifecycle, timeline
from domain.cases.access import CaseAccess
from domain.cases.deadlines import DeadlineClock
from domain.cases.lifecycle import Actor, Holder, Post, Row
from domain.cases.model import Case, CaseEvent, Deadline, DepartmentCall
from domain.cases.post import CasePost
from domain.cases.record import CaseRecord
from domain.cases.steps import Move, Steps
from domain.cases.timeline import Step
from domain.kernel.awaiting import Awaited, Conversation
from domain.kernel.errors import Forbidden, Invalid, NotFound
from domain.kernel.notices import PostMode
from domain.kernel.people import User
from domain.kernel.time import Clock
from domain.org.model import Level, Unit
from domain.org.service import OrgService

__all__ = ["CaseService"]


class CaseService:
    """Case operations: each checked against its row, carried out, recorded, shown and told."""

    def __init__(
        self,
        record: CaseRecord,
        post: CasePost,
        access: CaseAccess,
        clocks: DeadlineClock,
        steps: Steps,
        org: OrgService,
        conversation: Conversation,
        clock: Clock,
    ) -> None:
        self.record = record
        self.post = post
        self.access = access
        self.clocks = clocks
        self.steps = steps
        self.org = org
        self.conversation = conversation
        self.clock = clock

    async def get(self, case_id: int) -> Case:
        """A case or NotFound."""
        return await self.record.get(case_id)

    async def by_number(self, number: str) -> Case:
        """A case by its number, as staff type it."""
        return await self.record.by_number(number)

    async def actions_for(self, case: Case, user: User) -> list[str]:
        """What this person may do with the case now (every front end shows exactly these)."""
        return lifecycle.actions_for(case, await self.access.of(case, user))

    async def check(self, case_id: int, action: str, rev: int, actor: User) -> Case:
        """The case, if this person may take this action on it now (else the refusal the action would get)."""
        case = await self.get(case_id)
        row = lifecycle.rule(action)
        if row is None:
            raise Invalid("unknown_action")
        await self.access.check(row, case, rev, actor)
        return case

    async def act(
        self, case_id: int, action: str, rev: int, actor: User | None, value: str = "", photo: str | None = None
    ) -> Case:
        """Take an action of the table on a case (a button, a command, the console, or the sweeper as None)."""
        case = await self.get(case_id)
        row = lifecycle.rule(action)
        if row is None:
            raise Invalid("unknown_action")
        await self.access.check(row, case, rev if actor is not None else case.rev, actor)
        return await self.run(row, case, actor, value, photo)

    async def run(self, row: Row, case: Case, actor: User | None, value: str = "", photo: str | None = None) -> Case:
        """Do a row's step, then what its columns say: the move, holder, clocks, post and who is told."""
        step = self.steps.of(row.action)
        move = await step(case, actor, value, photo) if step is not None else Move()
        if move.then is not None:
            carried = move.done or case
            return await self.run(move.then, carried, actor, move.note or "", photo)
        if move.done is not None:
            return move.done
        changes = dict(move.changes)
        holder = {Holder.ACTOR: actor, Holder.VALUE: move.holder}.get(row.holder)
        if row.holder in (Holder.ACTOR, Holder.VALUE):
            assert holder is not None
            changes["assignee_id"] = holder.id
        elif row.holder is Holder.CLEAR:
            changes["assignee_id"] = None
        post = move.post or row.post
        if move.unit is not None and post is Post.MOVE:
            changes["unit_code"] = move.unit.code
        old_unit = case.unit_code
        who = move.event_actor or holder or actor
        who_id = who.id if who is not None else None
        if row.target is not None or changes:
            case = await self.record.move(
                case, who_id, row.target or case.state, row.event, move.note, move.photo, **changes
            )
        else:
            await self.record.step(case, who_id, row.event, move.note, move.photo)
        for late in await self.clocks.apply(row.clocks, case):
            # Decided at the moment of the action: a claim made after its deadline is late, whenever it is swept.
            await self.record.step(case, who_id, "overdue", late.kind)
        await self._show(post, case, old_unit, move)
        if move.tell is not None and (move.tell or row.tell):
            params = dict(move.tell_params)
            if who is not None:
                params.setdefault("who", who.display_name)
            await self.post.tell_reporter(case, move.tell or row.tell or "", **params)
        if move.after is not None:
            await move.after(case)
        return case

    async def _show(self, effect: Post, case: Case, old_unit: str, move: Move) -> None:
        match effect:
            case Post.UPDATE:
                await self.post.show(case, PostMode.UPDATE, note=move.card_note)
            case Post.MOVE:
                await self.post.close_supervision(case)
                await self.post.show(case, PostMode.CLOSE, status=move.status, unit_code=old_unit)
                await self.post.show(case, PostMode.NEW, banner=move.banner, note=move.card_note)
            case Post.REPOST:
                # The old post keeps its history but loses its buttons; the rework gets a fresh post.
                await self.post.show(case, PostMode.CLOSE, note=move.card_note)
                await self.post.show(case, PostMode.NEW, banner=move.banner)
            case Post.CLOSE:
                await self.post.show(case, PostMode.CLOSE, status=move.status)
            case Post.SUPERVISE:
                await self.post.show(case, PostMode.UPDATE)

    async def resolve(self, actor: User, note: str, photo: str | None) -> Case:
        """The awaited resolve note: the case is resolved, the reporter told and asked to rate."""
        awaiting = await self.conversation.awaits(actor.id, Awaited.RESOLVE_NOTE)
        if awaiting is None:
            raise NotFound("nothing_pending")
        if not note.strip() and not photo:
            raise Invalid("resolve_note_empty")
        case = await self.get(awaiting.ref_id)
        await self.conversation.done(actor.id, Awaited.RESOLVE_NOTE)
        return await self.act(case.id, "resolve", case.rev, actor, note, photo)

    async def claimants(self, case: Case) -> list[User]:
        """Who a desk may claim the case for (or reassign it to): the staff of the case's unit."""
        return await self.org.members(case.unit_code)

    async def open(self, case: Case) -> None:
        """A new case: its clocks start and its unit's group gets its post."""
        await self.clocks.start(case)
        await self.post.show(case, PostMode.NEW)

    async def timeline(self, case_id: int, user: User) -> tuple[Case, list[CaseEvent]]:
        """A case and its history, for its reporter, its followers or its staff."""
        case = await self.get(case_id)
        roles = await self.access.roles(case, user)
        if not roles and user.id not in await self.post.followers.of_case(case.id):
            raise Forbidden("not_your_report")
        return case, await self.record.events(case_id)

    async def clocks_of(self, case: Case) -> list[Deadline]:
        """Every clock of a case (running, met, missed)."""
        return await self.clocks.deadlines.of_cases([case.id])

    async def mine(self, user: User, limit: int = 10) -> list[Case]:
        """The reporter's latest cases."""
        return await self.record.cases.by_reporter(user.id, limit)

    async def dispatch_options(self, case_id: int, actor: User) -> tuple[Case, list[Unit]]:
        """Grids under the case's unit that staff may send it down to."""
        case = await self.get(case_id)
        if not await self.org.may_handle(actor, case.unit_code):
            raise Forbidden("not_your_case")
        return case, await self.org.below(case.unit_code, Level.GRID)

    async def story(self, case: Case) -> list[Step]:
        """The case's timeline in words, staff by name and the reporter by no one."""
        events = await self.record.events(case.id)
        names: dict[int, str] = {}
        for person_id in {e.actor_id for e in events if e.actor_id is not None and e.actor_id != case.reporter_id}:
            person = await self.record.people.get(person_id)
            names[person_id] = person.display_name if person else "?"
        return timeline.steps(events, case.reporter_id, names, {u.code: u.name for u in await self.org.all()})

    async def calls_of(self, case: Case) -> list[DepartmentCall]:
        """The departments called to a case."""
        return await self.access.calls.of_case(case.id)

    async def followers_of(self, case: Case) -> list[int]:
        """Who follows a case."""
        return await self.post.followers.of_case(case.id)

    async def may_see(self, case: Case, user: User) -> bool:
        """Staff of the unit that has the case, or of the one it was first sent to (or above), and admins."""
        if Actor.HANDLER in await self.access.roles(case, user):
            return True
        return await self.org.may_handle(user, case.origin_unit or case.unit_code)
