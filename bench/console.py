"""The staff console with a big history: the case list, a case, the dashboard, the map and the Excel ledgers,
each against the least any correct page must do, measured in the same run on the same database.

    python bench/console.py [--db URL] [--cases N] [--month-cases M] [--rounds R] [--budget S]

N cases (default 1,000,000) over three years in the demo district, M of them (default 30,000) in the last full
month (Beijing time), with their timelines and clocks, are written in bulk by bench/seed.py (COPY on
PostgreSQL); the seeding time is printed. --db takes a PostgreSQL server URL (default the local server; a
scratch database is created there and dropped afterwards, so the server's other databases are untouched) or
a SQLite URL of a new file (sqlite+aiosqlite:////tmp/x.db, kept afterwards).

The admin signs in through the domain (a one-time link redeemed for a session); the pages are requested
in-process through httpx's ASGI transport against `bot.web.create_web(app)` (no sockets, no server: what is
timed is routing, the domain, the database and the templates). Each figure is p50/p95/max over R rounds
(default 30) after one warm-up request, stopped early once a figure has taken S seconds (default 60; at least
3 rounds) — the rounds actually run are printed. Baselines, run the same way right after each page:
  list pages     one `SELECT * FROM cases WHERE <the same filter> ORDER BY id DESC LIMIT 51` on the raw driver
                 connection (asyncpg / aiosqlite), no pool, no ORM, no HTML;
  a case         the case by number, its events and its clocks (three statements);
  the map        the open pins (LIMIT 2000), the grids, the month's on-time rate per grid, the pins' overdue;
  the dashboard  per month of the six: the 三率 counts (one aggregate over cases, one over their clocks, the
                 escalations, followers and department calls) and the categories; the month's places, its
                 grid ranking and the three volunteering ledgers — counting in SQL, nothing sent back but counts;
  the export     writing the same number of rows and columns with openpyxl alone (no database): as the
                 ledger writes them (append, number formats, save) and in write-only mode (the floor for a
                 pure-Python writer); the physical floor is deflating the workbook's XML (zlib, measured).
Then one more request of each page with every statement timed (SQLAlchemy cursor events): statements,
database time and the share it is of the page; the slowest statements are EXPLAIN ANALYZEd with their
parameters. The last line is `ratio list <first page / its baseline> dashboard <…> export <…>`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import html
import io
import math
import pstats
import re
import statistics
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine  # noqa: E402

from bench.seed import ABSENT_TEXT, COMMON_TEXT, Seeded, seed  # noqa: E402
from bench.sweeper import scratch_database  # noqa: E402
from bot.admin import export_ledgers  # noqa: E402
from bot.app import App, create_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.demo_cast import ADMIN  # noqa: E402
from bot.recording import RecordingSession  # noqa: E402
from bot.web import create_web  # noqa: E402
from desk.console.app import COOKIE  # noqa: E402
from domain.cases.stats import month_bounds, months_back  # noqa: E402
from domain.kernel.time import local  # noqa: E402
from domain.reporting.ledgers import KINDS  # noqa: E402

DEFAULT_DB = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
LIST_LIMIT = 51  # a page of 50 and one more to know there is a next page
OPEN = "('new', 'claimed', 'on_site')"
BINDS = ("((c.state = 'new' AND d.kind IN ('claim', 'resolve')) OR (c.state = 'claimed' AND d.kind IN"
         " ('on_site', 'resolve')) OR (c.state = 'on_site' AND d.kind = 'resolve'))")  # fmt: skip


# ---- the raw driver connection the baselines use


class Raw:
    """The driver's own connection (asyncpg, or aiosqlite): statements written as `$1 …`, datetimes bound as the
    app stores them."""

    def __init__(self, conn: AsyncConnection, driver: Any, pg: bool) -> None:
        self.conn = conn
        self.driver = driver
        self.pg = pg

    @classmethod
    async def open(cls, engine: AsyncEngine) -> Raw:
        """Check a connection out of the engine's pool and keep it."""
        conn = await engine.connect()
        driver = (await conn.get_raw_connection()).driver_connection
        return cls(conn, driver, engine.dialect.name == "postgresql")

    async def close(self) -> None:
        """Give the connection back."""
        await self.conn.close()

    async def fetch(self, sql: str, *params: Any) -> list[Any]:
        """All rows of one statement."""
        if self.pg:
            return list(await self.driver.fetch(sql, *params))
        values = [_utc_text(p) if isinstance(p, datetime) else p for p in params]
        cursor = await self.driver.execute(re.sub(r"\$(\d+)", r"?\1", sql), values)
        rows = await cursor.fetchall()
        await cursor.close()
        return list(rows)

    async def explain(self, statement: str, params: Sequence[Any]) -> list[str]:
        """How the database runs a statement the app sent (its own text and parameters), with timings on PG."""
        if self.pg:
            rows = await self.driver.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *params)
            return [str(r[0]) for r in rows]
        cursor = await self.driver.execute("EXPLAIN QUERY PLAN " + statement, tuple(params))
        rows = await cursor.fetchall()
        await cursor.close()
        return [str(r[-1]) for r in rows]


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _in(codes: Sequence[str]) -> str:
    # Unit codes are the district's own (letters, digits, dashes): inlined as literals on both backends.
    assert all(re.fullmatch(r"[A-Za-z0-9-]+", c) for c in codes)
    return "(" + ", ".join(f"'{c}'" for c in codes) + ")"


