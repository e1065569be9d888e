"""In-memory fakes of the residents' ports (homes, places, matters)."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime

from domain.civic.model import (
    Building,
    Check,
    Compound,
    FollowUp,
    Home,
    HomeState,
    Matter,
    MatterState,
    RatingAnswer,
    RatingRound,
)


class Places:
    """Compounds and buildings in dicts."""

    def __init__(self) -> None:
        self.c: dict[str, Compound] = {}
        self.b: dict[str, Building] = {}

    async def compounds(self, grid_codes: list[str] | None = None) -> list[Compound]:
        return sorted((c for c in self.c.values() if grid_codes is None or c.grid_code in grid_codes),
                      key=lambda c: c.code)  # fmt: skip

    async def compound(self, code: str) -> Compound | None:
        return self.c.get(code)

    async def buildings(self, compound_codes: list[str]) -> list[Building]:
        return sorted((b for b in self.b.values() if b.compound_code in compound_codes), key=lambda b: b.code)

    async def building(self, code: str) -> Building | None:
        return self.b.get(code)

    async def upsert(self, compounds: list[Compound], buildings: list[Building]) -> tuple[int, int]:
        new = sum(c.code not in self.c for c in compounds) + sum(b.code not in self.b for b in buildings)
        self.c.update({c.code: c for c in compounds})
        self.b.update({b.code: b for b in buildings})
        return new, len(compounds) + len(buildings) - new

    async def all_codes(self) -> dict[str, str]:
        return {**{k: "compound" for k in self.c}, **{k: "building" for k in self.b}}


class Homes:
    """Homes and heads in memory."""

    def __init__(self) -> None:
        self.rows: dict[int, Home] = {}
        self.ids = itertools.count(1)
        self.head_rows: set[tuple[str, int]] = set()
        self.since: dict[tuple[str, int], datetime] = {}

    async def add(self, user_id: int, building: str, entrance: str, room: str, at: datetime) -> Home:
        for h in self.rows.values():
            if (h.user_id, h.building_code, h.entrance, h.room) == (user_id, building, entrance, room):
                h.state, h.decided_by = HomeState.PENDING, None
                return dataclasses.replace(h)
        home = Home(next(self.ids), user_id, building, entrance, room, HomeState.PENDING, at)
        self.rows[home.id] = home
        return dataclasses.replace(home)

    async def get(self, home_id: int) -> Home | None:
        h = self.rows.get(home_id)
        return dataclasses.replace(h) if h else None

    async def of_user(self, user_id: int) -> list[Home]:
        return [dataclasses.replace(h) for h in sorted(self.rows.values(), key=lambda h: h.id) if h.user_id == user_id]

    async def decide(self, home_id: int, state: HomeState, by: int, at: datetime) -> bool:
        h = self.rows.get(home_id)
        if h is None or h.state is not HomeState.PENDING:
            return False
        h.state, h.decided_by = state, by
        return True

    async def pending(self, buildings: list[str], limit: int) -> list[Home]:
        out = [h for h in self.rows.values() if h.building_code in buildings and h.state is HomeState.PENDING]
        return sorted(out, key=lambda h: h.id)[:limit]

    async def count_confirmed(self, buildings: list[str], households: bool) -> int:
        ok = [h for h in self.rows.values() if h.building_code in buildings and h.state is HomeState.CONFIRMED]
        return len({h.household for h in ok}) if households else len({h.user_id for h in ok})

    async def set_head(self, building: str, user_id: int, by: int, at: datetime) -> bool:
        if (building, user_id) in self.head_rows:
            return False
        self.head_rows.add((building, user_id))
        self.since[(building, user_id)] = at
        return True

    async def drop_head(self, building: str, user_id: int) -> bool:
        if (building, user_id) not in self.head_rows:
            return False
        self.head_rows.discard((building, user_id))
        return True

    async def residents(self, buildings: list[str]) -> list[int]:
        return sorted({h.user_id for h in self.rows.values()
                       if h.building_code in buildings and h.state is HomeState.CONFIRMED})  # fmt: skip

    async def tally(self, buildings: list[str]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for h in self.rows.values():
            if h.building_code in buildings:
                out.setdefault(h.building_code, {}).setdefault(h.state.value, 0)
                out[h.building_code][h.state.value] += 1
        return out

    async def heads(self, building: str) -> list[int]:
        return sorted(u for b, u in self.head_rows if b == building)

    async def all_heads(self) -> list[tuple[str, int, datetime]]:
        return [(b, u, self.since.get((b, u), datetime(2026, 1, 1, tzinfo=UTC))) for b, u in sorted(self.head_rows)]

    async def headed_by(self, user_id: int) -> list[str]:
        return sorted(b for b, u in self.head_rows if u == user_id)


class Matters:
    """Matters and ballots in memory."""

    def __init__(self) -> None:
        self.rows: dict[int, Matter] = {}
        self.ids = itertools.count(1)
        self.ballots: dict[tuple[int, str], tuple[int, int]] = {}
        self.follow: list[FollowUp] = []

    async def add(self, matter: Matter) -> Matter:
        matter.id = next(self.ids)
        self.rows[matter.id] = dataclasses.replace(matter, options=list(matter.options))
        return matter

    async def get(self, matter_id: int, lock: bool = False, share: bool = False) -> Matter | None:
        m = self.rows.get(matter_id)
        return dataclasses.replace(m, counts=dict(m.counts)) if m else None

    async def move(self, matter_id: int, source: MatterState, **values: object) -> bool:
        m = self.rows.get(matter_id)
        if m is None or m.state is not source:
            return False
        for k, v in values.items():
            setattr(m, k, v)
        return True

    async def due(self, now: datetime, limit: int) -> list[Matter]:
        out = [m for m in self.rows.values() if m.state is MatterState.OPEN and m.closes_at and m.closes_at <= now]
        return out[:limit]

    async def open_in(self, unit_codes: list[str], now: datetime) -> list[Matter]:
        return [m for m in self.rows.values() if m.state is MatterState.OPEN and m.unit_code in unit_codes
                and m.closes_at and m.closes_at > now]  # fmt: skip

    async def recent(self, unit_codes: list[str], limit: int) -> list[Matter]:
        return sorted((m for m in self.rows.values() if m.unit_code in unit_codes), key=lambda m: -m.id)[:limit]

    async def cast(self, matter_id: int, voter_key: str, option: int, at: datetime, by: int) -> bool:
        replaced = (matter_id, voter_key) in self.ballots
        self.ballots[(matter_id, voter_key)] = (option, by)
        return replaced

    async def ballot(self, matter_id: int, voter_key: str) -> int | None:
        found = self.ballots.get((matter_id, voter_key))
        return found[0] if found else None

    async def counts(self, matter_id: int) -> dict[int, int]:
        out: dict[int, int] = {}
        for (m, _), (option, _) in self.ballots.items():
            if m == matter_id:
                out[option] = out.get(option, 0) + 1
        return out

    async def voters(self, matter_id: int) -> list[int]:
        return sorted({by for (m, _), (_, by) in self.ballots.items() if m == matter_id})

    async def add_follow_up(self, follow_up: FollowUp) -> None:
        self.follow.append(follow_up)

    async def follow_ups(self, matter_id: int) -> list[FollowUp]:
        return [f for f in self.follow if f.matter_id == matter_id]

    async def follow_up_of_case(self, case_id: int) -> FollowUp | None:
        return next((f for f in self.follow if f.case_id == case_id), None)


class Assessments:
    """Rounds, answers and checks in memory."""

    def __init__(self) -> None:
        self.r: dict[int, RatingRound] = {}
        self.a: dict[tuple[int, int], RatingAnswer] = {}
        self.c: list[Check] = []
        self.ids = itertools.count(1)

    async def add_round(self, r: RatingRound) -> int | None:
        if any((x.quarter, x.compound_code) == (r.quarter, r.compound_code) for x in self.r.values()):
            return None
        rid = next(self.ids)
        self.r[rid] = dataclasses.replace(r, id=rid)
        return rid

    async def round(self, round_id: int) -> RatingRound | None:
        return self.r.get(round_id)

    async def rounds(self, quarter: str) -> list[RatingRound]:
        return [x for x in self.r.values() if x.quarter == quarter]

    async def due_rounds(self, now: datetime) -> list[RatingRound]:
        return [x for x in self.r.values() if x.state == "open" and x.closes_at <= now]

    async def close_round(self, round_id: int) -> bool:
        x = self.r.get(round_id)
        if x is None or x.state != "open":
            return False
        self.r[round_id] = dataclasses.replace(x, state="closed")
        return True

    async def answer(self, a: RatingAnswer) -> bool:
        if (a.round_id, a.user_id) in self.a:
            return False
        self.a[(a.round_id, a.user_id)] = a
        return True

    async def answered(self, round_id: int, user_id: int) -> bool:
        return (round_id, user_id) in self.a

    async def answers(self, round_ids: list[int]) -> list[RatingAnswer]:
        return [a for (r, _), a in self.a.items() if r in round_ids]

    async def add_check(self, check: Check) -> None:
        self.c.append(check)

    async def checks(self, company_code: str, periods: list[str]) -> list[Check]:
        return [c for c in self.c if c.company_code == company_code and c.period in periods]


class Teams:
    """4+N teams in memory."""

    def __init__(self) -> None:
        self.t: dict[int, tuple[str, list[str]]] = {}
        self.m: dict[tuple[int, int], str] = {}
        self.ids = itertools.count(1)

    async def add(self, grid: str, buildings: list[str], by: int, at: datetime) -> int:
        tid = next(self.ids)
        self.t[tid] = (grid, sorted(buildings))
        return tid

    async def get(self, team_id: int) -> tuple[str, list[str]] | None:
        return self.t.get(team_id)

    async def of_buildings(self, buildings: list[str]) -> list[int]:
        return sorted(tid for tid, (_, bs) in self.t.items() if set(bs) & set(buildings))

    async def of_grids(self, grids: list[str]) -> list[int]:
        return sorted(tid for tid, (g, _) in self.t.items() if g in grids)

    async def add_member(self, team_id: int, user_id: int, role: str) -> bool:
        if (team_id, user_id) in self.m:
            return False
        self.m[(team_id, user_id)] = role
        return True

    async def remove_member(self, team_id: int, user_id: int) -> bool:
        return self.m.pop((team_id, user_id), None) is not None

    async def members(self, team_id: int) -> list[tuple[int, str]]:
        return [(u, r) for (t, u), r in self.m.items() if t == team_id]
