"""Shared fixtures: databases (SQLite always, PostgreSQL when GRIDBOT_TEST_POSTGRES_URL is set), the app, scripts."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, create_app
from bot.config import Settings
from bot.demo import DISTRICT, places
from bot.demo_cast import ADMIN, COMMUNITY_GROUP, COMMUNITY_STAFF, GRID_GROUP, STREET_GROUP, WORKER
from bot.grids import import_units
from bot.nlu import BuiltinClassifier
from bot.recording import RecordingSession
from bot.scripted import Script
from bot.web import create_web
from intents.model import load_or_train
from storage.db import create_engine
from storage.migrate import upgrade
from storage.orm import Base

PG_URL = os.environ.get("GRIDBOT_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move forward."""
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="session")
def nlu_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test session's model cache directory (the `classifier` fixture puts the shipped model there)."""
    return Path(os.environ.get("GRIDBOT_CACHE_DIR") or tmp_path_factory.mktemp("nlu-cache"))


@pytest.fixture(scope="session")
def classifier(nlu_cache: Path) -> BuiltinClassifier:
    """The shipped model, trained once per test session."""
    return BuiltinClassifier(load_or_train(cache=nlu_cache))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating every time would be slow)."""

    path = tmp_path_factory.mktemp("tpl") / "template.db"

    async def make() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()  # the last connection to close checkpoints the WAL into the file we copy

    asyncio.run(make())
    return path


@pytest.fixture(scope="session")
def pg_ready() -> Iterator[None]:
    """Schema on the PostgreSQL test database rebuilt from migrations once per session."""

    assert PG_URL

    async def reset() -> None:
        engine = create_engine(PG_URL)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(reset())
    yield


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database URL for one test."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    request.getfixturevalue("pg_ready")
    return str(PG_URL)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """Engine on the test database; PostgreSQL tables are emptied before each test."""
    eng = create_engine(db_url)
    if eng.dialect.name == "postgresql":
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with eng.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield eng
    await eng.dispose()


@pytest.fixture
def clock() -> FakeClock:
    """Monday 2026-11-23 10:00 in Beijing."""
    return FakeClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings with the demo admin."""
    # The recording session has no flood limits; the pace has its own tests (test_sender, the fake Bot API).
    return Settings(
        database_url=db_url,
        media_url=str(tmp_path / "media"),
        admin_ids=[ADMIN.id],
        bot_token=None,
        messages_per_second=1000,
        group_messages_per_minute=10_000,
    )


@pytest.fixture
async def app(
    settings: Settings, engine: AsyncEngine, classifier: BuiltinClassifier, clock: FakeClock
) -> AsyncIterator[App]:
    """The app as the factory builds it, with a recording Bot session."""
    recording = RecordingSession()
    application = create_app(settings, bot_session=recording, classifier=classifier, clock=clock, engine=engine)
    yield application
    await application.bot.session.close()
    # Every end-to-end test checks for free that Telegram would have accepted everything the bot sent.
    assert not recording.rejected, f"Telegram would refuse: {recording.rejected[:3]}"


@pytest.fixture
def session(app: App) -> RecordingSession:
    """The recording Bot session of `app`."""
    assert isinstance(app.bot.session, RecordingSession)
    return app.bot.session


@pytest.fixture
async def script(app: App, session: RecordingSession) -> Script:
    """A script on a database with the demo district imported (nothing bound)."""
    async with app.sessions.begin() as s:
        await import_units(s, json.loads(DISTRICT.read_text(encoding="utf-8")))
    return Script(app, session)


@pytest.fixture
async def district(script: Script) -> Script:
    """Demo district with street, community QH-01 and grid QH-01-02 bound, a grid worker and community staff."""
    await script.say(ADMIN, "/bind QH", group=STREET_GROUP)
    await script.say(ADMIN, "/bind QH-01", group=COMMUNITY_GROUP)
    await script.say(ADMIN, "/bind QH-01-02", group=GRID_GROUP)
    await script.say(WORKER, "/start")
    await script.say(COMMUNITY_STAFF, "/start")
    await script.say(ADMIN, "/staff add @wang_grid", group=GRID_GROUP)
    await script.say(ADMIN, "/staff add @li_comm", group=COMMUNITY_GROUP)
    script.session.clear()
    script._seen_calls = 0
    return script


@pytest.fixture
def spot() -> dict[str, float]:
    """A point inside grid QH-01-02."""
    p = places()["rider_spot"]
    return {"lat": float(p["lat"]), "lon": float(p["lon"])}


@pytest.fixture
async def desk(district: Script) -> AsyncIterator[str]:
    """The web app over real HTTP in this event loop; /console links point at it."""
    from tests.helpers import serving

    async with serving(create_web(district.app)) as base:
        district.app.uow.console_url = base
        yield base
