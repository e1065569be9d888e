"""吹哨报到: a street or community calls departments to a case; each reports in, works, and finishes its part.

A called department's group gets the case with [报到]; reporting in is met or missed by its own time (missing
it tells the street). The department adds notes and photos — the latest shows on the case's post — and marks
its part done. A case is not resolved while a called department has not finished, one that never reported in
included, unless the street overrides (recorded; the departments' posts say they were waived). The moves of a
call are `CALL_TABLE` in `domain/cases/lifecycle.py`; calling and overriding are rows of the case's own table.
"""

from __future__ import annotations

from domain.cases.deadlines import DeadlineClock
from domain.cases.lifecycle import CALL_RULES, PENDING_CALLS, call_buttons
from domain.cases.model import MAX_TEXT, Case, DepartmentCall
from domain.cases.ports import Calls
from domain.cases.post import CasePost
from domain.cases.record import CaseRecord
from domain.cases.steps import Move, text_value
from domain.kernel.awaiting import Awaited, Conversation
from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.notices import Action, Audience, Notice, Notices, PostMode, Subject, Word
from domain.kernel.people import PeopleService, User
from domain.kernel.privacy import mask_personal_numbers
from domain.kernel.time import Clock
from domain.org.model import Level, Unit
from domain.org.service import OrgService

# The callback names a department's card uses for the table's actions.
BUTTON_NAMES = {"report_in": "call.report_in", "dept_note": "call.note", "dept_done": "call.done"}


