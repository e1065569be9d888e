"""Places of cases: which compound a case is in, so its property company is called to it, and which open cases a
building head sees (those in their compounds)."""

from __future__ import annotations

from shapely.geometry import Point, shape

from domain.civic.model import CaseBrief, Compound, HomeState
from domain.civic.places import PlaceBook
from domain.civic.ports import Homes, OpenCases
from domain.civic.rules import CivicRules
from domain.kernel.distance import distance_m
from domain.kernel.events import CaseOpened
from domain.kernel.people import User


class PropertyDesk:
    """Finds the compound of a case (by its point, else the reporter's confirmed home) and the company serving it."""

    def __init__(self, book: PlaceBook, homes: Homes, rules: CivicRules, open_cases: OpenCases | None = None) -> None:
        self.book = book
        self.homes = homes
        self.rules = rules
        self.open_cases = open_cases

    async def compound_at(self, grid_code: str, lat: float, lon: float) -> Compound | None:
        """The compound a point is in (its outline), or the nearest one by its own or its buildings' points."""
        compounds = await self.book.compounds_in(grid_code)
        best: tuple[float, Compound] | None = None
        for c in compounds:
            shapes = [c.geometry] + [b.geometry for b in await self.book.buildings_of(c.code)]
            for geometry in (g for g in shapes if g):
                if geometry["type"] != "Point":
                    if shape(geometry).contains(Point(lon, lat)):
                        return c
                    continue
                x, y = geometry["coordinates"]
                d = distance_m(lat, lon, y, x)
                if d <= self.rules.place_radius_m and (best is None or d < best[0]):
                    best = (d, c)
        return best[1] if best else None

    async def company_for(self, event: CaseOpened) -> str | None:
        """The property company to call to a new case: its category is one they serve, in a compound of theirs."""
        if event.category not in self.rules.property_categories:
            return None
        compound = None
        if event.lat is not None and event.lon is not None:
            compound = await self.compound_at(event.unit_code, event.lat, event.lon)
        if compound is None:
            # No point (or none inside a compound): the reporter's confirmed home in this unit's compounds.
            mine = {c.code for c in await self.book.compounds_in(event.unit_code)}
            compound = await self._home_compound(event.reporter_id, mine)
        return compound.property_code if compound else None

    async def head_cases(self, user: User, limit: int = 20) -> list[tuple[str, CaseBrief]]:
        """Open cases in the compounds of the buildings a person heads (their own reports, by the case's point, or
        by its reporter's confirmed home there), each with its compound's name; none for one who heads nothing."""
        buildings = await self.homes.headed_by(user.id)
        if not buildings or self.open_cases is None:
            return []
        compounds: dict[str, Compound] = {}
        for code in buildings:
            compound = await self.book.compound((await self.book.building(code)).compound_code)
            compounds[compound.code] = compound
        grids = sorted({c.grid_code for c in compounds.values()})
        units = set(grids)
        for grid in grids:
            units |= {u.code for u in await self.book.org.lineage(grid)}
        out: list[tuple[str, CaseBrief]] = []
        for case in await self.open_cases(sorted(units)):
            # The head's own reports (代报 included) are of their buildings.
            where = next(iter(compounds.values())) if case.reporter_id == user.id else None
            if where is None and case.lat is not None and case.lon is not None:
                for grid in grids:
                    where = where or await self.compound_at(grid, case.lat, case.lon)
            if where is None:
                where = await self._home_compound(case.reporter_id, set(compounds))
            if where is not None and where.code in compounds:
                out.append((where.name, case))
            if len(out) >= limit:
                break
        return out

    async def _home_compound(self, user_id: int, among: set[str]) -> Compound | None:
        """The compound, among these, of the person's first confirmed home there."""
        for home in await self.homes.of_user(user_id):
            if home.state is HomeState.CONFIRMED:
                building = await self.book.building(home.building_code)
                if building.compound_code in among:
                    return await self.book.compound(building.compound_code)
        return None
