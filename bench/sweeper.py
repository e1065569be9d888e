"""The cost of one deadline sweep (`bot.jobs.sweep`) with N open cases, against the least a sweep must do.

    python bench/sweeper.py [N] [--due K] [--grids G] [--rounds R] [--db URL]

N open cases (default 10,000; each with the clocks the shipped policy gives a normal case: claim and resolve)
in G grids, each bound to its own group, are written in bulk. Then, on the same database:
  (a) nothing due (the steady state, a quiet Wednesday): `sweep(app)` against the baseline — one
      `SELECT … WHERE state='open' AND next_at <= now ORDER BY next_at LIMIT 500` on the deadlines table
      (FOR UPDATE SKIP LOCKED on PostgreSQL) in one committed transaction;
  (b) K deadlines fall due (default 1% of the cases; each sends its grid a reminder): `sweep(app)` against the
      least work for it — that SELECT, one bulk UPDATE of the K deadlines, one bulk INSERT of K outbox rows and
      the commit;
  (c) nothing due on a fixed day (民情日) once its morning reminders are out: the steady state on such a day.
Each figure is the median of R rounds; the database statements of one sweep are counted too.
The last line is `ratio <(a) / its baseline>`.
--db takes a PostgreSQL server URL (a scratch database is created there and dropped afterwards, so the
server's other databases are left alone) or a SQLite URL of a new file; the default is a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, delete, event, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.app import App, create_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.grids import import_units  # noqa: E402
from bot.jobs import SWEEP_BATCH, report_broadcasts, sweep  # noqa: E402
from bot.recording import RecordingSession  # noqa: E402
from domain.cases.rules import default_policy  # noqa: E402
from storage.db import create_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.orm import CaseRow, DeadlineRow, OutboxRow, UnitRow, UserRow, UtcDateTime  # noqa: E402

QUIET_DAY = datetime(2026, 12, 9, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Beijing: no fixed day, not month start
FIXED_DAY = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 10:00: 民情日, its 08:00 reminders due
CATEGORY = "public_facility"


class Clock:
    """The app's clock, set by the bench."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextlib.asynccontextmanager