class WhistleService:
    """Calling departments to cases and recording what they do."""

    def __init__(
        self,
        record: CaseRecord,
        post: CasePost,
        clocks: DeadlineClock,
        calls: Calls,
        org: OrgService,
        people: PeopleService,
        conversation: Conversation,
        notices: Notices,
        clock: Clock,
    ) -> None:
        self.record = record
        self.post = post
        self.clocks = clocks
        self.calls = calls
        self.org = org
        self.people = people
        self.conversation = conversation
        self.notices = notices
        self.clock = clock

    async def departments(self) -> list[Unit]:
        """Every department that can be called."""
        return await self.org.of_level(Level.DEPARTMENT)

    async def call_step(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """The `whistle` row's step: the department is called and its group gets the case with [报到]."""
        department, _, note = value.partition(" ")
        unit = await self.org.find(department.strip())
        if unit is None or unit.level is not Level.DEPARTMENT:
            raise Invalid("unknown_department", code=department[:40])
        if len(note) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)
        # The system calls a property company to a case in a compound it serves (actor None).
        call = DepartmentCall(case.id, unit.code, self.clock(), actor.id if actor else None, note.strip())
        if not await self.calls.add(call):
            raise Conflict("already_called", department=unit.name)

        async def called(moved: Case) -> None:
            await self.clocks.report_in(moved, unit.code)
            await self._post(moved, call, unit, PostMode.NEW)

        return Move(note=unit.code, after=called)

    async def override_step(self, case: Case, actor: User, value: str, photo: str | None) -> Move:
        """The `override` row's step: the street lets the case be resolved; unfinished departments are waived."""
        reason = text_value(value, "override_usage")
        row = CALL_RULES["waive"]
        for call in await self.calls.of_case(case.id):
            if call.state in row.sources and await self.calls.update(
                case.id, call.department, call.state, state=row.target.value
            ):
                call.state = row.target.value
                await self.clocks.reported(case, call.department)  # its report-in clock is settled
                await self._post(case, call, await self.org.get(call.department), PostMode.CLOSE)
        return Move(note=reason)

    async def _post(self, case: Case, call: DepartmentCall, unit: Unit, mode: PostMode) -> None:
        actions = tuple(Action(BUTTON_NAMES[a], case.id, 0, unit.code) for a in call_buttons(call.state))
        params = {
            "number": case.number,
            "category": Word(f"category.{case.category}"),
            "description": mask_personal_numbers(case.description),
            "address": case.address,
            "lat": case.lat,
            "lon": case.lon,
            "note": call.note,
            "state": Word(f"call.{call.state}"),
            "urgent": case.urgent,
        }
        await self.notices.emit(
            Notice(
                "call.card",
                Audience.unit(unit.code),
                params,
                () if mode is PostMode.CLOSE else actions,
                Subject("call", case.id),
                mode,
                photo=case.photo_file_id,
                urgent=case.urgent,
            )
        )

    async def _own_call(self, case_id: int, department: str, actor: User) -> tuple[Case, DepartmentCall, Unit]:
        case = await self.record.get(case_id)
        call = await self.calls.get(case_id, department)
        if call is None:
            raise NotFound("not_called")
        if not await self.org.is_staff_of(actor, department) and not self.people.is_admin(actor):
            raise Forbidden("department_only")
        return case, call, await self.org.get(department)

    async def _take(self, action: str, case: Case, call: DepartmentCall, **values: object) -> None:
        row = CALL_RULES[action]
        if call.state not in row.sources:
            first = call.state in ("called", "missed") and action != "report_in"
            raise Conflict("report_in_first" if first else "already_done")
        if row.target.value != call.state:
            if not await self.calls.update(case.id, call.department, call.state, state=row.target.value, **values):
                raise Conflict("already_done")
            call.state = row.target.value

    async def report_in(self, case_id: int, department: str, actor: User) -> DepartmentCall:
        """报到: the department takes its part (late is recorded as late, never refused)."""
        case, call, unit = await self._own_call(case_id, department, actor)
        now = self.clock()
        await self._take("report_in", case, call, reported_at=now)
        call.reported_at = now
        await self.clocks.reported(case, department)
        await self.record.step(case, actor.id, "report_in", department)
        await self._post(case, call, unit, PostMode.UPDATE)
        await self.post.show(case, PostMode.UPDATE)
        return call

    async def ask_note(self, case_id: int, department: str, actor: User) -> None:
        """The department's next message (text and/or photo) is its note on the case."""
        case, call, _ = await self._own_call(case_id, department, actor)
        if call.state not in CALL_RULES["dept_note"].sources:
            raise Conflict("report_in_first")
        await self.conversation.expect(actor.id, Awaited.DEPARTMENT_NOTE, f"{case.id}:{department}")

    async def note(self, actor: User, text: str, photo: str | None) -> Case:
        """The awaited department note, kept in the case's timeline and shown on the case's post."""
        awaiting = await self.conversation.awaits(actor.id, Awaited.DEPARTMENT_NOTE)
        if awaiting is None:
            raise NotFound("nothing_pending")
        case_ref, _, department = awaiting.ref.partition(":")
        case, call, unit = await self._own_call(int(case_ref), department, actor)
        if not text.strip() and not photo:
            raise Invalid("resolve_note_empty")
        if len(text) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)
        await self._take("dept_note", case, call)
        await self.conversation.done(actor.id, Awaited.DEPARTMENT_NOTE)
        note = f"{unit.name}: {text.strip()}" if text.strip() else unit.name
        await self.record.step(case, actor.id, "dept_note", note, photo)
        await self.post.show(case, PostMode.UPDATE)
        return case

    async def done(self, case_id: int, department: str, actor: User) -> DepartmentCall:
        """The department's part is done; the case's group is told."""
        case, call, unit = await self._own_call(case_id, department, actor)
        now = self.clock()
        await self._take("dept_done", case, call, done_at=now)
        call.done_at = now
        await self.record.step(case, actor.id, "dept_done", department)
        await self._post(case, call, unit, PostMode.CLOSE)
        await self.post.show(case, PostMode.UPDATE)
        await self.notices.emit(
            Notice(
                "call.done",
                Audience.unit(case.unit_code),
                {"number": case.number, "department": unit.name},
                urgent=case.urgent,
            )
        )
        return call

    async def missed(self, case: Case, department: str) -> bool:
        """The sweeper: a department did not report in on time; the street is told (the call stays pending)."""
        call = await self.calls.get(case.id, department)
        if call is None:
            return False
        row = CALL_RULES["missed"]
        if call.state not in row.sources or not await self.calls.update(
            case.id, department, call.state, state=row.target.value
        ):
            return False
        call.state = row.target.value
        unit = await self.org.get(department)
        street = next((u for u in await self.org.lineage(case.unit_code) if u.level is Level.STREET), None)
        if street is not None:
            await self.notices.emit(
                Notice(
                    "call.missed",
                    Audience.unit(street.code),
                    {"number": case.number, "department": unit.name},
                    urgent=case.urgent,
                )
            )
        await self._post(case, call, unit, PostMode.UPDATE)
        await self.post.show(case, PostMode.UPDATE)
        return True

    async def close_all(self, case: Case) -> None:
        """The case ended (resolved, merged): the departments' posts still pending show their last state."""
        for call in await self.calls.of_case(case.id):
            if call.state in PENDING_CALLS:
                await self._post(case, call, await self.org.get(call.department), PostMode.CLOSE)
