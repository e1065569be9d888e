"""The staff console's view of cases: search within one's units, one case with its whole story, and the actions
a person may take on it now — the same lifecycle table the chat buttons come from, and every change audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.cases import lifecycle
from domain.cases.departments import WhistleService
from domain.cases.model import CATEGORIES, Case, Deadline
from domain.cases.service import CaseService
from domain.kernel.errors import Forbidden, Invalid, NotFound
from domain.kernel.people import User
from domain.kernel.privacy import mask_personal_numbers
from domain.org.access import ConsoleAccess
from domain.org.model import Level, Unit
from domain.reporting.model import CaseFilter
from domain.reporting.ports import Requests

PAGE_MAX = 200
# What the console can do; resolving takes its note with it, a note and urgency are extra to the table.
CONSOLE_ACTIONS = ("claim", "onsite", "resolve", "reject", "dispatch", "recategorize", "escalate", "merge")
EXTRA_ACTIONS = ("note", "whistle", "urgent", "normal")


@dataclass(frozen=True)
class CasePage:
    """One page of the list, newest first."""

    cases: list[Case]
    next_before: int | None
    overdue: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Step:
    """One step of a case's story as staff read it (the reporter only by role)."""

    at: datetime
    action: str
    who: str | None
    note: str | None
    photo: str | None


@dataclass(frozen=True)
class CaseDetail:
    """A case with everything a desk needs to act on it."""

    case: Case
    unit: Unit
    origin: str
    description: str
    steps: list[Step]
    clocks: list[Deadline]
    calls: list[tuple[str, str, str]]
    followers: int
    actions: list[str]
    departments: list[Unit]
    grids: list[Unit]
    claimants: list[User] = field(default_factory=list)


class CaseBrowser:
    """Cases for the console: scope, search, details, actions."""

    def __init__(self, requests: Requests, cases: CaseService, whistle: WhistleService, access: ConsoleAccess) -> None:
        self.requests = requests
        self.cases = cases
        self.whistle = whistle
        self.access = access
        self.org = cases.org

    async def search(self, actor: User, f: CaseFilter) -> CasePage:
        """Cases within the person's units (one unit and below if asked), newest first."""
        scope = await self.access.scope(actor)
        allowed = None if scope is None else {u.code for u in scope}
        units: list[str] | None = None if allowed is None else sorted(allowed)
        if f.unit:
            if allowed is not None and f.unit not in allowed:
                raise Forbidden("staff_forbidden")
            unit = await self.org.get(f.unit)
            units = [unit.code] + [u.code for u in await self.org.below(unit.code)]
        if any(s not in ("new", "claimed", "on_site", "resolved", "closed") for s in f.states):
            raise Invalid("bad_filter")
        if any(c not in CATEGORIES for c in f.categories):
            raise Invalid("bad_filter")
        limit = max(1, min(f.limit, PAGE_MAX))
        found = await self.requests.browse(f, units, limit + 1, self.cases.clock())
        page = found[:limit]
        overdue = await self.requests.overdue_among([c.id for c in page])
        return CasePage(page, page[-1].id if len(found) > limit else None, overdue)

    async def _visible(self, actor: User, number: str) -> Case:
        case = await self.cases.cases.by_number(number.strip().upper()[:32])
        if case is None:
            raise NotFound("case_number_unknown", number=number[:32])
        if not self.cases.people.is_admin(actor) and not await self.org.may_handle(actor, case.unit_code):
            origin = case.origin_unit or case.unit_code
            if not await self.org.may_handle(actor, origin):
                raise Forbidden("not_your_case")
        return case

    async def detail(self, actor: User, number: str) -> CaseDetail:
        """One case: its story, clocks, departments and what this person may do now."""
        case = await self._visible(actor, number)
        unit = await self.org.get(case.unit_code)
        names: dict[int, str] = {}
        steps = []
        for e in await self.cases.cases.events(case.id):
            who = None
            if e.actor_id is not None and e.actor_id != case.reporter_id:
                if e.actor_id not in names:
                    person = await self.cases.people.get(e.actor_id)
                    names[e.actor_id] = person.display_name if person else "?"
                who = names[e.actor_id]
            note = mask_personal_numbers(e.note) if e.note and e.actor_id == case.reporter_id else e.note
            steps.append(Step(e.at, e.action, who, note, e.photo_file_id))
        unit_names = {u.code: u.name for u in await self.org.all()}
        calls = [
            (unit_names.get(c.department, c.department), c.state, c.note)
            for c in await self.cases.calls.of_case(case.id)
        ]
        actors = await self.cases.actors(case, actor)
        table = lifecycle.allowed(case, unit.level, actors)
        actions = [a for a in CONSOLE_ACTIONS if a in table]
        if lifecycle.Actor.HANDLER in actors and case.state.value in ("new", "claimed", "on_site"):
            actions += ["note", "urgent" if not case.urgent else "normal"]
            if unit.level in (Level.COMMUNITY, Level.STREET):
                actions.append("whistle")
        grids = await self.org.below(unit.code, Level.GRID) if "dispatch" in actions else []
        origin = case.origin_unit or case.unit_code
        return CaseDetail(
            case=case,
            unit=unit,
            origin=unit_names.get(origin, origin),
            description=mask_personal_numbers(case.description),
            steps=steps,
            clocks=await self.cases.deadlines.of_cases([case.id]),
            calls=calls,
            followers=len(await self.cases.followers.of_case(case.id)),
            actions=actions,
            departments=await self.whistle.departments() if "whistle" in actions else [],
            grids=grids,
            claimants=await self.cases.claimants(case) if "claim" in actions else [],
        )

    async def perform(self, actor: User, number: str, action: str, rev: int, value: str) -> Case:
        """Take an action from the console; the same rules and messages as in chat, and an audit line."""
        case = await self._visible(actor, number)
        value = value.strip()
        if action == "resolve":
            done = await self.cases.resolve_now(case.id, rev, actor, value)
        elif action == "note":
            done = await self.cases.add_note(case.id, actor, value)
        elif action == "whistle":
            await self.whistle.call(case.id, value, actor)
            done = case
        elif action in ("urgent", "normal"):
            done = await self.cases.set_urgency(case.id, action == "urgent", actor, value)
        elif action == "merge":
            into = await self.cases.by_number(value)
            done = await self.cases.act(case.id, action, rev, actor, str(into.id))
        elif action in CONSOLE_ACTIONS:
            done = await self.cases.act(case.id, action, rev, actor, value)
        else:
            raise Invalid("unknown_action")
        await self.access.record(actor, f"case.{action}", case.number, value)
        return done
