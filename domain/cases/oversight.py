"""The steps of oversight: a clock run out, an unclaimed case climbing, a held one supervised (督办), and what the
level above may then do — urge the holder, reassign the case, or take it over."""

from __future__ import annotations

from domain.cases.deadlines import CASE_CLOCKS
from domain.cases.model import Case
from domain.cases.steps import Deps, Move, parent_of, staff_of, text_value
from domain.kernel.errors import Forbidden
from domain.kernel.notices import Phrase, Word
from domain.kernel.people import User
from domain.org.model import Level, Unit

ROUND_STARTS = ("submit", "reopen")


class Oversight:
    """The sweeper's steps, and the supervisors'."""

    def __init__(self, d: Deps) -> None:
        self.d = d

    async def do_climb(self, case: Case, actor: None, value: str, photo: str | None) -> Move:
        """An unclaimed case whose clock ran out climbs one level by itself, with fresh clocks there."""
        unit, parent = await parent_of(self.d, case)
        missed = [
            d
            for d in await self.d.clocks.deadlines.of_cases([case.id])
            if d.state == "missed" and d.kind in CASE_CLOCKS
        ]
        kind = max(missed, key=lambda d: d.due_at).kind if missed else "resolve"
        reason = Phrase("case.overdue_reason", {"deadline": Word(f"deadline.{kind}")})
        return Move(
            note=unit.code,
            unit=parent,
            status=Phrase("case.status.escalated_to", {"unit": parent.name}),
            card_note=Phrase("case.banner.escalated", {"unit": unit.name, "reason": reason}),
            tell_params={"unit": parent.name},
        )

    async def do_supervise(self, case: Case, actor: None, value: str, photo: str | None) -> Move:
        """督办: a held case stays with its holder; the next level up (above the last one told) is told."""
        line = await self.d.org.lineage(case.unit_code)
        codes = [u.code for u in line]
        told = {e.note for e in await self.d.record.events(case.id) if e.action == "supervise"} | {value}
        start = max((codes.index(c) for c in told if c in codes), default=0)
        if start + 1 >= len(line) or line[start + 1].level not in (Level.COMMUNITY, Level.STREET):
            return Move(done=case)  # the street already sees it: nobody above to tell
        above = line[start + 1]

        async def tell_above(moved: Case) -> None:
            await self.d.post.supervise(moved, above.code)
            await self.d.clocks.escalation(moved, above.code)

        return Move(note=above.code, unit=above, after=tell_above)

    async def do_reassign(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """改派 by the level above: another worker of the case's unit holds it from now."""
        holder = await staff_of(self.d, case, value)
        if holder.id == case.assignee_id:
            return Move(done=case)
        return await self._new_holder(case, actor, holder, None)

    async def do_takeover(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """接管 by the level above: the case moves to the supervisor's unit, held by the supervisor."""
        mine = set(await self.d.org.units_of(actor))
        line = await self.d.org.lineage(case.unit_code)
        above = next((u for u in line[1:] if u.code in mine), None) or (line[1] if len(line) > 1 else None)
        if above is None:
            raise Forbidden("supervisor_only")
        return await self._new_holder(case, actor, actor, above)

    async def _new_holder(self, case: Case, actor: User, holder: User, unit: Unit | None) -> Move:
        before = case.assignee_id

        async def tell(moved: Case) -> None:
            await self.d.post.tell(holder.id, "case.assigned", moved, by=actor.display_name)
            if before is not None and before != holder.id:
                await self.d.post.tell(before, "case.taken_from", moved, by=actor.display_name, who=holder.display_name)

        move = Move(note=holder.display_name if unit is None else unit.code, holder=holder, after=tell, tell=None)
        move.card_note = Phrase("case.note.assigned", {"by": actor.display_name})
        if unit is not None:
            move.unit = unit
            move.status = Phrase("case.status.taken_over", {"unit": unit.name})
        return move

    async def do_urge(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """催办: the level above writes to the holder."""
        text = text_value(value, "", required=False)

        async def tell_holder(moved: Case) -> None:
            if moved.assignee_id is not None:
                said: object = text or Word("case.urge_default")
                await self.d.post.tell(
                    moved.assignee_id, "case.urged", moved, fallback=True, by=actor.display_name, text=said
                )

        return Move(note=text or None, after=tell_holder)

    async def do_overdue(self, case: Case, actor: None, value: str, photo: str | None) -> Move:
        """A clock ran out (the sweeper): the post says so, the reporter hears once per round, the grid head
        before the case leaves the grid, and the escalation clock starts."""
        events = await self.d.record.events(case.id)
        start = max((e.at for e in events if e.action in ROUND_STARTS), default=case.created_at)
        # Told honestly, once per round (a reopened case starts a new one); each climb is told as such.
        told_before = any(e.action == "overdue" and e.actor_id is None and e.at >= start for e in events)

        async def escalate(moved: Case) -> None:
            unit = await self.d.org.get(moved.unit_code)
            if unit.level is Level.GRID:
                for head in await self.d.org.heads(unit.code):
                    await self.d.post.tell(
                        head.id,
                        "case.late_to_head",
                        moved,
                        fallback=True,
                        deadline=Word(f"deadline.{value}"),
                        unit=unit.name,
                    )
            await self.d.clocks.escalation(moved)

        return Move(
            note=value,
            tell=None if told_before else "",
            tell_params={"deadline": Word(f"deadline.{value}")},
            after=escalate,
        )  # fmt: skip
