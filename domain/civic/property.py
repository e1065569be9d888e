"""Property companies (物业) as bodies: which company serves the place of a case, so it is called to it."""

from __future__ import annotations

from shapely.geometry import Point, shape

from domain.civic.model import Compound, HomeState
from domain.civic.places import PlaceBook
from domain.civic.ports import Homes
from domain.civic.rules import CivicRules
from domain.kernel.distance import distance_m
from domain.kernel.events import CaseOpened


class PropertyDesk:
    """Finds the compound of a case (by its point, else the reporter's confirmed home) and the company serving it."""

    def __init__(self, book: PlaceBook, homes: Homes, rules: CivicRules) -> None:
        self.book = book
        self.homes = homes
        self.rules = rules

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
            mine = {c.code: c for c in await self.book.compounds_in(event.unit_code)}
            for home in await self.homes.of_user(event.reporter_id):
                if home.state is HomeState.CONFIRMED:
                    building = await self.book.building(home.building_code)
                    if building.compound_code in mine:
                        compound = mine[building.compound_code]
                        break
        return compound.property_code if compound else None