# ---- timing


@dataclass
class Figure:
    """Timings of one thing, in ms."""

    label: str
    times: list[float] = field(default_factory=list)
    note: str = ""

    def pct(self, q: float) -> float:
        """Nearest-rank percentile."""
        ordered = sorted(self.times)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    @property
    def p50(self) -> float:
        """Median."""
        return statistics.median(self.times)


async def measure(label: str, run: Callable[[], Awaitable[object]], rounds: int, budget: float) -> Figure:
    """One warm-up, then up to `rounds` timed runs (fewer once `budget` seconds are spent, at least 3)."""
    await run()
    figure = Figure(label)
    spent = 0.0
    for i in range(rounds):
        if i >= 3 and spent > budget:
            break
        start = time.perf_counter()
        await run()
        elapsed = time.perf_counter() - start
        spent += elapsed
        figure.times.append(elapsed * 1000)
    return figure


class Statements:
    """Every statement the app's engine sends while on: its text, parameters and time on the driver (the query
    and fetching its rows; not building objects from them)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.sync_engine
        self.seen: list[tuple[str, tuple[Any, ...], float]] = []

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        started = conn.info["bench_started"].pop()
        params = tuple(parameters) if isinstance(parameters, list | tuple) else ()
        self.seen.append((statement, params, (time.perf_counter() - started) * 1000))

    def __enter__(self) -> Statements:
        self.seen = []
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def short(statement: str, width: int = 240) -> str:
    """A statement on one line, its select list elided."""
    one = " ".join(statement.split())
    # A long IN list (?, ?, … or $1::VARCHAR, $2::VARCHAR, …) as its length.
    one = re.sub(r"\((?:(?:\?|\$\d+(?:::\w+)?), ){5,}(?:\?|\$\d+(?:::\w+)?)\)",
                 lambda m: f"(…{m.group(0).count(',') + 1} values)", one)  # fmt: skip
    one = re.sub(r"^SELECT (?!count)(.{60,}?) FROM ", "SELECT … FROM ", one)
    return one if len(one) <= width else one[: width - 1] + "…"


# ---- the console


async def sign_in(app: App, user_id: int) -> str:
    """A session id for the person, the way the console's sign-in makes one (a one-time link, redeemed)."""
    async with app.sessions.begin() as s:
        _, svc, _ = app.uow.unit_of_work(s)
        user = await svc.people.get(user_id)
        assert user is not None
        token = await svc.access.issue_link(user)
    async with app.sessions.begin() as s:
        _, svc, _ = app.uow.unit_of_work(s)
        sid, _ = await svc.access.redeem(token)
    return sid


