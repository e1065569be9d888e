"""Engine and session factory; SQLite gets WAL and a busy timeout, PostgreSQL uses asyncpg."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

Clock = Callable[[], datetime]


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below); pysqlite's implicit transactions would defer the write lock.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # WAL lets the sender read while a handler writes; NORMAL is durable across process crashes in WAL mode.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.close()

    return on_connect


def _begin_immediate(conn: Any) -> None:
    # Take the write lock at BEGIN: a transaction that read first and wrote later could otherwise fail with
    # SQLITE_BUSY under concurrency (no waiting in that case), e.g. two redemptions of the last points.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, echo: bool = False, busy_timeout_ms: int = 10_000) -> AsyncEngine:
    """An async engine for a sqlite+aiosqlite or postgresql+asyncpg URL."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    # A short connect timeout: an unreachable server is reported (and retried) instead of hanging an update.
    # Up to 40 connections a process: the update lanes (32 by default), the sender, the sweeper and the leader's own;
    # two processes stay under PostgreSQL's default of 100.
    kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=30, pool_timeout=10, connect_args={"timeout": 10})
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


# PostgreSQL SQLSTATEs that say "try again later", not "your statement is wrong": serialization failure,
# deadlock, lock not available, the server shutting down or refusing connections, too many connections, and
# every connection exception (class 08).
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300", "53400"})
_TRANSIENT_WORDS = (
    "database is locked",
    "database table is locked",
    "database is busy",
    "not currently accepting connections",
    "connection was closed",
    "connection is closed",
    "connection refused",
    "terminating connection",
    "server closed the connection",
    "connection reset",
    "cannot connect now",
)


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or any(e is seen for seen in out) or len(out) > 20:
            continue
        out.append(e)
        todo += [e.__cause__, e.__context__, getattr(e, "orig", None)]
    return out


def is_transient(exc: BaseException) -> bool:
    """True for infrastructure trouble that passes by itself: locks, lost connections, a server restarting."""
    from sqlalchemy import exc as sa_exc

    for e in _chain(exc):
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, sa_exc.TimeoutError | ConnectionError | TimeoutError):
            return True
        if isinstance(e, OSError) and not isinstance(e, FileNotFoundError | PermissionError):
            return True
        state = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
        if isinstance(state, str) and (state in _TRANSIENT_SQLSTATES or state.startswith("08")):
            return True
        if type(e).__module__.startswith("asyncpg") and type(e).__name__ in (
            "ConnectionDoesNotExistError",
            "InterfaceError",
            "ConnectionFailureError",
            "CannotConnectNowError",
            "TooManyConnectionsError",
        ):
            return True
        text = str(e).lower()
        if isinstance(e, sa_exc.OperationalError | sa_exc.InterfaceError) or type(e).__name__ in (
            "OperationalError",
            "InterfaceError",
        ):
            if any(w in text for w in _TRANSIENT_WORDS):
                return True
        if "not currently accepting connections" in text:
            return True
    return False


def describe_db_error(exc: BaseException) -> str:
    """The innermost cause of a database error in one line."""
    chain = _chain(exc)
    inner = next((e for e in reversed(chain) if not type(e).__module__.startswith("sqlalchemy")), chain[0])
    text = " ".join(str(inner).split()) or repr(inner)
    return f"{type(inner).__name__}: {text[:200]}"
