"""A backup taken from a working database restores into a new SQLite file and into PostgreSQL, whole."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.backup import backup, restore
from bot.demo_cast import GRID_GROUP, RIDER, WORKER
from bot.scripted import Script
from storage.db import create_engine
from tests.conftest import PG_URL
from tests.helpers import all_cases
from tests.test_deadlines import submit

TABLES = ("users", "units", "cases", "case_events", "deadlines", "outbox", "points_ledger", "staff")


async def counts(url: str) -> dict[str, int]:
    """Rows per table."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return {t: int((await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one()) for t in TABLES}
    finally:
        await engine.dispose()


async def a_working_database(s: Script, spot: dict[str, float]) -> None:
    """A case through to resolved, points earned: rows in every main table."""
    await submit(s, RIDER, "小区北门井盖松了 踩上去晃得厉害", spot)
    for label in ("接单", "到场", "办结"):
        await s.press(WORKER, label, group=GRID_GROUP)
    await s.say(WORKER, "已更换井盖")


async def test_backup_restores_into_sqlite_and_postgresql(
    district: Script, spot: dict[str, float], tmp_path: Path
) -> None:
    s = district
    await a_working_database(s, spot)
    source = s.app.settings.database_url
    file = tmp_path / "gridbot.jsonl.gz"
    written = await backup(source, file)
    assert written["cases"] == 1 and written["case_events"] >= 4
    before = await counts(source)
    targets = [f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"]
    if PG_URL and "sqlite" in source:
        targets.append(await fresh_pg_database())  # SQLite → PostgreSQL: how an office moves to a server
    for target in targets:
        restored = await restore(target, file)
        assert restored == {k: v for k, v in written.items() if v}
        assert await counts(target) == before
        # The restored database works: the next case continues the numbering, timestamps kept their zone.
        engine = create_engine(target)
        async with engine.connect() as conn:
            at = (await conn.execute(text("SELECT created_at FROM cases"))).scalar_one()
        await engine.dispose()
        original = (await all_cases(s.app))[0].created_at
        assert str(original)[:19].replace("T", " ") in str(at).replace("T", " ")
        with pytest.raises(ValueError, match="not empty"):
            await restore(target, file)


async def fresh_pg_database() -> str:
    """A scratch PostgreSQL database beside the test one (dropped and made anew)."""
    assert PG_URL
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text("DROP DATABASE IF EXISTS gridbot_restore_test"))
        await conn.execute(text("CREATE DATABASE gridbot_restore_test"))
    await admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + "/gridbot_restore_test"


async def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.gz"
    with gzip.open(bad, "wt") as f:
        f.write(json.dumps({"format": "something else"}) + "\n")
    with pytest.raises(ValueError, match="not a gridbot backup"):
        await restore(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", bad)
