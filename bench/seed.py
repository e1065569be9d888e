"""Bulk seeding of a realistic case history for the benchmarks: N cases over about three years in the demo
district, each with its timeline (case_events) and its clocks (deadlines), one month holding a chosen number.

    python bench/seed.py --db URL [--cases N] [--month-cases M]

Rows are made in Python (deterministic: one seeded random generator) and written in chunks: on PostgreSQL with
COPY (asyncpg's `copy_records_to_table`), on SQLite with executemany batches; ANALYZE afterwards. Cases get ids
in the order they were received, numbers like the app's (SB20261130-0001, per Beijing day), and states by age:
old cases are almost all closed (rated, closed unrated, a few merged), recent ones are still being handled.
The users are the configured admin (bot.demo_cast.ADMIN), one grid worker per grid (on the grid's staff) and
300 reporters.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shapely.geometry import Point, shape  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from bot.demo_cast import ADMIN  # noqa: E402
from bot.grids import import_units  # noqa: E402
from domain.cases.model import CATEGORIES  # noqa: E402
from domain.kernel.time import local, previous_month  # noqa: E402
from storage.db import session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.orm import CaseEventRow, CaseRow, CaseSeqRow, DeadlineRow, StaffRow, UserRow  # noqa: E402

DISTRICT = ROOT / "bot" / "demo" / "district.geojson"
REPORTERS = 300
CHUNK = 20_000  # cases per written chunk
CLAIM_SPAN = timedelta(hours=4)
RESOLVE_SPAN = timedelta(days=3)
YEARS = 3

# What people write, by category; a few say where and give a phone number (masked on every page and ledger).
TEMPLATES: dict[str, list[str]] = {
    "fire_safety": ["楼道里堆满了纸箱和旧家具，消防通道被堵死了", "电动车在楼道里充电，电线拖了好几米",
                    "小区消防栓没有水，箱门也坏了", "地下室有人私拉电线，闻到烧焦的味道"],
    "road_traffic": ["路口红绿灯坏了，车辆乱成一团", "人行道上的盲道被护栏占了", "这段路坑坑洼洼，下雨全是积水",
                     "学校门口早上接送车辆堵路，孩子过马路很危险"],
    "public_facility": ["小区北门井盖松了，踩上去晃得厉害", "路灯好几天不亮了，晚上一片漆黑",
                        "健身器材的螺丝掉了，老人用着不安全", "公共厕所的水龙头一直漏水", "垃圾桶被撞坏了没人换"],
    "environment": ["垃圾站好几天没清运，臭味很大", "河道里漂着很多垃圾和死鱼", "工地晚上十一点还在施工，噪音扰民",
                    "餐馆油烟直排，整栋楼都是油烟味", "绿化带里有人倒建筑垃圾"],
    "parking": ["有车长期占用消防通道停放", "共享单车把小区门口堵住了", "僵尸车停在车位上一年多没动",
                "有人用地锁占公共车位"],
    "building_safety": ["外墙瓷砖松动，随时可能掉下来砸到人", "楼顶防水层破了，顶楼漏水严重", "阳台护栏锈断了一根",
                        "老楼楼梯扶手摇摇晃晃"],
    "property_service": ["电梯又坏了，老人上下楼很困难", "物业不管楼道卫生，垃圾堆了一周",
                         "单元门禁坏了，陌生人随便进出", "地下车库的灯全灭了"],
    "neighbor_dispute": ["楼上每天半夜拖椅子，吵得睡不着", "邻居在公共走廊堆放杂物不让清理",
                         "楼上空调外机滴水到我家窗台", "邻居家的狗总是乱叫还不拴绳"],
    "other": ["小区里有流浪猫伤人", "有人在小区里发小广告贴得到处都是", "公园长椅旁边的树枝快断了",
              "想问一下社区办证的时间"],
}  # fmt: skip
CATEGORY_WEIGHTS = {"fire_safety": 8, "road_traffic": 12, "public_facility": 20, "environment": 20, "parking": 15,
                    "building_safety": 5, "property_service": 10, "neighbor_dispute": 5, "other": 5}  # fmt: skip
PLACES = ["号楼", "号楼东侧", "号楼北门", "单元门口", "号楼后面的停车场", "号楼楼下"]
COMMON_TEXT = "井盖"  # in one template of public_facility: about 4% of the descriptions
ABSENT_TEXT = "水表箱"  # in no description: a search that must look at every case

assert set(TEMPLATES) == set(CATEGORIES) == set(CATEGORY_WEIGHTS)


@dataclass
class Seeded:
    """What was written, and how long it took."""

    cases: int = 0
    events: int = 0
    deadlines: int = 0
    month: str = ""
    month_cases: int = 0
    seconds: float = 0.0
    states: dict[str, int] = field(default_factory=dict)
    grids: list[str] = field(default_factory=list)
    communities: list[str] = field(default_factory=list)
    street: str = ""
    admin_id: int = 0
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Grid:
    """A grid, its community, its worker and points inside it."""

    code: str
    community: str
    community_name: str
    worker_id: int
    points: list[tuple[float, float]]


def _points(geometry: dict[str, Any], rng: random.Random, n: int = 64) -> list[tuple[float, float]]:
    polygon = shape(geometry)
    x0, y0, x1, y1 = polygon.bounds
    out: list[tuple[float, float]] = []
    while len(out) < n:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if polygon.contains(Point(x, y)):
            out.append((round(y, 6), round(x, 6)))
    return out


def receipt_times(n: int, month_cases: int, now: datetime, rng: random.Random) -> tuple[list[datetime], str]:
    """n ascending moments over the last three years, `month_cases` of them in the last full month (Beijing)."""
    m_start, m_end, label = previous_month(now)
    start = now - timedelta(days=365 * YEARS)
    inside = min(month_cases, n)
    rest = n - inside
    before_s = (m_start - start).total_seconds()
    after_s = (now - m_end).total_seconds()
    after = round(rest * after_s / (before_s + after_s)) if rest else 0
    out: list[datetime] = []
    for seg_start, seg_end, count in ((start, m_start, rest - after), (m_start, m_end, inside), (m_end, now, after)):
        if count <= 0:
            continue
        step = (seg_end - seg_start).total_seconds() / count
        for k in range(count):
            out.append(seg_start + timedelta(seconds=(k + rng.random() * 0.9) * step))
    return out, label


class CaseMaker:
    """The rows of one case: the case, its events and its clocks, consistent with each other and with `now`."""

    CASE_COLUMNS = ("id", "number", "reporter_id", "reporter_role", "description", "category", "unit_code", "state",
                    "rev", "created_at", "updated_at", "photo_file_id", "lat", "lon", "address", "fallback",
                    "confidence", "model_version", "assignee_id", "reopen_count", "rating", "urgent",
                    "photo_unique_id", "merged_into", "close_reason", "origin_unit")  # fmt: skip
    EVENT_COLUMNS = ("id", "case_id", "actor_id", "at", "from_state", "to_state", "action", "note", "photo_file_id")
    DEADLINE_COLUMNS = ("id", "case_id", "kind", "started_at", "due_at", "state", "reminders_sent", "estimated",
                        "paused_at", "ref", "next_at", "working")  # fmt: skip

    def __init__(self, grids: list[Grid], reporter_ids: list[int], now: datetime, seed: int = 7) -> None:
        self.grids = grids
        self.reporters = reporter_ids
        self.now = now
        self.rng = random.Random(seed)
        self.categories = list(CATEGORY_WEIGHTS)
        self.weights = list(CATEGORY_WEIGHTS.values())
        self.event_id = 0
        self.deadline_id = 0
        self.day = ""
        self.seq = 0
        self.days: dict[str, int] = {}
        self.states: dict[str, int] = {}

    def _minutes(self, median: float, spread: float) -> timedelta:
        return timedelta(minutes=median * math.exp(self.rng.gauss(0, spread)))

    def make(
        self, case_id: int, created: datetime
    ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """One case's rows."""
        rng = self.rng
        day = local(created).strftime("%Y%m%d")
        if day != self.day:
            self.day, self.seq = day, 0
        self.seq += 1
        self.days[day] = self.seq
        grid = self.grids[rng.randrange(len(self.grids))]
        category = rng.choices(self.categories, self.weights)[0]
        description = rng.choice(TEMPLATES[category])
        if rng.random() < 0.3:
            description = f"{grid.community_name}{rng.randint(1, 30)}{rng.choice(PLACES)}，{description}"
        if rng.random() < 0.05:
            description += f"，联系电话139{rng.randint(10_000_000, 99_999_999)}"
        reporter = self.reporters[rng.randrange(len(self.reporters))]
        lat, lon = grid.points[rng.randrange(len(grid.points))]
        address = f"{grid.community_name}{rng.randint(1, 30)}{rng.choice(PLACES)}" if rng.random() < 0.6 else None
        handled_by = grid.community if rng.random() < 0.05 else grid.code  # some went up to the community
        worker = grid.worker_id
        age = self.now - created

        # Where it got to: by age, then cut at now (a case received an hour ago cannot be closed yet).
        r = rng.random()
        merged = age > timedelta(days=1) and r < 0.01
        if age > timedelta(days=7):
            target = "closed" if r < 0.93 else "resolved" if r < 0.97 else "on_site" if r < 0.985 else \
                "claimed" if r < 0.995 else "new"  # fmt: skip
        elif age > timedelta(days=1):
            target = "closed" if r < 0.5 else "resolved" if r < 0.8 else "on_site" if r < 0.88 else \
                "claimed" if r < 0.95 else "new"  # fmt: skip
        else:
            target = "new" if r < 0.4 else "claimed" if r < 0.7 else "on_site" if r < 0.85 else "resolved"
        order = ("new", "claimed", "on_site", "resolved", "closed")
        reach = order.index(target)
        claim_at = created + self._minutes(60, 1.0)  # about 10% after the 4-hour claim clock
        onsite_at = claim_at + self._minutes(90, 0.8)
        resolve_at = onsite_at + self._minutes(900, 1.1)  # about 15% after the 3-day resolve clock
        close_at = resolve_at + self._minutes(2 * 1440, 0.4)
        photo = f"AgACAgUAAxkBAAI{case_id:09d}" if rng.random() < 0.3 else None

        events: list[tuple[Any, ...]] = []

        def event(actor: int | None, at: datetime, frm: str | None, to: str, action: str, note: str | None) -> None:
            self.event_id += 1
            events.append((self.event_id, case_id, actor, at, frm, to, action, note, None))

        event(reporter, created, None, "new", "submit", None)
        state, rating, close_reason, merged_into, assignee = "new", None, None, None, None
        updated = created
        if merged:
            at = created + self._minutes(60, 0.5)
            merged_into = max(1, case_id - rng.randint(1, 50))
            event(worker, at, "new", "closed", "merge", None)
            state, close_reason, updated = "closed", "merged", at
        else:
            for step, at in (("claimed", claim_at), ("on_site", onsite_at), ("resolved", resolve_at),
                             ("closed", close_at)):  # fmt: skip
                if order.index(step) > reach or at > self.now:
                    break
                if step == "closed":
                    if rng.random() < 0.8:
                        rating = rng.choices(("satisfied", "basic", "unsatisfied"), (75, 18, 7))[0]
                        event(reporter, at, state, step, "rate", rating)
                        close_reason = "rated"
                    else:
                        event(None, at, state, step, "close_unrated", None)
                        close_reason = "unrated"
                elif step == "on_site":
                    if reach == order.index("on_site"):  # only cases still on site record the visit
                        event(worker, at, state, step, "onsite", None)
                    else:
                        continue
                else:
                    action = {"claimed": "claim", "resolved": "resolve"}[step]
                    event(worker, at, state, step, action, "已处理完毕" if step == "resolved" else None)
                    assignee = worker
                state, updated = step, at
        self.states[state] = self.states.get(state, 0) + 1

        clocks: list[tuple[Any, ...]] = []
        claimed = next((e[3] for e in events if e[6] == "claim"), None)
        resolved = next((e[3] for e in events if e[6] == "resolve"), None)
        for kind, span, done in (("claim", CLAIM_SPAN, claimed), ("resolve", RESOLVE_SPAN, resolved)):
            due = created + span
            if merged:
                clock_state, next_at = "cancelled", None
            elif done is not None:
                clock_state, next_at = ("met" if done <= due else "missed"), None
            elif self.now > due:
                clock_state, next_at = "missed", None
            else:
                half = created + span / 2  # the first reminder, then the deadline itself
                clock_state, next_at = "open", half if half > self.now else due
            self.deadline_id += 1
            clocks.append((self.deadline_id, case_id, kind, created, due, clock_state,
                           1 if clock_state == "missed" else 0, False, None, "", next_at, False))  # fmt: skip

        case = (case_id, f"SB{day}-{self.seq:04d}", reporter, "rider" if rng.random() < 0.4 else "resident",
                description, category, handled_by, state, len(events), created, updated, photo, lat, lon, address,
                False, round(rng.uniform(0.55, 0.99), 3), "builtin-1", assignee,
                1 if state == "closed" and rng.random() < 0.02 else 0, rating, rng.random() < 0.03,
                photo and f"AQAD{case_id:09d}", merged_into, close_reason, grid.code)  # fmt: skip
        return case, events, clocks


