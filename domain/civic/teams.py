"""4+N teams (楼栋 4+N 小组): for two or three buildings, a party member, the grid worker, the property steward and
the building head, plus N volunteers; named by the grid's staff, listed to the grid and the desk."""

from __future__ import annotations

from dataclasses import dataclass

from domain.civic.model import ScopeLevel
from domain.civic.places import PlaceBook
from domain.civic.ports import Homes, Teams
from domain.kernel.errors import Conflict, Invalid, NotFound
from domain.kernel.people import PeopleService, User
from domain.kernel.time import Clock
from domain.org.service import OrgService

ROLES = ("party", "grid", "steward", "head", "volunteer")
BUILDINGS_MAX = 3


@dataclass(frozen=True)
class TeamView:
    """A team with its buildings' names and its members (name, role), the four first."""

    id: int
    grid_code: str
    buildings: list[str]
    members: list[tuple[str, str]]

    @property
    def missing(self) -> list[str]:
        """Which of the four roles nobody fills yet."""
        have = {role for _, role in self.members}
        return [r for r in ROLES[:4] if r not in have]


class TeamService:
    """Forms 4+N teams and names their members; the grid's staff (or above) only."""

    def __init__(
        self, teams: Teams, homes: Homes, book: PlaceBook, org: OrgService, people: PeopleService, clock: Clock
    ) -> None:
        self.teams = teams
        self.homes = homes
        self.book = book
        self.org = org
        self.people = people
        self.clock = clock

    async def form(self, actor: User, unit_code: str, places: list[str]) -> TeamView:
        """A team for 1–3 buildings of one grid; their heads join it as 楼栋长."""
        if not 1 <= len(places) <= BUILDINGS_MAX:
            raise Invalid("block_team_usage")
        buildings: list[str] = []
        for name in places:
            level, code = await self.book.resolve(name, unit_code)
            if level is not ScopeLevel.BUILDING:
                raise Invalid("block_team_usage")
            buildings.append(code)
        grids = {await self.book.grid_of(b) for b in buildings}
        if len(grids) != 1 or len(set(buildings)) != len(buildings):
            raise Invalid("block_team_one_grid")
        grid = grids.pop()
        await self.org.require(actor, grid, "block_team_forbidden")
        if await self.teams.of_buildings(buildings):
            raise Conflict("block_team_exists")
        team_id = await self.teams.add(grid, buildings, actor.id, self.clock())
        for b in buildings:
            for head in await self.homes.heads(b):
                await self.teams.add_member(team_id, head, "head")
        return await self.view(team_id)

    async def name(self, actor: User, team_id: int, member: User, role: str, remove: bool = False) -> TeamView:
        """Name a member in a role (or take them off the team)."""
        if role not in ROLES:
            raise Invalid("block_team_role")
        team = await self.teams.get(team_id)
        if team is None:
            raise NotFound("block_team_missing")
        await self.org.require(actor, team[0], "block_team_forbidden")
        if remove:
            await self.teams.remove_member(team_id, member.id)
        elif not await self.teams.add_member(team_id, member.id, role):
            raise Conflict("block_team_member_exists")
        return await self.view(team_id)

    async def view(self, team_id: int) -> TeamView:
        """A team as people read it."""
        team = await self.teams.get(team_id)
        if team is None:
            raise NotFound("block_team_missing")
        grid, buildings = team
        members = await self.teams.members(team_id)
        names = await self.people.many({uid for uid, _ in members}) if members else {}
        ordered = sorted(members, key=lambda m: ROLES.index(m[1]) if m[1] in ROLES else len(ROLES))
        return TeamView(
            team_id, grid, [await self.book.label(ScopeLevel.BUILDING, b) for b in buildings],
            [(names[uid].display_name, role) for uid, role in ordered if uid in names],
        )  # fmt: skip

    async def of_unit(self, code: str) -> list[TeamView]:
        """Every team in the grids of a unit."""
        grids = [c.grid_code for c in await self.book.compounds_in(code)]
        return [await self.view(tid) for tid in await self.teams.of_grids(sorted(set(grids)))]
