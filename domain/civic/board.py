"""What the desk shows of residents' self-government: matters with their outcome, buildings with their heads and
registered homes, the property ranking with each compound's rating. Never who voted what."""

from __future__ import annotations

from dataclasses import dataclass

from domain.civic.homes import HomeService
from domain.civic.matters import MatterService
from domain.civic.model import FollowUp, Matter
from domain.civic.rating import RatingService, RoundResult
from domain.kernel.people import PeopleService
from domain.org.service import OrgService

MATTERS_SHOWN = 200


@dataclass(frozen=True)
class MatterLine:
    """A matter, its scope's name and its follow-ups."""

    matter: Matter
    scope: str
    unit: str
    follow_ups: list[FollowUp]


@dataclass(frozen=True)
class BuildingLine:
    """A building: its heads, and its homes by state."""

    compound: str
    building: str
    heads: list[str]
    confirmed: int
    pending: int


class CivicBoard:
    """Read models of the residents' context for a unit and everything below it."""

    def __init__(
        self, org: OrgService, people: PeopleService, homes: HomeService, matters: MatterService, rating: RatingService
    ) -> None:
        self.org = org
        self.people = people
        self.homes = homes
        self.matters = matters
        self.rating = rating

    async def _units(self, code: str) -> dict[str, str]:
        units = [await self.org.get(code), *await self.org.below(code)]
        return {u.code: u.name for u in units}

    async def matter_lines(self, code: str) -> list[MatterLine]:
        """The newest matters run by the unit or any unit below it."""
        units = await self._units(code)
        out = []
        for m in await self.matters.matters.recent(sorted(units), MATTERS_SHOWN):
            label = await self.homes.book.label(m.scope_level, m.scope_code)
            out.append(
                MatterLine(m, label, units.get(m.unit_code, m.unit_code), await self.matters.matters.follow_ups(m.id))
            )
        return out

    async def building_lines(self, code: str) -> list[BuildingLine]:
        """Every building in the unit's grids, with its heads and homes."""
        book = self.homes.book
        out = []
        for compound in await book.compounds_in(code):
            buildings = await book.buildings_of(compound.code)
            tally = await self.homes.homes.tally([b.code for b in buildings]) if buildings else {}
            for b in buildings:
                ids = await self.homes.homes.heads(b.code)
                people = await self.people.many(set(ids)) if ids else {}
                counts = tally.get(b.code, {})
                out.append(BuildingLine(compound.name, b.name, [people[i].display_name for i in ids if i in people],
                                        counts.get("confirmed", 0), counts.get("pending", 0)))  # fmt: skip
        return out

    async def round_results(self, quarter: str) -> list[tuple[str, str, RoundResult]]:
        """(compound, company, result) of each round of a quarter."""
        out = []
        for r in await self.rating.store.rounds(quarter):
            compound = await self.homes.book.compound(r.compound_code)
            out.append((compound.name, (await self.org.get(r.company_code)).name, await self.rating.result(r)))
        return out
