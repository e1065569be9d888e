"""Alembic, driven from code: `gridbot db upgrade`, the demo and the tests share this path."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at our migrations folder."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision` on the engine's database."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


def _downgrade(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, revision)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    """Undo migrations down to `revision`."""
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade, revision)


async def migrated_engine(url: str) -> AsyncEngine:
    """An engine on a database brought up to date first (CLI commands work on a fresh file)."""
    from storage.db import create_engine

    engine = create_engine(url)
    await upgrade(engine)
    return engine