async def get(client: httpx.AsyncClient, url: str) -> httpx.Response:
    """A page that must be there."""
    reply = await client.get(url)
    if reply.status_code != 200:
        raise RuntimeError(f"GET {url} → {reply.status_code}: {reply.text[:300]}")
    return reply


def next_link(page: str) -> str | None:
    """The list's 'next' link."""
    found = re.search(r'<a href="([^"]+)" id="next">', page)
    return html.unescape(found.group(1)) if found else None


# ---- baselines


def list_floor(raw: Raw, where: str, *params: Any) -> Callable[[], Awaitable[object]]:
    """One list page's SELECT."""
    sql = f"SELECT * FROM cases c {'WHERE ' + where if where else ''} ORDER BY c.id DESC LIMIT {LIST_LIMIT}"

    async def run() -> object:
        return await raw.fetch(sql, *params)

    return run


def detail_floor(raw: Raw, number: str) -> Callable[[], Awaitable[object]]:
    """The case, its events, its clocks."""

    async def run() -> object:
        [case] = await raw.fetch("SELECT * FROM cases WHERE number = $1", number)
        await raw.fetch("SELECT * FROM case_events WHERE case_id = $1 ORDER BY id", case["id"] if raw.pg else case[0])
        return await raw.fetch("SELECT * FROM deadlines WHERE case_id = $1", case["id"] if raw.pg else case[0])

    return run


def map_floor(raw: Raw, units: list[str], month: str, now: datetime) -> Callable[[], Awaitable[object]]:
    """Pins, grids, the month's on-time rate per grid, which pins are overdue."""
    start, end = month_bounds(month)

    async def run() -> object:
        pins = await raw.fetch(
            f"SELECT * FROM cases c WHERE c.state IN {OPEN} AND c.lat IS NOT NULL AND c.unit_code IN {_in(units)}"
            " ORDER BY c.id DESC LIMIT 2000"
        )
        await raw.fetch("SELECT code, name, geometry FROM units WHERE level = 'grid'")
        await raw.fetch(
            "SELECT c.origin_unit, count(*) FILTER (WHERE d.state IN ('met', 'missed') OR d.due_at <= $3),"
            " count(*) FILTER (WHERE d.state = 'met') FROM cases c JOIN deadlines d ON d.case_id = c.id"
            " WHERE c.created_at >= $1 AND c.created_at < $2 AND d.kind = 'resolve' AND d.state <> 'cancelled'"
            " GROUP BY c.origin_unit",
            start, end, now,
        )  # fmt: skip
        ids = ", ".join(str(p["id"] if raw.pg else p[0]) for p in pins) or "0"
        return await raw.fetch(
            f"SELECT d.case_id FROM deadlines d JOIN cases c ON c.id = d.case_id WHERE d.state = 'missed'"
            f" AND {BINDS} AND d.case_id IN ({ids})"
        )

    return run


