"""Moves that change where a case is handled: 非本网格, dispatch, a category handled elsewhere, 提级, merge."""

from __future__ import annotations

from domain.cases.core import OPEN, CaseCore
from domain.cases.deadlines import CASE_CLOCKS
from domain.cases.model import CATEGORIES, MAX_TEXT, Case, CaseEvent, CaseState, LabelledExample
from domain.kernel.errors import Conflict, Forbidden, Invalid
from domain.kernel.notices import Audience, Notice, Phrase, PostMode, Word
from domain.kernel.people import User
from domain.org.model import Level, Unit


class CaseMoves(CaseCore):
    """A case going to another unit: the old post closes with why, the new unit's group gets a new post."""

    async def _relocate(
        self,
        case: Case,
        actor: User | None,
        to_unit: Unit,
        action: str,
        status: Phrase,
        note: str | None,
        **more: object,
    ) -> Case:
        old = case.unit_code
        to = case.state if action == "recategorize" else CaseState.NEW
        case = await self._move(case, actor, to, action, note, unit_code=to_unit.code, **more)
        await self.show(case, PostMode.CLOSE, actor, status=status, unit_code=old)
        return case

    async def _reject(self, case: Case, actor: User) -> Case:
        unit = await self.org.get(case.unit_code)
        if not unit.parent_code:
            raise Invalid("reject_not_grid")
        parent = await self.org.get(unit.parent_code)
        status = Phrase("case.status.rejected_to", {"unit": parent.name})
        case = await self._relocate(case, actor, parent, "reject", status, None, assignee_id=None)
        await self.show(case, PostMode.NEW, banner="case.banner.redispatch")
        await self.tell_reporter(case, "case.sent_back")
        return case

    async def dispatch_options(self, case_id: int, actor: User) -> tuple[Case, list[Unit]]:
        """Grids under the case's unit that staff may send it down to."""
        case = await self.get(case_id)
        if not await self.org.may_handle(actor, case.unit_code):
            raise Forbidden("not_your_case")
        return case, await self.org.below(case.unit_code, Level.GRID)

    async def _dispatch(self, case: Case, actor: User, grid_code: str) -> Case:
        options = await self.org.below(case.unit_code, Level.GRID)
        grid = next((g for g in options if g.code == grid_code), None)
        if grid is None:
            raise Invalid("unknown_unit", code=grid_code[:40])
        status = Phrase("case.status.dispatched_to", {"unit": grid.name})
        case = await self._relocate(case, actor, grid, "dispatch", status, grid.code, fallback=False)
        await self.show(case, PostMode.NEW)
        return case

    async def _recategorize(self, case: Case, actor: User, category: str) -> Case:
        if category not in CATEGORIES:
            raise Invalid("unknown_category")
        if category == case.category:
            return case
        if case.description.strip():
            await self.examples.add(
                LabelledExample(
                    text=case.description,
                    source="correction",
                    intent="report_issue",
                    category=category,
                    user_id=actor.id,
                    case_id=case.id,
                    model_version=case.model_version,
                    predicted_intent="report_issue",
                    predicted_category=case.category,
                )
            )
        # The timeline keeps the codes; a front end names them in the reader's language.
        moved_note = f"{case.category}→{category}"
        change = Phrase("case.change", {"old": Word(f"category.{case.category}"), "new": Word(f"category.{category}")})
        # Where the case stands: the grid it came from (a case above the grid is located again by its place).
        base = case.unit_code
        unit = await self.org.get(base)
        if unit.level is not Level.GRID and case.lat is not None and case.lon is not None:
            where = (await self.org.geo.index(self.org.units)).locate(case.lat, case.lon)
            if where is not None and not where.fallback:
                base = where.unit_code
        target = await self.handling_unit(base, category)
        if target != case.unit_code and case.state is CaseState.NEW:
            to_unit = await self.org.get(target)
            status = Phrase("case.status.moved_to", {"unit": to_unit.name})
            case = await self._relocate(
                case, actor, to_unit, "recategorize", status, moved_note, category=category, assignee_id=None
            )
            await self.clocks.reschedule(case)
            await self.show(case, PostMode.NEW)
            return case
        case = await self._move(case, actor, case.state, "recategorize", moved_note, category=category)
        await self.clocks.reschedule(case)
        await self.show(case, PostMode.UPDATE, actor, note=Phrase("case.note.recategorized", {"change": change}))
        return case

    async def escalate(self, case: Case, actor: User | None, reason: str) -> Case:
        """提级: the case climbs one level with its history (staff with a reason, or the sweeper)."""
        unit = await self.org.get(case.unit_code)
        if unit.level not in (Level.GRID, Level.COMMUNITY) or not unit.parent_code:
            raise Invalid("cannot_escalate")
        reason = reason.strip()
        if actor is not None and not reason:
            raise Invalid("escalate_usage")
        if len(reason) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)
        parent = await self.org.get(unit.parent_code)
        status = Phrase("case.status.escalated_to", {"unit": parent.name})
        case = await self._relocate(case, actor, parent, "escalate", status, reason or unit.code, assignee_id=None)
        why = Phrase("case.banner.escalated", {"unit": unit.name, "reason": reason or await self._late_reason(case)})
        await self.show(case, PostMode.NEW, note=why)
        await self.tell_reporter(case, "case.escalated", unit=parent.name)
        if actor is None:
            await self.clocks.escalation(case)
        return case

    async def _late_reason(self, case: Case) -> Phrase:
        # The sweeper escalates because a clock ran out: say which one.
        missed = [d for d in await self.deadlines.of_cases([case.id]) if d.state == "missed" and d.kind in CASE_CLOCKS]
        if not missed:
            return Phrase("case.overdue_reason", {"deadline": Word("deadline.resolve")})
        return Phrase("case.overdue_reason", {"deadline": Word(f"deadline.{max(missed, key=lambda d: d.due_at).kind}")})

    async def merge(self, duplicate: Case, into_id: int, actor: User) -> Case:
        """Close a duplicate into the case it repeats; its reporter (and followers) follow that case."""
        original = await self.get(into_id)
        if original.id == duplicate.id or original.state not in OPEN:
            raise Conflict("cannot_merge")
        if not await self.org.may_handle(actor, original.unit_code):
            raise Forbidden("not_your_case")
        now = self.clock()
        for person in [duplicate.reporter_id, *await self.followers.of_case(duplicate.id)]:
            if person != original.reporter_id:
                await self.followers.add(original.id, person, now)
        duplicate = await self._move(
            duplicate, actor, CaseState.CLOSED, "merge", original.number, merged_into=original.id, close_reason="merged"
        )
        await self.clocks.stop(duplicate, None)
        await self.cases.add_event(
            CaseEvent(original.id, actor.id, now, original.state, original.state, "merged_in", duplicate.number)
        )
        status = Phrase("case.status.merged_into", {"number": original.number})
        await self.show(duplicate, PostMode.CLOSE, actor, status=status)
        await self.tell_reporter(duplicate, "case.merged", into=original.number)
        await self.notices.emit(
            Notice(
                "case.merged_in",
                Audience.person(original.reporter_id),
                {"number": original.number, "other": duplicate.number},
            )
        )
        await self.show(original, PostMode.UPDATE)
        return duplicate