async def scratch_database(url: str | None) -> AsyncIterator[str]:
    """A fresh, empty database URL: a temporary SQLite file by default; on a PostgreSQL server a new database,
    dropped afterwards; any other URL as given."""
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        yield url
        return
    name = f"gridbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)

    async def sql(statement: str) -> None:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))

    await sql(f'CREATE DATABASE "{name}"')
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        await sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        await sql(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.dispose()


def square_district(
    grids: int, street: str, community: str, lon0: float, lat0: float, side: float = 0.002
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: one street, one community under it, `grids` square grids in rows of ten."""
    features: list[dict[str, Any]] = [
        {"type": "Feature", "properties": {"code": street, "name": f"{street}街道", "level": "street", "parent": None},
         "geometry": None},
        {"type": "Feature", "properties": {"code": community, "name": f"{community}社区", "level": "community",
                                           "parent": street}, "geometry": None},
    ]  # fmt: skip
    for i in range(grids):
        row, col = divmod(i, 10)
        x, y = lon0 + col * side, lat0 + row * side
        ring = [[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]
        features.append(
            {
                "type": "Feature",
                "properties": {"code": f"{community}-{i + 1:03d}", "name": f"{community}社区第{i + 1}网格",
                               "level": "grid", "parent": community},
                "geometry": {"type": "Polygon", "coordinates": [[[round(a, 6), round(b, 6)] for a, b in ring]]},
            }
        )  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


async def populate(app: App, n: int, grids: int, due: int, now: datetime) -> list[int]:
    """Units (bound), one reporter, n open cases with their clocks; returns the ids of the `due` deadlines that
    fall due at `now` (their first reminder)."""
    await upgrade(app.engine)
    async with app.sessions.begin() as s:
        await import_units(s, square_district(grids, "SW", "SW-01", 117.20, 36.60))
        await s.execute(update(UnitRow).where(UnitRow.code == "SW").values(chat_id=-1003000000001))
        await s.execute(update(UnitRow).where(UnitRow.code == "SW-01").values(chat_id=-1003000000002))
        for i in range(grids):
            await s.execute(
                update(UnitRow).where(UnitRow.code == f"SW-01-{i + 1:03d}").values(chat_id=-1003000100000 - i)
            )
        s.add(UserRow(id=1, platform="telegram", external_id="600001", display_name="居民", locale="zh-CN",
                      reachable=True, created_at=now - timedelta(days=30)))  # fmt: skip
    levels = default_policy().levels(CATEGORY, False)
    reminders = default_policy().reminders
    # Spread over the cases and, by the offset, over the grids (a stride of 100 would otherwise hit one grid).
    stride = max(1, n // max(1, due))
    falling_due = {min(n - 1, k * stride + k % stride) for k in range(due)}
    cases: list[dict[str, Any]] = []
    clocks: list[dict[str, Any]] = []
    for i in range(n):
        created = now - timedelta(minutes=30, seconds=i % 600)
        cases.append(
            dict(id=i + 1, number=f"SW{i + 1:08d}", reporter_id=1, reporter_role="resident",
                 description="路灯不亮", category=CATEGORY, unit_code=f"SW-01-{i % grids + 1:03d}", state="new",
                 rev=1, created_at=created, updated_at=created)
        )  # fmt: skip
        for kind in ("claim", "on_site", "resolve"):
            if levels.get(kind) is None:
                continue
            started = created
            # Wall-clock spans stand in for working hours: the sweeper only compares instants.
            due_at = started + (timedelta(hours=4) if kind == "claim" else timedelta(days=3))
            if kind == "claim" and i in falling_due:
                started, due_at = now - timedelta(hours=3), now + timedelta(hours=1)  # half the span has passed
            # The first reminder (a share of the wall-clock span) is the next thing the sweeper does with it.
            first = started + (due_at - started) * reminders[0] if reminders else due_at
            clocks.append(
                dict(case_id=i + 1, kind=kind, started_at=started, due_at=due_at, state="open", reminders_sent=0,
                     estimated=False, ref="", next_at=min(first, due_at))
            )  # fmt: skip
    async with app.sessions.begin() as s:
        for start in range(0, n, 2000):
            await s.execute(insert(CaseRow), cases[start : start + 2000])
        for start in range(0, len(clocks), 2000):
            await s.execute(insert(DeadlineRow), clocks[start : start + 2000])
    async with app.sessions() as s:
        ids = await s.execute(
            select(DeadlineRow.id)
            .where(DeadlineRow.next_at <= now, DeadlineRow.state == "open")
            .order_by(DeadlineRow.id)
        )
        due_ids = [int(x) for x in ids.scalars()]
    assert len(due_ids) == len(falling_due), (len(due_ids), len(falling_due))
    if app.engine.dialect.name == "postgresql":
        async with app.engine.begin() as conn:
            # Cases were written with explicit ids; the sequence must not hand them out again.
            await conn.execute(
                text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
            )
            await conn.execute(text("ANALYZE"))
    return due_ids


async def make_due_again(app: App, due_ids: list[int], now: datetime) -> None:
    """Put the K deadlines back before their first reminder, and forget the messages (untimed)."""
    async with app.sessions.begin() as s:
        await s.execute(
            update(DeadlineRow)
            .where(DeadlineRow.id.in_(due_ids))
            .values(reminders_sent=0, next_at=now - timedelta(hours=1), state="open")
        )
        await s.execute(delete(OutboxRow))


def due_query(now: datetime) -> Any:
    """The one query a sweep cannot do without: the due deadlines, soonest first, locked."""
    return (
        select(DeadlineRow)
        .where(DeadlineRow.state == "open", DeadlineRow.paused_at.is_(None), DeadlineRow.next_at <= now)
        .order_by(DeadlineRow.next_at)
        .limit(SWEEP_BATCH)
        .with_for_update(skip_locked=True)
    )


async def due_plan(app: App, now: datetime) -> str:
    """How the database runs the due-deadlines query (whether it uses ix_deadlines_due), on one line."""
    sqlite = app.engine.dialect.name == "sqlite"
    query = text(
        ("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ")
        + "SELECT * FROM deadlines WHERE state = 'open' AND paused_at IS NULL AND next_at <= :now"
        + f" ORDER BY next_at LIMIT {SWEEP_BATCH}"
    ).bindparams(bindparam("now", type_=UtcDateTime()))
    async with app.sessions() as s:
        rows = (await s.execute(query, {"now": now})).all()
    lines = [str(r[-1]) for r in rows]
    return " / ".join(" ".join(line.split()) for line in lines if not line.strip().startswith("Filter"))


async def baseline_idle(app: App, now: datetime) -> int:
    """Nothing due: the SELECT and a commit."""
    async with app.sessions.begin() as s:
        return len((await s.execute(due_query(now))).scalars().all())


async def baseline_due(app: App, now: datetime) -> int:
    """K due: the SELECT, one bulk UPDATE of the deadlines, one bulk INSERT of their messages, a commit."""
    async with app.sessions.begin() as s:
        rows = (await s.execute(due_query(now))).scalars().all()
        if rows:
            later = now + timedelta(hours=1)
            await s.execute(update(DeadlineRow), [{"id": r.id, "reminders_sent": 1, "next_at": later} for r in rows])
            await s.execute(
                insert(OutboxRow),
                [
                    dict(chat_id=-1003000100000 - r.case_id % 100, payload={"text": f"⏰ 案件 {r.case_id} 提醒"},
                         state="pending", attempts=0, next_attempt_at=now, created_at=now, priority=0)
                    for r in rows
                ],
            )  # fmt: skip
        return len(rows)


async def sweep_parts(app: App) -> tuple[float, float, float]:
    """One sweep timed in the three transactions `bot.jobs.sweep` runs (deadlines; fixed days and monthly
    figures; broadcast reports), in ms."""
    t0 = time.perf_counter()
    async with app.sessions.begin() as session:
        _, svc, _ = app.uow.unit_of_work(session)
        await svc.sweeper.sweep(SWEEP_BATCH)
    t1 = time.perf_counter()
    async with app.sessions.begin() as session:
        _, svc, _ = app.uow.unit_of_work(session)
        await svc.fixed_days.remind()
        await svc.stats.post_monthly()
    t2 = time.perf_counter()
    await report_broadcasts(app)
    t3 = time.perf_counter()
    return (t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000


class Statements:
    """Counts the statements sent to the database."""

    def __init__(self, app: App) -> None:
        self.count = 0
        event.listen(app.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


async def measure(
    run: Callable[[], Awaitable[int]], rounds: int, statements: Statements, before: Callable[[], Awaitable[None]]
) -> tuple[float, int, int]:
    """(median ms, statements per run, result of the last run) over `rounds` runs, `before` untimed each time."""
    times: list[float] = []
    counted = result = 0
    for _ in range(rounds):
        await before()
        start_count = statements.count
        start = time.perf_counter()
        result = await run()
        times.append((time.perf_counter() - start) * 1000)
        counted = statements.count - start_count
    return statistics.median(times), counted, result


async def bench(n: int, due: int, grids: int, rounds: int, db_url: str | None) -> dict[str, Any]:
    """Populate a scratch database and measure the three situations and their baselines."""
    async with scratch_database(db_url) as url:
        clock = Clock(QUIET_DAY)
        settings = Settings(database_url=url)
        app = create_app(settings, bot_session=RecordingSession(), clock=clock)
        try:
            started = time.perf_counter()
            due_ids = await populate(app, n, grids, due, QUIET_DAY)
            setup_s = time.perf_counter() - started
            statements = Statements(app)
            out: dict[str, Any] = {"backend": app.engine.dialect.name, "setup_s": setup_s, "due": len(due_ids)}
            out["plan"] = await due_plan(app, QUIET_DAY)
            async with app.sessions() as s:
                out["open_deadlines"] = len(
                    (await s.execute(select(DeadlineRow.id).where(DeadlineRow.state == "open"))).all()
                )

            async def nothing() -> None:
                return None

            async def full_sweep() -> int:
                return (await sweep(app)).deadlines

            # (c) first: a fixed day before the quiet one, when none of these deadlines is due yet.
            clock.now = FIXED_DAY
            first = await sweep(app)
            out["fixed_first"] = first.fixed_day_reminders
            out["fixed"] = await measure(full_sweep, rounds, statements, nothing)

            clock.now = QUIET_DAY
            for _ in range(3):  # warm-up: caches, prepared statements, the OS's file cache
                await sweep(app)
                await baseline_idle(app, QUIET_DAY)
            out["idle"] = await measure(full_sweep, rounds, statements, nothing)
            out["idle_base"] = await measure(lambda: baseline_idle(app, QUIET_DAY), rounds, statements, nothing)
            parts = [await sweep_parts(app) for _ in range(rounds)]
            out["idle_parts"] = [statistics.median(p[i] for p in parts) for i in range(3)]

            if due_ids:

                async def reset() -> None:
                    await make_due_again(app, due_ids, QUIET_DAY)

                out["due_run"] = await measure(full_sweep, rounds, statements, reset)
                out["due_base"] = await measure(lambda: baseline_due(app, QUIET_DAY), rounds, statements, reset)
                async with app.sessions() as s:
                    out["due_messages"] = len((await s.execute(select(OutboxRow.id))).all())
            return out
        finally:
            await app.close()


async def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", nargs="?", type=int, default=10_000, help="open cases (default 10,000)")
    parser.add_argument("--due", type=int, default=None, help="deadlines falling due in (b) (default 1%% of n)")
    parser.add_argument("--grids", type=int, default=100, help="grids, each bound to a group (default 100)")
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per figure (median; default 15)")
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    due = args.due if args.due is not None else max(1, args.n // 100)
    r = await bench(args.n, due, args.grids, args.rounds, args.db)

    idle_ms, idle_st, _ = r["idle"]
    base_ms, base_st, _ = r["idle_base"]
    deadlines_ms, fixed_ms, reports_ms = r["idle_parts"]
    print(
        f"{r['backend']}: {args.n} open cases, {r['open_deadlines']} open deadlines, {args.grids} grids with groups"
        f" (setup {r['setup_s']:.1f} s); median of {args.rounds} rounds"
    )
    print(f"due query plan: {r['plan']}")
    print(f"(a) nothing due     sweep {idle_ms:8.2f} ms  {idle_st:4d} statements")
    print(f"    baseline        1 select + commit {base_ms:8.2f} ms  {base_st:4d} statements")
    print(
        f"    sweep's parts   deadlines {deadlines_ms:.2f} ms, fixed days + monthly {fixed_ms:.2f} ms,"
        f" broadcast reports {reports_ms:.2f} ms"
    )
    if "due_run" in r:
        due_ms, due_st, acted = r["due_run"]
        dbase_ms, dbase_st, _ = r["due_base"]
        print(
            f"(b) {r['due']} due        sweep {due_ms:8.2f} ms  {due_st:4d} statements  (acted on {acted},"
            f" {r['due_messages']} messages queued; {due_ms / r['due']:.3f} ms per deadline)"
        )
        print(f"    baseline        select + bulk update + bulk insert + commit {dbase_ms:8.2f} ms  {dbase_st:4d}"
              f" statements;  ratio {due_ms / dbase_ms:.2f}")  # fmt: skip
    fixed_ms_, fixed_st, _ = r["fixed"]
    print(
        f"(c) nothing due on 民情日 after its {r['fixed_first']} morning reminders: sweep {fixed_ms_:8.2f} ms"
        f"  {fixed_st:4d} statements;  ratio {fixed_ms_ / base_ms:.2f}"
    )
    print(f"ratio {idle_ms / base_ms:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
