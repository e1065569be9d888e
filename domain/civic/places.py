"""Compounds and buildings in the district file, and which buildings a scope (building … community) covers."""

from __future__ import annotations

from typing import Any

from domain.civic.model import Building, Compound, ScopeLevel
from domain.civic.ports import Places
from domain.kernel.errors import Invalid, NotFound
from domain.org.geo import CODE_MAX, CODE_PATTERN, NAME_MAX, PLACE_LEVELS, ImportProblem
from domain.org.model import Level, Unit
from domain.org.service import OrgService

_SHAPES = ("Point", "Polygon", "MultiPolygon")


def _geometry(i: int, code: str, geometry: Any) -> tuple[dict[str, Any] | None, list[ImportProblem]]:
    if geometry is None:
        return None, []
    if not isinstance(geometry, dict) or geometry.get("type") not in _SHAPES:
        return None, [ImportProblem(i, code, "a compound's or building's geometry is a Point, a Polygon or null")]
    coords = geometry.get("coordinates")
    if geometry["type"] == "Point" and not (
        isinstance(coords, list)
        and len(coords) == 2
        and all(isinstance(c, int | float) for c in coords)
        and -180 <= coords[0] <= 180
        and -90 <= coords[1] <= 90
    ):
        return None, [ImportProblem(i, code, "a Point is [longitude, latitude]")]
    if geometry["type"] != "Point" and not isinstance(coords, list):
        return None, [ImportProblem(i, code, "coordinates must be a list")]
    return geometry, []


def parse_places(
    data: Any, units: list[Unit], stored: dict[str, str]
) -> tuple[list[Compound], list[Building], list[ImportProblem]]:
    """The file's compounds and buildings, or every problem (checked against the file's and stored units,
    and the compounds already stored: `stored` maps a place code to its level)."""
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        return [], [], []  # the units' parser names this problem
    unit_level = {u.code: u.level for u in units}
    problems: list[ImportProblem] = []
    compounds: list[Compound] = []
    buildings: list[Building] = []
    seen: dict[str, int] = {}
    for i, feature in enumerate(data["features"], start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict) or props.get("level") not in PLACE_LEVELS:
            continue
        code, name, parent = props.get("code"), props.get("name"), props.get("parent")
        if not isinstance(code, str) or not CODE_PATTERN.match(code.strip()) or len(code.strip()) > CODE_MAX:
            problems.append(ImportProblem(i, None, f"'code' must be 1–{CODE_MAX} letters, digits, '-', '_' or '.'"))
            continue
        code = code.strip()
        if code in seen or code in unit_level:
            problems.append(ImportProblem(i, code, "duplicate code"))
            continue
        seen[code] = i
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_MAX:
            problems.append(ImportProblem(i, code, f"'name' must be 1–{NAME_MAX} characters"))
            continue
        geometry, wrong = _geometry(i, code, feature.get("geometry"))
        problems += wrong
        if props["level"] == "compound":
            if unit_level.get(str(parent)) is not Level.GRID:
                problems.append(ImportProblem(i, code, "a compound's parent must be a grid"))
                continue
            company = props.get("property")
            if company is not None and unit_level.get(str(company)) is not Level.DEPARTMENT:
                problems.append(ImportProblem(i, code, "'property' must be the code of a department-level unit"))
                continue
            compounds.append(Compound(code, name.strip(), str(parent), company, geometry))
        else:
            buildings.append(Building(code, name.strip(), str(parent), geometry))
    known = {c.code for c in compounds} | {k for k, v in stored.items() if v == "compound"}
    for b in buildings:
        if b.compound_code not in known:
            problems.append(ImportProblem(seen[b.code], b.code, "a building's parent must be a compound"))
    return compounds, buildings, problems


class PlaceBook:
    """Reads compounds and buildings, and resolves a scope to the buildings it covers."""

    def __init__(self, places: Places, org: OrgService) -> None:
        self.places = places
        self.org = org

    async def compound(self, code: str) -> Compound:
        """A compound or NotFound."""
        found = await self.places.compound(code)
        if found is None:
            raise NotFound("unknown_place")
        return found

    async def building(self, code: str) -> Building:
        """A building or NotFound."""
        found = await self.places.building(code)
        if found is None:
            raise NotFound("unknown_place")
        return found

    async def buildings_of(self, compound_code: str) -> list[Building]:
        """A compound's buildings."""
        return await self.places.buildings([(await self.compound(compound_code)).code])

    async def grid_of(self, building_code: str) -> str:
        """The grid a building is in."""
        return (await self.compound((await self.building(building_code)).compound_code)).grid_code

    async def scope(self, code: str) -> tuple[ScopeLevel, str]:
        """The scope a code names: a building, a compound, a grid or a community."""
        if await self.places.building(code) is not None:
            return ScopeLevel.BUILDING, code
        if await self.places.compound(code) is not None:
            return ScopeLevel.COMPOUND, code
        unit = await self.org.find(code)
        if unit is not None and unit.level in (Level.GRID, Level.COMMUNITY):
            return ScopeLevel(unit.level.value), code
        raise Invalid("matter_scope")

    async def covered(self, level: ScopeLevel, code: str) -> list[str]:
        """The building codes whose confirmed residents a scope takes in."""
        if level is ScopeLevel.BUILDING:
            return [code]
        if level is ScopeLevel.COMPOUND:
            return [b.code for b in await self.places.buildings([code])]
        return await self.under_unit(code)

    async def under_unit(self, code: str) -> list[str]:
        """The building codes in the grids of a unit (a grid, or every grid below a community or street)."""
        compounds = [c.code for c in await self.compounds_in(code)]
        return [b.code for b in await self.places.buildings(compounds)] if compounds else []

    async def compounds_in(self, code: str) -> list[Compound]:
        """The compounds in the grids of a unit."""
        unit = await self.org.find(code)
        if unit is None or unit.level is Level.DEPARTMENT:
            return []
        grids = [code] if unit.level is Level.GRID else [g.code for g in await self.org.below(code, Level.GRID)]
        return await self.places.compounds(grids) if grids else []

    async def resolve(self, text: str, unit_code: str) -> tuple[ScopeLevel, str]:
        """A scope named by code anywhere, or by name among the compounds and buildings of a unit
        ("杏林小区", "杏林小区3号楼", "3号楼" when only one compound has it)."""
        text = "".join(text.split())
        try:
            return await self.scope(text)
        except Invalid:
            pass
        compounds = await self.compounds_in(unit_code)
        named = [c for c in compounds if c.name == text]
        if len(named) == 1:
            return ScopeLevel.COMPOUND, named[0].code
        by_code = {c.code: c for c in compounds}
        buildings = await self.places.buildings(list(by_code)) if by_code else []
        hits = [b for b in buildings if text in (by_code[b.compound_code].name + b.name, b.name)]
        if len(hits) == 1:
            return ScopeLevel.BUILDING, hits[0].code
        raise Invalid("matter_scope")

    async def home_unit(self, level: ScopeLevel, code: str) -> str:
        """The unit whose staff run a matter of this scope (and whose group it is posted to)."""
        if level is ScopeLevel.BUILDING:
            return await self.grid_of(code)
        if level is ScopeLevel.COMPOUND:
            return (await self.compound(code)).grid_code
        return code

    async def label(self, level: ScopeLevel, code: str) -> str:
        """A scope's name as people know it."""
        if level is ScopeLevel.BUILDING:
            b = await self.building(code)
            return f"{(await self.compound(b.compound_code)).name}{b.name}"
        if level is ScopeLevel.COMPOUND:
            return (await self.compound(code)).name
        return (await self.org.get(code)).name
