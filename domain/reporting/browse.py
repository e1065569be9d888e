"""The staff console's view of cases: search within one's units, one case with its whole story, and the actions
a person may take on it now — the same lifecycle table the chat buttons come from, and every change audited."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.cases import lifecycle
from domain.cases.model import CATEGORIES, Case, Deadline
from domain.cases.timeline import Step
from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.people import User
from domain.kernel.privacy import mask_personal_numbers
from domain.kernel.time import Clock
from domain.org.access import ConsoleAccess
from domain.org.model import Level, Unit
from domain.org.service import OrgService
from domain.reporting.model import CaseFilter
from domain.reporting.ports import CaseDesk, Requests

PAGE_MAX = 200
# What a desk never takes by hand: the reporter's verdicts (theirs alone) and the sweeper's own rows.
NOT_AT_DESK = frozenset({"rate", "reopen", "climb", "supervise", "overdue", "remind_rating", "close_unrated"})


@dataclass(frozen=True)
class CasePage:
    """One page of the list, newest first."""

    cases: list[Case]
    next_before: int | None
    overdue: set[int] = field(default_factory=set)


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
    needs: dict[str, str]
    departments: list[Unit]
    grids: list[Unit]
    claimants: list[User] = field(default_factory=list)


class CaseBrowser:
    """Cases for the console: scope, search, details, actions."""

    def __init__(
        self, requests: Requests, cases: CaseDesk, org: OrgService, access: ConsoleAccess, clock: Clock
    ) -> None:
        self.requests = requests
        self.cases = cases
        self.org = org
        self.access = access
        self.clock = clock

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
        found = await self.requests.browse(f, units, limit + 1, self.clock())
        page = found[:limit]
        overdue = await self.requests.overdue_among([c.id for c in page])
        return CasePage(page, page[-1].id if len(found) > limit else None, overdue)

    async def _visible(self, actor: User, number: str) -> Case:
        try:
            case = await self.cases.by_number(number)
        except Conflict:
            raise NotFound("case_number_unknown", number=number[:32]) from None
        if not await self.cases.may_see(case, actor):
            raise Forbidden("not_your_case")
        return case

    async def detail(self, actor: User, number: str) -> CaseDetail:
        """One case: its story, clocks, departments and what this person may do now."""
        case = await self._visible(actor, number)
        unit = await self.org.get(case.unit_code)
        unit_names = {u.code: u.name for u in await self.org.all()}
        calls = [(unit_names.get(c.department, c.department), c.state, c.note) for c in await self.cases.calls_of(case)]
        # Claiming for someone is the claim form's choice of person, not an action of its own.
        actions = [a for a in await self.cases.actions_for(case, actor) if a not in NOT_AT_DESK and a != "assign"]
        needs = {a: lifecycle.RULES[a].needs.value for a in actions}
        origin = case.origin_unit or case.unit_code
        return CaseDetail(
            case=case,
            unit=unit,
            origin=unit_names.get(origin, origin),
            description=mask_personal_numbers(case.description),
            steps=await self.cases.story(case),
            clocks=await self.cases.clocks_of(case),
            calls=calls,
            followers=len(await self.cases.followers_of(case)),
            actions=actions,
            needs=needs,
            departments=await self.org.of_level(Level.DEPARTMENT) if "whistle" in actions else [],
            grids=await self.org.below(unit.code, Level.GRID) if "dispatch" in actions else [],
            claimants=await self.cases.claimants(case) if {"claim", "reassign"} & set(actions) else [],
        )

    async def perform(self, actor: User, number: str, action: str, rev: int, value: str) -> Case:
        """Take an action from the console; the same rules and messages as in chat, and an audit line."""
        case = await self._visible(actor, number)
        value = value.strip()
        if action in NOT_AT_DESK or lifecycle.rule(action) is None:
            raise Invalid("unknown_action")
        if action == "claim" and value:
            action = "assign"  # claimed for a worker who phoned in
        if action == "merge":
            value = str((await self.cases.by_number(value)).id)
        done = await self.cases.act(case.id, action, rev, actor, value)
        detail = value
        if lifecycle.RULES[action].needs.value == "person":
            # The audit names the person, not their internal id.
            names = {str(p.id): p.display_name for p in await self.cases.claimants(case)}
            detail = names.get(value, value)
        await self.access.record(actor, f"case.{action}", case.number, detail)
        return done
