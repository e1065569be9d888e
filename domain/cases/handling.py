"""The steps of handling a case: claiming for someone, resolving, sending it back or down, correcting it, 提级."""

from __future__ import annotations

from domain.cases.lifecycle import RULES, Post
from domain.cases.model import CATEGORIES, Case, CaseState, LabelledExample
from domain.cases.steps import Deps, Move, handling_unit, parent_of, staff_of, text_value
from domain.cases.timeline import change_note
from domain.kernel.awaiting import Awaited
from domain.kernel.errors import Conflict, Invalid
from domain.kernel.events import CaseResolved
from domain.kernel.notices import Phrase, Word
from domain.kernel.people import Role, User
from domain.org.model import Level


class Handling:
    """Staff's own steps on a case."""

    def __init__(self, d: Deps) -> None:
        self.d = d

    async def do_assign(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """A desk claims for a worker who phoned in: theirs are the clocks and the figures."""
        holder = await staff_of(self.d, case, value)
        if holder.id == actor.id:
            return Move(then=RULES["claim"])
        await self.d.record.step(case, actor.id, "assign", holder.display_name)

        async def tell_holder(moved: Case) -> None:
            await self.d.post.tell(holder.id, "case.assigned", moved, by=actor.display_name)

        return Move(
            holder=holder,
            event_actor=holder,
            card_note=Phrase("case.note.assigned", {"by": actor.display_name}),
            after=tell_holder,
        )

    async def do_resolve(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """办结 with a note (and photo); pressed without one, the note is asked for first."""
        pending = [c for c in await self.d.calls.of_case(case.id) if c.state in ("called", "reported", "missed")]
        if pending:
            # 吹哨报到: a case is not finished while a called department has not finished its part.
            raise Conflict("departments_pending", n=len(pending))
        note = text_value(value, "resolve_note_empty", required=False)
        if not note and not photo:
            await self.d.conversation.expect(actor.id, Awaited.RESOLVE_NOTE, case.id)
            await self.d.post.tell(actor.id, "case.resolve_note_asked", case, fallback=True, who=actor.display_name)
            return Move(done=case)

        async def resolved(moved: Case) -> None:
            by_person = moved.reporter_role is not Role.API
            await self.d.events.publish(
                CaseResolved(moved.id, moved.number, moved.reporter_id, moved.category, moved.unit_code, by_person)
            )
            await self.d.post.ask_rating(moved, "case.resolved", note=note or "-", photo=photo)

        return Move(note=note or None, photo=photo, tell=None, after=resolved)

    async def do_reject(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """非本网格: back to the community to dispatch again."""
        _, parent = await parent_of(self.d, case)
        return Move(
            unit=parent,
            status=Phrase("case.status.rejected_to", {"unit": parent.name}),
            banner="case.banner.redispatch",
        )

    async def do_dispatch(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """A community or street sends a case down to one of its grids."""
        grid = next((g for g in await self.d.org.below(case.unit_code, Level.GRID) if g.code == value), None)
        if grid is None:
            raise Invalid("unknown_unit", code=value[:40])
        status = Phrase("case.status.dispatched_to", {"unit": grid.name})
        return Move(note=grid.code, unit=grid, status=status, changes={"fallback": False})

    async def do_recategorize(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """改类别: the correction is kept for training; a category handled elsewhere sends an unclaimed case there."""
        if value not in CATEGORIES:
            raise Invalid("unknown_category")
        if value == case.category:
            return Move(done=case)
        if case.description.strip():
            await self.d.examples.add(
                LabelledExample(
                    text=case.description,
                    source="correction",
                    intent="report_issue",
                    category=value,
                    user_id=actor.id,
                    case_id=case.id,
                    model_version=case.model_version,
                    predicted_intent="report_issue",
                    predicted_category=case.category,
                )
            )
        change = Phrase("case.change", {"old": Word(f"category.{case.category}"), "new": Word(f"category.{value}")})
        move = Move(
            note=change_note(case.category, value),
            changes={"category": value},
            card_note=Phrase("case.note.recategorized", {"change": change}),
        )
        # Where the case stands: the grid it came from (a case above the grid is located again by its place).
        base = case.unit_code
        unit = await self.d.org.get(base)
        if unit.level is not Level.GRID and case.lat is not None and case.lon is not None:
            where = (await self.d.org.geo.index(self.d.org.units)).locate(case.lat, case.lon)
            if where is not None and not where.fallback:
                base = where.unit_code
        target = await handling_unit(self.d, base, value)
        if target != case.unit_code and case.state is CaseState.NEW:
            to_unit = await self.d.org.get(target)
            move.unit, move.post, move.card_note = to_unit, Post.MOVE, None
            move.status = Phrase("case.status.moved_to", {"unit": to_unit.name})
        return move

    async def _urgency(self, case: Case, urgent: bool, value: str) -> Move:
        reason = text_value(value, "urgency_usage")
        note = Phrase("case.note.urgency", {"urgent": Word(f"urgency.{urgent}"), "reason": reason})
        return Move(note=reason, changes={"urgent": urgent}, card_note=note)

    async def do_urgent(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """Raised to urgent, with a reason: the urgent clocks apply."""
        return await self._urgency(case, True, value)

    async def do_not_urgent(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """Lowered to ordinary, with a reason."""
        return await self._urgency(case, False, value)

    async def do_pause(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """Waiting for the reporter (an answer, access to a flat): the clocks stop."""
        reason = text_value(value, "pause_usage")
        return Move(note=reason, tell_params={"reason": reason})

    async def do_note(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """A staff note in the case's timeline."""
        return Move(note=text_value(value, "empty_text"), photo=photo)

    async def do_escalate(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """提级 by hand, with a reason: the case climbs one level with its story."""
        reason = text_value(value, "escalate_usage")
        unit, parent = await parent_of(self.d, case)
        return Move(
            note=reason,
            unit=parent,
            status=Phrase("case.status.escalated_to", {"unit": parent.name}),
            card_note=Phrase("case.banner.escalated", {"unit": unit.name, "reason": reason}),
            tell_params={"unit": parent.name},
        )