def dashboard_floor(raw: Raw, units: list[str], month: str, now: datetime) -> Callable[[], Awaitable[object]]:
    """Counts in SQL for the six months, and the month's places, grid ranking and volunteering."""
    scope = f"coalesce(c.origin_unit, c.unit_code) IN {_in(units)} AND c.created_at >= $1 AND c.created_at < $2"
    counted = f"{scope} AND coalesce(c.close_reason, '') <> 'merged'"
    per_month = [
        "SELECT count(*), count(*) FILTER (WHERE c.state IN ('resolved', 'closed')), count(c.rating),"
        " count(*) FILTER (WHERE c.rating IN ('satisfied', 'basic')), count(*) FILTER (WHERE c.reopen_count > 0)"
        f" FROM cases c WHERE {counted}",
        "SELECT d.kind, count(*) FILTER (WHERE d.state IN ('met', 'missed') OR d.due_at <= $3),"
        " count(*) FILTER (WHERE d.state = 'met') FROM cases c JOIN deadlines d ON d.case_id = c.id"
        f" WHERE {counted} AND d.kind IN ('claim', 'resolve') AND d.state <> 'cancelled' AND $3 = $3 GROUP BY d.kind",
        f"SELECT count(DISTINCT e.case_id) FROM case_events e JOIN cases c ON c.id = e.case_id WHERE {counted}"
        " AND e.action = 'escalate'",
        f"SELECT count(*) FROM case_followers f JOIN cases c ON c.id = f.case_id WHERE {counted}",
        f"SELECT count(DISTINCT k.case_id) FROM case_calls k JOIN cases c ON c.id = k.case_id WHERE {counted}",
        f"SELECT c.category, count(*) FROM cases c WHERE c.unit_code IN {_in(units)} AND c.created_at >= $1"
        " AND c.created_at < $2 GROUP BY c.category",
    ]
    the_month = [
        f"SELECT c.address, count(*) FROM cases c WHERE c.unit_code IN {_in(units)} AND c.created_at >= $1"
        " AND c.created_at < $2 AND c.address IS NOT NULL GROUP BY c.address ORDER BY count(*) DESC, c.address"
        " LIMIT 10",
        "SELECT c.origin_unit, d.kind, count(*) FILTER (WHERE d.state IN ('met', 'missed') OR d.due_at <= $3),"
        " count(*) FILTER (WHERE d.state = 'met') FROM cases c JOIN deadlines d ON d.case_id = c.id"
        f" WHERE {counted} AND d.state <> 'cancelled' GROUP BY c.origin_unit, d.kind",
        "SELECT c.origin_unit, count(*), count(*) FILTER (WHERE c.state IN ('resolved', 'closed')), count(c.rating),"
        f" count(*) FILTER (WHERE c.rating IN ('satisfied', 'basic')) FROM cases c WHERE {counted}"
        " GROUP BY c.origin_unit",
        "SELECT * FROM hours_ledger WHERE created_at >= $1 AND created_at < $2",
        "SELECT * FROM points_ledger WHERE created_at >= $1 AND created_at < $2",
        "SELECT * FROM shop_orders WHERE created_at >= $1 AND created_at < $2",
    ]

    async def run() -> object:
        for label in months_back(month, 6):
            start, end = month_bounds(label)
            for sql in per_month:
                await raw.fetch(sql, *([start, end, now] if "$3" in sql else [start, end]))
        start, end = month_bounds(month)
        for sql in the_month:
            await raw.fetch(sql, *([start, end, now] if "$3" in sql else [start, end]))
        return None

    return run


def export_db_floor(raw: Raw, units: list[str], month: str) -> Callable[[], Awaitable[object]]:
    """Reading what the case ledger is made of: the month's cases, their events and clocks (three statements)."""
    start, end = month_bounds(month)
    scope = f"coalesce(c.origin_unit, c.unit_code) IN {_in(units)} AND c.created_at >= $1 AND c.created_at < $2"

    async def run() -> object:
        await raw.fetch(f"SELECT * FROM cases c WHERE {scope}", start, end)
        await raw.fetch(f"SELECT e.* FROM case_events e JOIN cases c ON c.id = e.case_id WHERE {scope}", start, end)
        return await raw.fetch(
            f"SELECT d.* FROM deadlines d JOIN cases c ON c.id = d.case_id WHERE {scope}", start, end
        )

    return run


def ledger_rows(n: int) -> list[list[object]]:
    """n rows shaped like the case ledger's 24 columns (strings, Beijing wall times, floats, ints)."""
    moment = datetime(2026, 11, 3, 9, 15)
    row: list[object] = [
        "SB20261103-0412", moment, "公共设施", "杏林社区12号楼北门，小区北门井盖松了，踩上去晃得厉害",
        "杏林社区3号楼东侧",
        36.657325, 117.027991, "杏林社区第一网格", "杏林社区第一网格", "已关闭", "否", "居民",
        moment + timedelta(minutes=42), "杏林网格员1", moment + timedelta(hours=20), "杏林网格员1",
        moment + timedelta(days=3), "是", "满意", 0, "否", "", 0, "已评价",
    ]  # fmt: skip
    return [[f"SB20261103-{i:04d}", *row[1:]] for i in range(n)]


