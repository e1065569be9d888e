"""Hierarchy, working groups and staff; the one place that answers "may this person act for this unit?"."""

from __future__ import annotations

from dataclasses import dataclass

from domain.kernel.errors import Forbidden, Invalid, NotFound
from domain.kernel.people import PeopleService, User
from domain.org.geo import GridIndex
from domain.org.model import LEVEL_ORDER, ChannelRef, Level, Unit
from domain.org.ports import Staff, Units


class GeoCache:
    """Keeps one GridIndex per process and rebuilds it when the unit table's revision moves."""

    def __init__(self, community_radius_m: float = 1500.0, street_radius_m: float = 5000.0) -> None:
        self.community_radius_m = community_radius_m
        self.street_radius_m = street_radius_m
        self._rev = -1
        self._index: GridIndex | None = None

    async def index(self, units: Units) -> GridIndex:
        """The current index, rebuilt only after an import or bind changed the units."""
        rev = await units.revision()
        if self._index is None or rev != self._rev:
            self._index = GridIndex(await units.all(), self.community_radius_m, self.street_radius_m)
            self._rev = rev
        return self._index


@dataclass(frozen=True)
class Route:
    """Where a unit's messages go: the unit itself, and the nearest unit up its line with a working group."""

    unit: Unit
    target: Unit | None
    address: str | None

    @property
    def above(self) -> bool:
        """The group is an ancestor's, because the unit has none of its own."""
        return self.target is not None and self.target.code != self.unit.code