async def _district(engine: AsyncEngine, rng: random.Random, now: datetime) -> tuple[list[Grid], list[int], Seeded]:
    """Migrate, import the demo district, add the users (admin, a worker per grid, reporters)."""
    import json

    await upgrade(engine)
    sessions = session_factory(engine)
    data = json.loads(DISTRICT.read_text(encoding="utf-8"))
    names = {f["properties"]["code"]: f["properties"]["name"] for f in data["features"]}
    parents = {f["properties"]["code"]: f["properties"]["parent"] for f in data["features"]}
    levels = {f["properties"]["code"]: f["properties"]["level"] for f in data["features"]}
    geometry = {f["properties"]["code"]: f["geometry"] for f in data["features"]}
    grid_codes = sorted(c for c, lvl in levels.items() if lvl == "grid")
    grids: list[Grid] = []
    async with sessions.begin() as s:
        await import_units(s, data)
        s.add(UserRow(id=1, platform="telegram", external_id=str(ADMIN.id), display_name=ADMIN.first_name,
                      locale="zh-CN", reachable=True, created_at=now - timedelta(days=1200)))  # fmt: skip
        for i, code in enumerate(grid_codes):
            worker_id = 2 + i
            s.add(UserRow(id=worker_id, platform="telegram", external_id=str(910_000 + i),
                          display_name=f"{names[code][-4:]}网格员{i + 1}", locale="zh-CN", reachable=True,
                          created_at=now - timedelta(days=1200)))  # fmt: skip
            community = parents[code]
            grids.append(Grid(code, community, names[community], worker_id, _points(geometry[code], rng)))
        reporters = list(range(1000, 1000 + REPORTERS))
        for uid in reporters:
            s.add(UserRow(id=uid, platform="telegram", external_id=str(700_000 + uid), display_name=f"居民{uid}",
                          role="resident", locale="zh-CN", reachable=True,
                          created_at=now - timedelta(days=1200)))  # fmt: skip
        await s.flush()
        for g in grids:
            s.add(StaffRow(unit_code=g.code, user_id=g.worker_id, added_by=1, created_at=now - timedelta(days=1200),
                           role="worker"))  # fmt: skip
    street = next(c for c, lvl in levels.items() if lvl == "street")
    communities = sorted(c for c, lvl in levels.items() if lvl == "community")
    return grids, reporters, Seeded(grids=grid_codes, communities=communities, street=street, admin_id=1, now=now)


