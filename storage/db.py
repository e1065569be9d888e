"""Engine and session factory; SQLite gets WAL and a busy timeout, PostgreSQL uses asyncpg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # We issue BEGIN ourselves (below); pysqlite's implicit transactions would defer the write lock.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # WAL lets the sender read while a handler writes; NORMAL is durable across process crashes in WAL mode.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _begin_immediate(conn: Any) -> None:
    # Take the write lock at BEGIN: a transaction that read first and wrote later could otherwise fail with
    # SQLITE_BUSY under concurrency (no waiting in that case), e.g. two redemptions of the last points.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, echo: bool = False) -> AsyncEngine:
    """An async engine for a sqlite+aiosqlite or postgresql+asyncpg URL."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=10)
    return create_async_engine(url, **kwargs)


def conflict_insert(session: AsyncSession) -> Any:
    """The INSERT construct with ON CONFLICT clauses for the session's database (PostgreSQL or SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (we read them while rendering)."""
    return async_sessionmaker(engine, expire_on_commit=False)
