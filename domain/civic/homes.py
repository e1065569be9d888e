"""Who lives where: a resident registers a home, a building head or the grid's staff confirm it with one tap.

A confirmed home is what makes a person eligible for a building's, compound's, grid's or community's vote.
An address is seen by the person, the building's heads and the staff of its grid and above; never by a group
of neighbours.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from domain.civic.model import Building, Home, HomeState, Per, ScopeLevel
from domain.civic.places import PlaceBook
from domain.civic.ports import Homes
from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.events import EventBus, HeadServed, HomeConfirmed
from domain.kernel.notices import Action, Audience, Notice, Notices, PostMode, Subject
from domain.kernel.people import PeopleService, User
from domain.kernel.time import Clock, previous_month
from domain.org.service import OrgService

HOMES_MAX = 3  # a person lives in a few flats at most; more is a typing slip or abuse
PENDING_SHOWN = 20
# "2单元301", "2-301", "2 单元 301 室", "301" (no entrance), "B座1202"
_FLAT = re.compile(r"^(?:([0-9A-Za-z]{1,4})\s*(?:单元|门|座|栋|-|—|/|\s)\s*)?([0-9A-Za-z]{1,6})\s*(?:室|号|房)?$")


def parse_flat(text: str) -> tuple[str, str]:
    """Entrance (单元, "" when the building has one) and room from what a resident typed, or Invalid."""
    flat = unicodedata.normalize("NFKC", text).strip().upper()
    match = _FLAT.match(flat)
    if match is None:
        raise Invalid("home_flat")
    return (match.group(1) or "").lstrip("0") or "", match.group(2)


@dataclass(frozen=True)
class HomeView:
    """A home with the names of its place, as a person or the staff see it."""

    home: Home
    building: str
    compound: str


class HomeService:
    """Registration, confirmation, building heads, and who may vote where."""

    def __init__(
        self,
        homes: Homes,
        book: PlaceBook,
        org: OrgService,
        people: PeopleService,
        notices: Notices,
        events: EventBus,
        clock: Clock,
    ) -> None:
        self.homes = homes
        self.book = book
        self.org = org
        self.people = people
        self.notices = notices
        self.events = events
        self.clock = clock
        # What follows a confirmation elsewhere in the context (a rating open in the compound asks the newcomer).
        self.on_confirmed: Callable[[Home], Awaitable[None]] | None = None

    async def view(self, home: Home) -> HomeView:
        """A home with its names."""
        building = await self.book.building(home.building_code)
        compound = await self.book.compound(building.compound_code)
        return HomeView(home, building.name, compound.name)

    async def mine(self, user: User) -> list[HomeView]:
        """A person's registered homes."""
        return [await self.view(h) for h in await self.homes.of_user(user.id) if h.state is not HomeState.REFUSED]

    async def register(self, user: User, building_code: str, flat: str) -> Home:
        """A pending home; the building's heads (else the grid's group) are asked to confirm it."""
        building = await self.book.building(building_code)
        entrance, room = parse_flat(flat)
        mine = [h for h in await self.homes.of_user(user.id) if h.state is not HomeState.REFUSED]
        if any(h.building_code == building.code and (h.entrance, h.room) == (entrance, room) for h in mine):
            raise Conflict("home_exists")
        if len(mine) >= HOMES_MAX:
            raise Invalid("home_too_many", max=HOMES_MAX)
        home = await self.homes.add(user.id, building.code, entrance, room, self.clock())
        await self._ask_review(home, building, user)
        return home

    async def reviewers(self, building_code: str) -> list[int]:
        """Who is asked to confirm a home: the building's heads and the grid's staff (else the community's)."""
        grid = await self.book.grid_of(building_code)
        staff = [u.id for u in await self.org.staff.members(grid)]
        if not staff:
            community = await self.org.community_of(grid)
            staff = [u.id for u in await self.org.staff.members(community)] if community else []
        return list(dict.fromkeys([*await self.homes.heads(building_code), *staff]))

    async def _ask_review(self, home: Home, building: Building, user: User) -> None:
        # An address is private: its reviewers get it privately; a grid's group (residents are in it too) only
        # hears that a registration waits, without who or where.
        view = await self.view(home)
        params = self._card(view, user.display_name)
        actions = (Action("home.confirm", home.id), Action("home.refuse", home.id))
        for reviewer in await self.reviewers(building.code):
            await self.notices.emit(
                Notice(
                    "home.review", Audience.person(reviewer), params, actions, Subject("home", home.id), PostMode.NEW
                )
            )
        if not await self.homes.heads(building.code):
            # No head to ask: the grid's group hears that one waits (its staff may not have opened a private chat).
            grid = await self.book.grid_of(building.code)
            await self.notices.emit(Notice("home.waiting", Audience.unit(grid), {"compound": view.compound}))

    @staticmethod
    def _card(view: HomeView, name: str) -> dict[str, object]:
        h = view.home
        return {
            "id": h.id,
            "name": name,
            "compound": view.compound,
            "building": view.building,
            "entrance": h.entrance,
            "room": h.room,
        }

    async def may_confirm(self, user: User, building_code: str) -> bool:
        """A head of the building, or staff of its grid or above."""
        if user.id in await self.homes.heads(building_code):
            return True
        return await self.org.may_handle(user, await self.book.grid_of(building_code))

    async def decide(self, actor: User, home_id: int, confirm: bool) -> Home:
        """One tap: confirmed or not; the resident is told; a head's confirmation earns points."""
        home = await self.homes.get(home_id)
        if home is None:
            raise NotFound("home_missing")
        if not await self.may_confirm(actor, home.building_code):
            raise Forbidden("home_forbidden")
        state = HomeState.CONFIRMED if confirm else HomeState.REFUSED
        if home.state is not HomeState.PENDING or not await self.homes.decide(home.id, state, actor.id, self.clock()):
            raise Conflict("already_done")
        home.state, home.decided_by = state, actor.id
        view = await self.view(home)
        resident = await self.people.get(home.user_id)
        params = {**self._card(view, resident.display_name if resident else ""), "decided": actor.display_name,
                  "confirmed": confirm}  # fmt: skip
        grid = await self.book.grid_of(home.building_code)
        for reviewer in await self.reviewers(home.building_code):
            await self.notices.emit(Notice("home.review", Audience.person(reviewer), params, (),
                                           Subject("home", home.id), PostMode.CLOSE))  # fmt: skip
        kind = "home.confirmed" if confirm else "home.refused"
        await self.notices.emit(Notice(kind, Audience.person(home.user_id), self._card(view, "")))
        if confirm and self.on_confirmed is not None:
            await self.on_confirmed(home)
        if confirm and actor.id in await self.homes.heads(home.building_code):
            community = await self.org.community_of(grid)
            await self.events.publish(HomeConfirmed(home.id, actor.id, grid, community))
        return home

    async def pending_for(self, user: User) -> list[HomeView]:
        """Homes waiting for this person's tap: of the buildings they head, or of the grids they staff."""
        buildings = set(await self.homes.headed_by(user.id))
        for code in await self.org.staff.units_of(user.id):
            buildings |= set(await self.book.under_unit(code))
        homes = await self.homes.pending(sorted(buildings), PENDING_SHOWN) if buildings else []
        return [await self.view(h) for h in homes]

    async def appoint(self, actor: User, building_code: str, head: User, remove: bool = False) -> Building:
        """Staff of the grid (or above) name a building head, or take the role back."""
        building = await self.book.building(building_code)
        grid = await self.book.grid_of(building.code)
        await self.org.require(actor, grid, "home_forbidden")
        if remove:
            if not await self.homes.drop_head(building.code, head.id):
                raise NotFound("head_missing")
            return building
        if not await self.homes.set_head(building.code, head.id, actor.id, self.clock()):
            raise Conflict("head_exists")
        label = await self.book.label(ScopeLevel.BUILDING, building.code)
        await self.notices.emit(Notice("home.head_named", Audience.person(head.id), {"building": label}))
        return building

    async def monthly_service(self) -> int:
        """Heads who served the whole of last month earn their month's points (once: the ledger keys it)."""
        start, _, month = previous_month(self.clock())
        served: dict[int, str] = {}
        for building, head, since in await self.homes.all_heads():
            if since <= start and head not in served:
                served[head] = await self.book.grid_of(building)
        for head, grid in served.items():
            await self.events.publish(HeadServed(head, month, await self.org.community_of(grid)))
        return len(served)

    async def is_head(self, user: User) -> bool:
        """Whether the person heads any building (building heads may report for a resident: 代报)."""
        return bool(await self.homes.headed_by(user.id))

    async def headed(self, user: User) -> list[str]:
        """Names of the buildings a person heads."""
        return [await self.book.label(ScopeLevel.BUILDING, b) for b in await self.homes.headed_by(user.id)]

    async def confirmed(self, user: User) -> list[Home]:
        """A person's confirmed homes, oldest first."""
        return [h for h in await self.homes.of_user(user.id) if h.state is HomeState.CONFIRMED]

    async def voter_key(self, user: User, buildings: list[str], per: Per) -> str | None:
        """Whose vote this person casts in a scope covering `buildings`: themselves, or their household; None
        when no confirmed home of theirs is in it."""
        covered = set(buildings)
        inside = [h for h in await self.confirmed(user) if h.building_code in covered]
        if not inside:
            return None
        return f"u:{user.id}" if per is Per.PERSON else f"h:{inside[0].household}"
