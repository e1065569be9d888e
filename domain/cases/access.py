"""Who someone is to a case, and the facts the lifecycle table's conditions ask about, gathered once."""

from __future__ import annotations

from domain.cases.deadlines import DeadlineClock
from domain.cases.lifecycle import PENDING_CALLS, Actor, Row, Standing, permits
from domain.cases.model import Case
from domain.cases.ports import Calls
from domain.cases.record import CaseRecord
from domain.kernel.errors import Conflict, Forbidden, Invalid
from domain.kernel.people import PeopleService, User
from domain.org.model import Level, Unit
from domain.org.service import OrgService

# The refusal for someone who is not who a row asks for.
REFUSALS = {
    Actor.REPORTER: "not_your_report",
    Actor.WHISTLER: "whistle_forbidden",
    Actor.STREET: "override_street_only",
    Actor.SUPERVISOR: "supervisor_only",
}
# The refusal when the row's extra condition does not hold (state and level are fine).
UNMET = {
    "pause": "cannot_pause",
    "resume": "not_paused",
    "override": "nothing_pending",
    "whistle": "no_departments",
    "urgent": "urgency_same",
    "not_urgent": "urgency_same",
    "reject": "reject_not_grid",
    "follow_up": "already_rated",
}


class CaseAccess:
    """The roles a person has towards a case, and whether a row's preconditions hold."""

    def __init__(
        self, org: OrgService, people: PeopleService, calls: Calls, clocks: DeadlineClock, record: CaseRecord
    ) -> None:
        self.record = record
        self.org = org
        self.people = people
        self.calls = calls
        self.clocks = clocks

    async def roles(self, case: Case, user: User | None) -> frozenset[Actor]:
        """Reporter, handler, supervisor, whistler, street — or the system when nobody acts."""
        if user is None:
            return frozenset({Actor.SYSTEM})
        out: set[Actor] = set()
        if case.reporter_id == user.id:
            out.add(Actor.REPORTER)
        line = await self.org.lineage(case.unit_code)
        if self.people.is_admin(user):
            out |= {Actor.HANDLER, Actor.SUPERVISOR, Actor.WHISTLER, Actor.STREET}
            return frozenset(out)
        mine = set(await self.org.units_of(user))
        for i, unit in enumerate(line):
            if unit.code not in mine:
                continue
            out.add(Actor.HANDLER)
            if i > 0:
                out.add(Actor.SUPERVISOR)
            if unit.level in (Level.COMMUNITY, Level.STREET):
                out.add(Actor.WHISTLER)
            if unit.level is Level.STREET:
                out.add(Actor.STREET)
        return frozenset(out)

    async def standing(self, case: Case, roles: frozenset[Actor], unit: Unit | None = None) -> Standing:
        """Roles and the facts of the case now."""
        unit = unit or await self.org.get(case.unit_code)
        calls = await self.calls.of_case(case.id)
        return Standing(
            roles=roles,
            level=unit.level,
            has_parent=unit.parent_code is not None,
            departments=bool(await self.org.of_level(Level.DEPARTMENT)),
            calls_pending=any(c.state in PENDING_CALLS for c in calls),
            paused=await self.clocks.paused(case),
        )

    async def of(self, case: Case, user: User | None) -> Standing:
        """A person's standing towards a case."""
        return await self.standing(case, await self.roles(case, user))

    async def of_group(self, case: Case, unit: Unit) -> Standing:
        """The standing of a unit's working group towards a case it shows: its staff handle the case, and in a
        community's or street's group they may also call departments."""
        roles = {Actor.HANDLER}
        if unit.level in (Level.COMMUNITY, Level.STREET):
            roles.add(Actor.WHISTLER)
        return await self.standing(case, frozenset(roles))

    async def check(self, row: Row, case: Case, rev: int, actor: User | None) -> Standing:
        """The standing if this person may take this row now; else the refusal it would get."""
        standing = await self.of(case, actor)
        reporter_only = row.who == {Actor.REPORTER}
        if not row.who & standing.roles:
            wanted = next((a for a in REFUSALS if a in row.who), None)
            raise Forbidden(REFUSALS[wanted] if wanted is not None else "not_your_case")
        if case.rev != rev:
            if reporter_only:
                raise Conflict("already_rated")
            await self.record.conflict(case.id)
        if not permits(row, case, standing):
            if reporter_only:
                raise Conflict("already_rated")
            if case.state in row.sources:
                if row.levels is not None and standing.level not in row.levels:
                    raise Invalid("reject_not_grid" if row.action == "reject" else f"cannot_{row.action}")
                raise Invalid(UNMET.get(row.action, f"cannot_{row.action}"))
            await self.record.conflict(case.id)
        return standing
