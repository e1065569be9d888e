"""`gridbot backup` / `gridbot restore`: the whole database as one portable file (gzipped JSON lines).

The same file restores into SQLite or PostgreSQL, so it is also how an office moves from the embedded default
to a server. A backup reads every table in one transaction (a consistent snapshot) and records the schema
revision; a restore needs an empty database, builds the schema at that revision, loads the rows in
dependency order, moves id sequences past them (PostgreSQL), then upgrades to the current schema.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, Table, func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.migrate import upgrade

FORMAT = "gridbot-backup/1"
BATCH = 1000
SKIP = {"alembic_version"}


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # Every timestamp gridbot stores is UTC; SQLite hands them back without an offset.
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return {"$dt": aware.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        if "$dt" in value:
            return dt.datetime.fromisoformat(value["$dt"])
        if "$d" in value:
            return dt.date.fromisoformat(value["$d"])
        if "$b" in value:
            return base64.b64decode(value["$b"])
    return value


def _reflect(conn: Connection) -> list[Table]:
    meta = MetaData()
    meta.reflect(conn)
    return [t for t in meta.sorted_tables if t.name not in SKIP]


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


async def backup(database_url: str, out: Path) -> dict[str, int]:
    """Write every table to `out`; returns rows per table."""
    engine = create_engine(database_url)
    counts: dict[str, int] = {}
    try:
        async with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            revision = await conn.run_sync(_revision)
            if revision is None:
                raise ValueError("the database has no gridbot schema: nothing to back up")
            tables = await conn.run_sync(_reflect)
            tmp = out.with_name(out.name + ".part")
            with gzip.open(tmp, "wt", encoding="utf-8") as f:
                head = {"format": FORMAT, "revision": revision, "at": dt.datetime.now(dt.UTC).isoformat()}
                f.write(json.dumps(head) + "\n")
                for table in tables:
                    n = 0
                    result = await conn.stream(select(table))
                    async for row in result.mappings():
                        line = {"t": table.name, "r": {k: _encode(v) for k, v in row.items()}}
                        f.write(json.dumps(line, ensure_ascii=False) + "\n")
                        n += 1
                    counts[table.name] = n
            tmp.replace(out)  # a half-written backup never takes the name of a good one
    finally:
        await engine.dispose()
    return counts


async def _empty(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        for name in ("users", "units", "cases"):
            if name in names and (await conn.execute(select(func.count()).select_from(text(name)))).scalar_one():
                return False
    return True


async def restore(database_url: str, source: Path) -> dict[str, int]:
    """Load a backup into an empty database; returns rows per table."""
    with gzip.open(source, "rt", encoding="utf-8") as f:
        try:
            head = json.loads(f.readline())
        except json.JSONDecodeError:
            raise ValueError(f"{source}: not a gridbot backup") from None
        if not isinstance(head, dict) or head.get("format") != FORMAT:
            raise ValueError(f"{source}: not a gridbot backup ({FORMAT})")
        engine = create_engine(database_url)
        counts: dict[str, int] = {}
        try:
            if not await _empty(engine):
                raise ValueError("the target database is not empty: restore into a new, empty database")
            await upgrade(engine, str(head["revision"]))
            async with engine.begin() as conn:
                tables = {t.name: t for t in await conn.run_sync(_reflect)}
                batch: list[dict[str, Any]] = []
                current: Table | None = None
                for raw in f:
                    line = json.loads(raw)
                    table = tables.get(line["t"])
                    if table is None:
                        raise ValueError(f"{source}: table {line['t']!r} is not in schema revision {head['revision']}")
                    if current is not None and (table is not current or len(batch) >= BATCH):
                        await conn.execute(current.insert(), batch)
                        batch = []
                    current = table
                    batch.append({k: _decode(v) for k, v in line["r"].items()})
                    counts[table.name] = counts.get(table.name, 0) + 1
                if current is not None and batch:
                    await conn.execute(current.insert(), batch)
                if conn.dialect.name == "postgresql":
                    for table in tables.values():
                        if "id" in table.c and table.c.id.autoincrement and counts.get(table.name):
                            # The table names come from the schema itself (reflected), never from the file.
                            name = conn.dialect.identifier_preparer.quote(table.name)
                            sql = f"SELECT setval(pg_get_serial_sequence(:t, 'id'), (SELECT max(id) FROM {name}))"  # noqa: S608
                            await conn.execute(text(sql), {"t": table.name})
            await upgrade(engine)
        finally:
            await engine.dispose()
    return counts
