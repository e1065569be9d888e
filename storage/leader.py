"""One process at a time runs the scheduled work (sweeper, monthly posts, snapshots, housekeeping).

On PostgreSQL the leader holds a session-level advisory lock on a connection of its own: the server lets it go the
moment that connection ends — the process exits or is killed, or (keepalives below) its host vanishes — and the
next process that asks becomes the leader. SQLite is one process by design: it always leads.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import describe_db_error

log = logging.getLogger(__name__)
# pg_try_advisory_lock(bigint): a fixed id of gridbot's own ("gridbot" in ASCII).
LEADER_LOCK = 0x67726964626F74
# A vanished host's connection is noticed in about 10 + 3 × 5 s instead of the server's default two hours.
_KEEPALIVES = ("SET tcp_keepalives_idle = 10", "SET tcp_keepalives_interval = 5", "SET tcp_keepalives_count = 3")


class Leadership:
    """Whether this process is the one that runs the scheduled work now."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.single = engine.dialect.name != "postgresql"
        self._conn: AsyncConnection | None = None

    @property
    def leading(self) -> bool:
        """The last answer of `check` (without asking the database again)."""
        return self.single or self._conn is not None

    async def check(self) -> bool:
        """Still the leader (its connection alive), or just became it; False while another process leads."""
        if self.single:
            return True
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT 1"))
                await self._conn.commit()  # not left idle in a transaction (it would hold back VACUUM)
                return True
            except Exception as e:  # noqa: BLE001 - a lost connection means a lost lock, whatever the error
                log.warning("leadership lost with its connection (%s)", describe_db_error(e))
                await self._drop()
        return await self._try()

    async def _try(self) -> bool:
        conn: AsyncConnection | None = None
        try:
            conn = await self.engine.connect()
            for statement in _KEEPALIVES:
                await conn.execute(text(statement))
            got: Any = (await conn.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": LEADER_LOCK})).scalar()
            await conn.commit()  # the lock is the session's: no transaction left open while it is held
        except Exception as e:  # noqa: BLE001 - the database away: not the leader now, ask again next round
            log.warning("cannot ask for leadership (%s)", describe_db_error(e))
            got = False
        if got:
            self._conn = conn
            log.info("this process now runs the scheduled work (leader)")
            return True
        if conn is not None:
            await conn.close()
        return False

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.invalidate()
            except Exception:  # noqa: BLE001, S110 - it is gone either way
                pass

    async def release(self) -> None:
        """Let another process lead (on shutdown)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": LEADER_LOCK})
                await conn.commit()
            finally:
                await conn.close()