class OrgService:
    """Hierarchy, channel binding and staff membership; answers who may act where."""

    def __init__(self, units: Units, staff: Staff, people: PeopleService, geo: GeoCache) -> None:
        self.units = units
        self.staff = staff
        self.people = people
        self.geo = geo

    async def get(self, code: str) -> Unit:
        """A unit or NotFound."""
        unit = await self.units.get(code)
        if unit is None:
            raise NotFound("unknown_unit", code=code[:40])
        return unit

    async def find(self, code: str) -> Unit | None:
        """A unit by code, if there is one."""
        return await self.units.get(code)

    async def all(self) -> list[Unit]:
        """Every unit."""
        return await self.units.all()

    async def lineage(self, code: str) -> list[Unit]:
        """The unit and its ancestors, bottom up."""
        out: list[Unit] = []
        unit = await self.units.get(code)
        while unit is not None and len(out) < 8:
            out.append(unit)
            unit = await self.units.get(unit.parent_code) if unit.parent_code else None
        return out

    async def below(self, code: str, level: Level | None = None) -> list[Unit]:
        """Units under `code` (not itself), optionally only of one level, sorted by code."""
        units = await self.units.all()
        inside = {code}
        changed = True
        while changed:
            changed = False
            for u in units:
                if u.parent_code in inside and u.code not in inside:
                    inside.add(u.code)
                    changed = True
        return sorted(
            (u for u in units if u.code in inside and u.code != code and (level is None or u.level is level)),
            key=lambda u: u.code,
        )

    async def of_level(self, level: Level, parent: str | None = None) -> list[Unit]:
        """Units of one level (under one parent when given), sorted by code."""
        return await self.units.of_level(level, parent)

    async def units_of(self, user: User) -> list[str]:
        """Codes of the units a person is staff of."""
        return await self.staff.units_of(user.id)

    async def may_handle(self, user: User, code: str) -> bool:
        """Staff of the unit or of any ancestor, or an admin."""
        if self.people.is_admin(user):
            return True
        mine = set(await self.staff.units_of(user.id))
        return any(u.code in mine for u in await self.lineage(code))

    async def is_staff_of(self, user: User, code: str) -> bool:
        """Staff of exactly this unit."""
        return code in set(await self.staff.units_of(user.id))

    async def require(self, user: User, code: str, refusal: str) -> None:
        """Refuse with `refusal` unless the person may act for the unit."""
        if not await self.may_handle(user, code):
            raise Forbidden(refusal)

    async def community_of(self, code: str) -> str | None:
        """The community a unit belongs to (itself if it is one; None for a street)."""
        return next((u.code for u in await self.lineage(code) if u.level is Level.COMMUNITY), None)

    async def at_level(self, code: str, level: Level) -> str:
        """The unit at `level` or above in the line of `code` (the unit itself when it is high enough)."""
        for unit in await self.lineage(code):
            if LEVEL_ORDER.index(unit.level) >= LEVEL_ORDER.index(level):
                return unit.code
        return code

    async def route(self, code: str, platform: str) -> Route:
        """The unit and the nearest unit up its line that has a working group on `platform`."""
        lineage = await self.lineage(code)
        if not lineage:
            raise NotFound("unknown_unit", code=code[:40])
        for unit in lineage:
            address = await self.units.channel(unit.code, platform)
            if address is not None:
                return Route(lineage[0], unit, address)
        return Route(lineage[0], None, None)

    # ---- working groups

    async def has_group(self, code: str) -> bool:
        """Whether the unit itself has a working group (on any platform)."""
        return await self.units.has_channel(code)

    async def bind(self, user: User, code: str, channel: ChannelRef) -> Unit:
        """Make a group the working group of a unit: admins, or staff of an ancestor level, only."""
        unit = await self.units.get(code.strip())
        if unit is None:
            raise NotFound("unknown_unit", code=code.strip()[:40])
        allowed = self.people.is_admin(user)
        if not allowed and unit.parent_code:
            allowed = await self.may_handle(user, unit.parent_code)
        if not allowed:
            raise Forbidden("bind_forbidden", unit=unit.name)
        await self.units.unbind(channel)
        await self.units.bind(unit.code, channel)
        return unit

    async def unit_for(self, channel: ChannelRef) -> Unit:
        """The unit a group is bound to, or NotFound."""
        unit = await self.units.by_channel(channel)
        if unit is None:
            raise NotFound("chat_not_bound")
        return unit

    async def find_unit_for(self, channel: ChannelRef) -> Unit | None:
        """The unit a group is bound to, if any."""
        return await self.units.by_channel(channel)

    async def channel_gone(self, channel: ChannelRef) -> list[str]:
        """The bot left or was removed from a group: its bindings end, so messages route upwards."""
        return await self.units.unbind(channel)

    async def channel_moved(self, old: ChannelRef, new: ChannelRef) -> list[str]:
        """A group got a new address (e.g. became a supergroup): its bindings follow it."""
        codes = await self.units.unbind(old)
        for code in codes:
            await self.units.bind(code, new)
        return codes

    # ---- staff

    async def members(self, code: str) -> list[User]:
        """Staff of one unit."""
        return await self.staff.members(code)

    async def add_staff(self, actor: User, code: str, target: User) -> bool:
        """Add someone to a unit's staff (by an admin or staff of that level or above); False if already."""
        await self.require(actor, code, "staff_forbidden")
        return await self.staff.add(code, target.id, actor.id)

    async def heads(self, code: str) -> list[User]:
        """The unit's heads (网格长 of a grid)."""
        return await self.staff.with_role(code, "head")

    async def set_head(self, actor: User, code: str, target: User, head: bool = True) -> bool:
        """Make a staff member the unit's head (or an ordinary worker again); they join the staff if needed."""
        await self.require(actor, code, "staff_forbidden")
        await self.staff.add(code, target.id, actor.id)
        return await self.staff.set_role(code, target.id, "head" if head else "worker")

    async def remove_staff(self, actor: User, code: str, target: User) -> bool:
        """Remove someone from a unit's staff; False if they were not on it."""
        await self.require(actor, code, "staff_forbidden")
        return await self.staff.remove(code, target.id)

    async def community(self, code: str) -> Unit:
        """A community by code, or Invalid (a street or grid code is not one)."""
        unit = await self.units.get(code)
        if unit is None or unit.level is not Level.COMMUNITY:
            raise Invalid("unknown_unit", code=code[:40])
        return unit