FORMATS = {2: "yyyy-mm-dd hh:mm", 6: "0.000000", 7: "0.000000", 13: "yyyy-mm-dd hh:mm", 15: "yyyy-mm-dd hh:mm",
           17: "yyyy-mm-dd hh:mm", 20: "0", 23: "0"}  # fmt: skip


def openpyxl_like_ledger(rows: list[list[object]]) -> int:
    """The rows written the way desk.ledgers does (append, number formats per column, save); returns bytes."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["案件台账"])
    ws.append([f"列{i}" for i in range(1, 25)])
    for r in rows:
        ws.append(r)
    for col, fmt in FORMATS.items():
        for (cell,) in ws.iter_rows(min_row=3, max_row=ws.max_row, min_col=col, max_col=col):
            cell.number_format = fmt
    ws.freeze_panes = "A3"
    buffer = io.BytesIO()
    book.save(buffer)
    return len(buffer.getvalue())


def openpyxl_write_only(rows: list[list[object]]) -> int:
    """The rows streamed by openpyxl's write-only mode (no formats): the floor for a pure-Python writer."""
    book = Workbook(write_only=True)
    ws = book.create_sheet("cases")
    ws.append(["案件台账"])
    for r in rows:
        ws.append(r)
    buffer = io.BytesIO()
    book.save(buffer)
    return len(buffer.getvalue())


def deflate_floor(xlsx: bytes) -> tuple[int, float]:
    """The workbook's uncompressed XML size and the ms zlib needs to deflate it (what any writer must at least do
    besides producing the XML)."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        parts = [z.read(name) for name in z.namelist()]
    start = time.perf_counter()
    for part in parts:
        zlib.compress(part, 6)
    return sum(map(len, parts)), (time.perf_counter() - start) * 1000


# ---- the run


@dataclass
class Page:
    """A page, how to reach it, and its baseline."""

    label: str
    url: str
    floor: Callable[[], Awaitable[object]] | None
    floor_label: str = ""
    at: datetime | None = None  # the app's clock for this page (None: the real time)


class Clock:
    """The app's clock: the real time, unless pinned."""

    def __init__(self) -> None:
        self.pinned: datetime | None = None

    def __call__(self) -> datetime:
        return self.pinned or datetime.now(UTC)


async def case_of_month(raw: Raw, month: str, month_cases: int) -> str:
    """A case from the middle of the month (it has a whole story)."""
    start, end = month_bounds(month)
    rows = await raw.fetch(
        "SELECT number FROM cases WHERE created_at >= $1 AND created_at < $2 AND state = 'closed'"
        f" AND close_reason = 'rated' ORDER BY id LIMIT 1 OFFSET {min(1000, month_cases // 4)}",
        start, end,
    )  # fmt: skip
    return str(rows[0][0])


async def run(args: argparse.Namespace) -> None:
    """Seed, measure, print."""
    parsed = make_url(args.db)
    if parsed.get_backend_name() == "sqlite" and parsed.database and Path(parsed.database).exists():
        raise SystemExit(f"{parsed.database} exists: give the name of a new file")
    async with scratch_database(args.db) as url:
        settings = Settings(database_url=url, admin_ids=[ADMIN.id])
        clock = Clock()
        app = create_app(settings, bot_session=RecordingSession(), clock=clock)
        try:
            print(f"seeding {args.cases:,} cases ({args.month_cases:,} in the last full month) …", flush=True)
            seeded = await seed(app.engine, args.cases, args.month_cases)
            await report(app, clock, seeded, args, url)
        finally:
            await app.close()