async def seed(
    engine: AsyncEngine, n: int, month_cases: int, now: datetime | None = None, quiet: bool = False
) -> Seeded:
    """Write the district, the users and n cases with their events and clocks; ANALYZE. Returns what was written."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    rng = random.Random(20261201)
    grids, reporters, out = await _district(engine, rng, now)
    times, out.month = receipt_times(n, month_cases, now, rng)
    out.month_cases = min(month_cases, n)
    maker = CaseMaker(grids, reporters, now)
    pg = engine.dialect.name == "postgresql"
    tables = (CaseRow, CaseEventRow, DeadlineRow)
    columns = (CaseMaker.CASE_COLUMNS, CaseMaker.EVENT_COLUMNS, CaseMaker.DEADLINE_COLUMNS)

    def chunks() -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        for first in range(0, n, CHUNK):
            cases: list[tuple[Any, ...]] = []
            events: list[tuple[Any, ...]] = []
            clocks: list[tuple[Any, ...]] = []
            for i in range(first, min(n, first + CHUNK)):
                case, es, ds = maker.make(i + 1, times[i])
                cases.append(case)
                events += es
                clocks += ds
            yield cases, events, clocks

    async with engine.connect() as conn:
        if pg:
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            for written, parts in enumerate(chunks()):
                for table, cols, rows in zip(tables, columns, parts, strict=True):
                    await raw.copy_records_to_table(table.__tablename__, records=rows, columns=list(cols))
                out.cases += len(parts[0])
                out.events += len(parts[1])
                out.deadlines += len(parts[2])
                if not quiet and written % 10 == 9:
                    print(f"  … {out.cases:,} cases written ({time.perf_counter() - started:.0f} s)", flush=True)
        else:
            for parts in chunks():
                for table, cols, rows in zip(tables, columns, parts, strict=True):
                    await conn.execute(insert(table), [dict(zip(cols, r, strict=True)) for r in rows])
                await conn.commit()
                out.cases += len(parts[0])
                out.events += len(parts[1])
                out.deadlines += len(parts[2])
        await conn.execute(insert(CaseSeqRow), [{"day": d, "last": last} for d, last in maker.days.items()])
        await conn.commit()
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        if pg:
            for name in ("users", "cases", "case_events", "deadlines"):
                await conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
                )
            await conn.execute(text("VACUUM ANALYZE"))
        else:
            await conn.execute(text("ANALYZE"))
    out.states = maker.states
    out.seconds = time.perf_counter() - started
    return out


async def main() -> None:
    """Seed a database given by URL (it must be empty: the schema is created here)."""
    from storage.db import create_engine

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="database URL (an empty database)")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--month-cases", type=int, default=30_000)
    args = parser.parse_args()
    engine = create_engine(args.db)
    try:
        s = await seed(engine, args.cases, args.month_cases)
    finally:
        await engine.dispose()
    print(f"{s.cases:,} cases, {s.events:,} events, {s.deadlines:,} deadlines in {s.seconds:.1f} s;"
          f" {s.month}: {s.month_cases:,} cases; states {s.states}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
