"""吹哨报到: a street or community calls departments to a case; each reports in, works, and finishes its part.

A called department's group gets the case with [报到]; reporting in within the policy's time is recorded
(missing it tells the street). The department adds notes and photos and marks its part done. A case is not
resolved while a called department has not finished, unless the street overrides (recorded).
"""

from __future__ import annotations

from domain.cases.model import MAX_TEXT, Case, CaseEvent, DepartmentCall
from domain.cases.service import CaseService
from domain.kernel.awaiting import Awaited
from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.notices import Action, Audience, Notice, PostMode, Subject, Word
from domain.kernel.people import User
from domain.kernel.privacy import mask_personal_numbers
from domain.org.model import Level, Unit


class WhistleService:
    """Calling departments to cases and recording what they do."""

    def __init__(self, cases: CaseService) -> None:
        self.cases = cases
        self.org = cases.org
        self.calls = cases.calls
        self.notices = cases.notices

    async def departments(self) -> list[Unit]:
        """Every department that can be called."""
        return await self.org.of_level(Level.DEPARTMENT)

    async def _may_whistle(self, actor: User, case: Case) -> bool:
        # The street or the community a case belongs to blows the whistle (staff of those levels, or admins).
        if self.cases.people.is_admin(actor):
            return True
        mine = set(await self.org.units_of(actor))
        return any(u.code in mine for u in await self.org.lineage(case.unit_code) if u.level is not Level.GRID)

    async def call(self, case_id: int, department: str, actor: User, note: str = "") -> DepartmentCall:
        """Call a department to a case; its group gets the case with [报到]."""
        case = await self.cases.get(case_id)
        if not await self._may_whistle(actor, case):
            raise Forbidden("whistle_forbidden")
        unit = await self.org.find(department)
        if unit is None or unit.level is not Level.DEPARTMENT:
            raise Invalid("unknown_department", code=department[:40])
        if len(note) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)
        now = self.cases.clock()
        call = DepartmentCall(case.id, unit.code, now, actor.id, note.strip())
        if not await self.calls.add(call):
            raise Conflict("already_called", department=unit.name)
        await self.cases.clocks.report_in(case, unit.code)
        await self.cases.cases.add_event(
            CaseEvent(case.id, actor.id, now, case.state, case.state, "whistle", unit.code)
        )
        await self._post(case, call, unit, PostMode.NEW)
        await self.cases.show(case, PostMode.UPDATE)
        return call

    async def _post(self, case: Case, call: DepartmentCall, unit: Unit, mode: PostMode) -> None:
        actions: tuple[Action, ...] = ()
        if call.state in ("called", "missed"):
            actions = (Action("call.report_in", case.id, 0, unit.code),)
        elif call.state == "reported":
            actions = (Action("call.note", case.id, 0, unit.code), Action("call.done", case.id, 0, unit.code))
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
                actions,
                Subject("call", case.id),
                mode,
                photo=case.photo_file_id,
            )
        )

    async def _own_call(self, case_id: int, department: str, actor: User) -> tuple[Case, DepartmentCall, Unit]:
        case = await self.cases.get(case_id)
        call = await self.calls.get(case_id, department)
        if call is None:
            raise NotFound("not_called")
        if not await self.org.is_staff_of(actor, department) and not self.cases.people.is_admin(actor):
            raise Forbidden("department_only")
        return case, call, await self.org.get(department)

    async def report_in(self, case_id: int, department: str, actor: User) -> DepartmentCall:
        """报到: the department takes its part (late is recorded as late, never refused)."""
        case, call, unit = await self._own_call(case_id, department, actor)
        now = self.cases.clock()
        if call.state not in ("called", "missed"):
            raise Conflict("already_done")
        if not await self.calls.update(case.id, department, call.state, state="reported", reported_at=now):
            raise Conflict("already_done")
        call.state, call.reported_at = "reported", now
        await self.cases.clocks.reported(case, department)
        await self.cases.cases.add_event(
            CaseEvent(case.id, actor.id, now, case.state, case.state, "report_in", department)
        )
        await self._post(case, call, unit, PostMode.UPDATE)
        await self.cases.show(case, PostMode.UPDATE)
        return call

    async def ask_note(self, case_id: int, department: str, actor: User) -> None:
        """The department's next message (text and/or photo) is its note on the case."""
        case, call, _ = await self._own_call(case_id, department, actor)
        if call.state != "reported":
            raise Conflict("report_in_first")
        await self.cases.conversation.expect(actor.id, Awaited.DEPARTMENT_NOTE, f"{case.id}:{department}")

    async def note(self, actor: User, text: str, photo: str | None) -> Case:
        """The awaited department note, kept in the case's timeline."""
        awaiting = await self.cases.conversation.awaits(actor.id, Awaited.DEPARTMENT_NOTE)
        if awaiting is None:
            raise NotFound("nothing_pending")
        case_ref, _, department = awaiting.ref.partition(":")
        case, _, unit = await self._own_call(int(case_ref), department, actor)
        if not text.strip() and not photo:
            raise Invalid("resolve_note_empty")
        if len(text) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)
        await self.cases.conversation.done(actor.id, Awaited.DEPARTMENT_NOTE)
        now = self.cases.clock()
        note = f"{unit.name}: {text.strip()}" if text.strip() else unit.name
        await self.cases.cases.add_event(
            CaseEvent(case.id, actor.id, now, case.state, case.state, "dept_note", note, photo)
        )
        return case

    async def done(self, case_id: int, department: str, actor: User) -> DepartmentCall:
        """The department's part is done; the case's group is told."""
        case, call, unit = await self._own_call(case_id, department, actor)
        now = self.cases.clock()
        if call.state != "reported" or not await self.calls.update(
            case.id, department, "reported", state="done", done_at=now
        ):
            raise Conflict("report_in_first" if call.state in ("called", "missed") else "already_done")
        call.state, call.done_at = "done", now
        await self.cases.cases.add_event(
            CaseEvent(case.id, actor.id, now, case.state, case.state, "dept_done", department)
        )
        await self._post(case, call, unit, PostMode.CLOSE)
        await self.cases.show(case, PostMode.UPDATE)
        await self.notices.emit(
            Notice("call.done", Audience.unit(case.unit_code), {"number": case.number, "department": unit.name})
        )
        return call

    async def override(self, case_id: int, actor: User, reason: str) -> Case:
        """The street lets a case be resolved although a called department has not finished (recorded)."""
        case = await self.cases.get(case_id)
        mine = set(await self.org.units_of(actor))
        street = [u for u in await self.org.lineage(case.unit_code) if u.level is Level.STREET and u.code in mine]
        if not street and not self.cases.people.is_admin(actor):
            raise Forbidden("override_street_only")
        if not reason.strip():
            raise Invalid("override_usage")
        waived = 0
        for call in await self.calls.of_case(case.id):
            if call.state in ("called", "reported", "missed"):
                waived += await self.calls.update(case.id, call.department, call.state, state="waived")
        if not waived:
            raise Conflict("nothing_pending")
        now = self.cases.clock()
        await self.cases.cases.add_event(
            CaseEvent(case.id, actor.id, now, case.state, case.state, "override", reason.strip()[:MAX_TEXT])
        )
        await self.cases.show(case, PostMode.UPDATE)
        return case