async def report(app: App, clock: Clock, seeded: Seeded, args: argparse.Namespace, url: str) -> None:
    """Everything after seeding."""
    backend = app.engine.dialect.name
    print(
        f"{backend}: seeded {seeded.cases:,} cases, {seeded.events:,} events, {seeded.deadlines:,} deadlines in"
        f" {seeded.seconds:.1f} s ({seeded.cases / seeded.seconds:,.0f} cases/s incl. ANALYZE);"
        f" {seeded.month}: {seeded.month_cases:,} cases; states {dict(sorted(seeded.states.items()))}"
    )
    print(f"now {local(seeded.now):%Y-%m-%d %H:%M} Beijing; pages in-process (httpx ASGITransport → create_web(app));"
          f" up to {args.rounds} rounds, {args.budget:.0f} s per figure")  # fmt: skip
    sid = await sign_in(app, seeded.admin_id)
    web = create_web(app)
    raw = await Raw.open(app.engine)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://console.test", cookies={COOKIE: sid}
        ) as client:
            await measure_all(app, clock, client, raw, seeded, args, url)
    finally:
        await raw.close()


async def measure_all(
    app: App, clock: Clock, client: httpx.AsyncClient, raw: Raw, seeded: Seeded, args: argparse.Namespace, url: str
) -> None:
    """The pages, their baselines, the exports, the statements."""
    month = seeded.month
    this_month = local(seeded.now).strftime("%Y-%m")
    community = seeded.communities[0]
    community_units = [community, *sorted(g for g in seeded.grids if g.startswith(community + "-"))]
    all_units = [seeded.street, *seeded.communities, *seeded.grids]
    number = await case_of_month(raw, month, seeded.month_cases)
    month_end = month_bounds(month)[1] - timedelta(hours=1)  # the map shows the current month: its busiest moment

    # The 20th 'next' link from the first page.
    deep_url = "/console/cases"
    for _ in range(20):
        found = next_link((await get(client, deep_url)).text)
        assert found is not None, "fewer than 21 pages"
        deep_url = "/console/cases" + found
    before = int(re.search(r"before=(\d+)", deep_url).group(1))  # type: ignore[union-attr]

    like = f"%{COMMON_TEXT}%"
    pages = [
        Page("list, first page", "/console/cases", list_floor(raw, ""), "1 SELECT … LIMIT 51"),
        Page("list ?state=new", "/console/cases?state=new", list_floor(raw, "c.state = 'new'"), "same, state"),
        Page(f"list ?category=fire_safety&unit={community}", f"/console/cases?category=fire_safety&unit={community}",
             list_floor(raw, f"c.unit_code IN {_in(community_units)} AND c.category = 'fire_safety'"),
             "same, unit+category"),
        Page(f"list ?q={COMMON_TEXT} (≈4% match)", f"/console/cases?q={COMMON_TEXT}",
             list_floor(raw, "(c.number = $1 OR c.description LIKE $2)", COMMON_TEXT.upper(), like),
             "same, LIKE"),
        Page(f"list ?q={ABSENT_TEXT} (no match)", f"/console/cases?q={ABSENT_TEXT}",
             list_floor(raw, "(c.number = $1 OR c.description LIKE $2)", ABSENT_TEXT, f"%{ABSENT_TEXT}%"),
             "same, LIKE"),
        Page("list, 21st page (20 'next' links)", deep_url, list_floor(raw, "c.id < $1", before), "same, id <"),
        Page("list ?overdue=1", "/console/cases?overdue=1",
             list_floor(raw, "c.id IN (SELECT d.case_id FROM deadlines d JOIN cases c ON c.id = d.case_id"
                             f" WHERE d.state = 'missed' AND {BINDS})"), "same, IN (missed)"),
        Page(f"case {number}", f"/console/cases/{number}", detail_floor(raw, number), "case+events+clocks"),
        Page(f"dashboard (default month {this_month})", "/console/dashboard",
             dashboard_floor(raw, all_units, this_month, seeded.now), "SQL counts ×6 months"),
        Page(f"dashboard ?month={month}", f"/console/dashboard?month={month}",
             dashboard_floor(raw, all_units, month, seeded.now), "SQL counts ×6 months"),
        Page(f"map (month {this_month})", "/console/map", map_floor(raw, all_units, this_month, seeded.now),
             "pins+grids+rates+overdue"),
        Page(f"map at {month_end:%m-%d %H:%M} (month {month})", "/console/map",
             map_floor(raw, all_units, month, month_end), "pins+grids+rates+overdue", month_end),
    ]  # fmt: skip

    # The dashboard before any closed month is stored (a fresh install, a restore): every month from its cases.
    # The timed rounds below then read closed months as the first view (or the runner) stored them.
    cold = []
    for _ in range(3):
        async with app.engine.begin() as conn:
            await conn.execute(text("DELETE FROM rate_snapshots"))
        start = time.perf_counter()
        await get(client, "/console/dashboard")
        cold.append((time.perf_counter() - start) * 1000)
    print(f"\ndashboard with no closed month stored (first view after install): {sorted(cold)[1]:.0f} ms (median of 3)")
    print()
    print(f"{'page':52} {'p50':>9} {'p95':>9} {'max':>9} {'n':>3}   {'baseline':24} {'p50':>8} {'p95':>8}  ratio")
    results: dict[str, tuple[Figure, Figure | None]] = {}
    for p in pages:

        async def page(url: str = p.url) -> object:
            return await get(client, url)

        clock.pinned = p.at
        fig = await measure(p.label, page, args.rounds, args.budget)
        clock.pinned = None
        base = await measure(p.floor_label, p.floor, args.rounds, args.budget) if p.floor else None
        results[p.label] = (fig, base)
        line = f"{p.label:52} {fig.p50:9.2f} {fig.pct(0.95):9.2f} {max(fig.times):9.2f} {len(fig.times):3d}"
        if base is not None:
            line += f"   {base.label:24} {base.p50:8.2f} {base.pct(0.95):8.2f}  {fig.p50 / base.p50:7.1f}"
        print(line, flush=True)

    # ---- the export: the console's download, the command line, and openpyxl alone
    print()
    export_url = f"/console/export?month={month}&unit={seeded.street}"
    xlsx = b""

    async def download() -> object:
        nonlocal xlsx
        xlsx = (await get(client, export_url)).content
        return xlsx

    http_fig = await measure(f"GET {export_url}", download, args.rounds, args.budget)
    cli_size = 0
    counts: dict[str, int] = {}

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ledger.xlsx"

        async def cli() -> object:
            nonlocal cli_size, counts
            _, counts = await export_ledgers(
                Settings(database_url=url), list(KINDS), month, seeded.street, out, "zh-CN"
            )
            cli_size = out.stat().st_size
            return counts

        cli_fig = await measure("bot.admin.export_ledgers", cli, args.rounds, args.budget)
    rows = counts.get("cases", 0)
    db_fig = await measure("DB floor", export_db_floor(raw, all_units, month), args.rounds, args.budget)
    lines = ledger_rows(rows)
    made: list[int] = []

    async def as_ledger() -> object:
        made.append(await asyncio.to_thread(openpyxl_like_ledger, lines))
        return made[-1]

    like_fig = await measure("openpyxl like", as_ledger, 3, args.budget)
    like_size = made[-1]
    wo_fig = await measure("openpyxl write-only", lambda: asyncio.to_thread(openpyxl_write_only, lines), 3, args.budget)
    xml_bytes, deflate_ms = deflate_floor(xlsx)
    for label, fig, size in (
        (f"export {month} via the console ({rows:,} case rows)", http_fig, len(xlsx)),
        (f"export {month} via bot.admin.export_ledgers", cli_fig, cli_size),
    ):
        print(f"{label:60} p50 {fig.p50 / 1000:7.2f} s  p95 {fig.pct(0.95) / 1000:7.2f} s  max"
              f" {max(fig.times) / 1000:7.2f} s  n {len(fig.times)}  file {size / 1e6:6.2f} MB"
              f"  ratio {fig.p50 / like_fig.p50:5.2f}")  # fmt: skip
    print(f"  counts {counts}")
    print(f"  baseline: openpyxl alone, {rows:,} rows × 24 columns as the ledger writes them (append, formats, save):"
          f" p50 {like_fig.p50 / 1000:.2f} s, {like_size / 1e6:.2f} MB")  # fmt: skip
    print(f"  floor: openpyxl write-only, same rows {wo_fig.p50 / 1000:.2f} s;"
          f" deflating the workbook's {xml_bytes / 1e6:.1f} MB of XML (zlib) {deflate_ms / 1000:.2f} s;"
          f" reading its cases, events and clocks (3 raw SELECTs) {db_fig.p50 / 1000:.2f} s")  # fmt: skip

    # ---- where each page's time goes; the slowest statements, explained
    print()
    print(f"{'one more request, statements timed':52} {'wall ms':>9} {'stmts':>6} {'db ms':>9} {'db %':>5}  slowest")
    slow: list[tuple[float, str, str, tuple[Any, ...]]] = []
    profile = [(p.label, p.url, p.at) for p in pages] + [(f"export {month}", export_url, None)]
    for label, page_url, at in profile:
        clock.pinned = at
        with Statements(app.engine) as st:
            start = time.perf_counter()
            await get(client, page_url)
            wall = (time.perf_counter() - start) * 1000
        clock.pinned = None
        db = sum(ms for _, _, ms in st.seen)
        worst = max(st.seen, key=lambda s: s[2])
        print(f"{label:52} {wall:9.1f} {len(st.seen):6d} {db:9.1f} {100 * db / wall:4.0f}%  {worst[2]:.1f} ms"
              f" {short(worst[0], 90)}")  # fmt: skip
        for statement, params, ms in st.seen:
            if statement.lstrip().upper().startswith("SELECT"):
                slow.append((ms, label, statement, params))
        by_text: dict[str, list[float]] = {}
        for statement, _, ms in st.seen:
            by_text.setdefault(statement, []).append(ms)
        heavy = sorted(by_text.items(), key=lambda kv: -sum(kv[1]))[:2]
        for statement, times in heavy:
            if sum(times) > 0.2 * db and sum(times) > 20:
                print(f"{'':52}   {len(times):4d}× {sum(times):9.1f} ms  {short(statement, 120)}")
    print()
    print("slowest statements (single executions), explained with their parameters:")
    explained: set[str] = set()
    for ms, label, statement, params in sorted(slow, key=lambda s: -s[0]):
        if len(explained) >= args.explain:
            break
        if statement in explained:
            continue
        explained.add(statement)
        print(f"\n[{ms:.1f} ms in '{label}'] {short(statement, 1000)}")
        shown = [p if not isinstance(p, str) or len(p) < 40 else p[:40] + "…" for p in params[:12]]
        print(f"  params {shown}{' …' if len(params) > 12 else ''}")
        for line in await raw.explain(statement, params):
            print("  " + line)

    if args.cprofile:
        for label, page_url in [(pages[8].label, pages[8].url), (f"export {month}", export_url)]:
            print(f"\nwhere '{label}' spends its time (cProfile, one request, top 15 by own time):")
            profiler = cProfile.Profile()
            profiler.enable()
            await get(client, page_url)
            profiler.disable()
            listing = io.StringIO()
            pstats.Stats(profiler, stream=listing).sort_stats("tottime").print_stats(15)
            body = listing.getvalue()
            print(body[body.find("   ncalls") :].rstrip())

    first, first_base = results[pages[0].label]
    dash, dash_base = results[pages[8].label]
    assert first_base is not None and dash_base is not None
    print()
    print(f"ratio list {first.p50 / first_base.p50:.2f} dashboard {dash.p50 / dash_base.p50:.2f}"
          f" export {http_fig.p50 / like_fig.p50:.2f}")  # fmt: skip


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB, help=f"PostgreSQL server or new SQLite file (default {DEFAULT_DB})")
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases over three years (default 1,000,000)")
    parser.add_argument("--month-cases", type=int, default=30_000, help="cases in the last full month (default 30,000)")
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds per figure (default 30)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per figure before stopping early (60)")
    parser.add_argument("--explain", type=int, default=4, help="slowest statements to EXPLAIN ANALYZE (default 4)")
    parser.add_argument("--cprofile", action="store_true", help="also profile one dashboard and one export request")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
