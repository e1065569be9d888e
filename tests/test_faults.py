"""Nothing lost under faults: a locked or unreachable database, a handler bug, two senders on one database."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, create_app, create_bot
from bot.config import Settings
from bot.demo_cast import ADMIN
from bot.nlu import BuiltinClassifier
from bot.recording import RecordingSession
from bot.scripted import Person, Script
from bot.sender import OutboxSender
from storage.db import create_engine
from storage.delivery import OutboxRepo
from storage.migrate import upgrade
from storage.orm import FailedUpdateRow, OutboxRow, ProcessedUpdateRow
from storage.outbox import OutboxStore
from tests.conftest import PG_URL, FakeClock

PEOPLE = [Person(880000 + i, f"居民{i}") for i in range(5)]


async def count(engine: AsyncEngine, what: object) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(what))).scalar_one())  # type: ignore[arg-type]


def hold_write_lock(path: Path, seconds: float, started: threading.Event) -> None:
    """Another process's writer: BEGIN EXCLUSIVE on the file, held for a while."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.execute("BEGIN EXCLUSIVE")
    started.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


async def test_sqlite_write_lock_delays_updates_but_loses_none(
    tmp_path: Path, sqlite_template: Path, classifier: BuiltinClassifier, caplog: pytest.LogCaptureFixture
) -> None:
    import shutil

    db = tmp_path / "locked.db"
    shutil.copy(sqlite_template, db)
    settings = Settings(database_url=f"sqlite+aiosqlite:///{db}", admin_ids=[ADMIN.id], sqlite_busy_timeout_ms=100)
    app = create_app(settings, bot_session=RecordingSession(), classifier=classifier)
    app.feeder.first_backoff_s = 0.1
    app.feeder.max_backoff_s = 0.5
    script = Script(app, app.bot.session)  # type: ignore[arg-type]
    started = threading.Event()
    locker = threading.Thread(target=hold_write_lock, args=(db, 2.5, started))
    locker.start()
    started.wait()
    caplog.set_level(logging.WARNING)
    t0 = time.monotonic()
    await asyncio.gather(*(script.say(p, "/help") for p in PEOPLE))
    waited = time.monotonic() - t0
    locker.join()
    await app.sender.drain()
    replies = Counter(c.chat_id for c in script.session.by_method("sendMessage"))
    assert replies == Counter({p.id: 1 for p in PEOPLE})  # every update answered, once
    assert await count(app.engine, ProcessedUpdateRow) == len(PEOPLE)
    assert waited >= 2.0  # they waited for the lock instead of being dropped
    logged = [r.getMessage() for r in caplog.records]
    assert any("database unavailable" in m and "database is locked" in m for m in logged)
    await app.close()


@pytest.fixture
async def pg_outage_db() -> AsyncIterator[str]:
    """A PostgreSQL database of its own, so connections to it can be refused and cut without harming others."""
    if not PG_URL:
        pytest.skip("needs GRIDBOT_TEST_POSTGRES_URL")
    name = f"gridbot_outage_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    try:
        yield url
    finally:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            await conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await admin.dispose()


async def set_outage(name: str, down: bool) -> None:
    """Refuse new connections to the database and cut the open ones (or allow them again)."""
    assert PG_URL
    admin = create_engine(PG_URL)
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if down else "true"}'))
        if down:
            await conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
    await admin.dispose()


async def test_postgres_refusing_and_cutting_connections_loses_no_update(
    pg_outage_db: str, classifier: BuiltinClassifier, caplog: pytest.LogCaptureFixture
) -> None:
    name = pg_outage_db.rsplit("/", 1)[1]
    settings = Settings(database_url=pg_outage_db, admin_ids=[ADMIN.id])
    app = create_app(settings, bot_session=RecordingSession(), classifier=classifier)
    app.feeder.first_backoff_s = 0.1
    app.feeder.max_backoff_s = 0.5
    script = Script(app, app.bot.session)  # type: ignore[arg-type]
    await script.say(PEOPLE[0], "/help")  # the pool holds live connections, which the outage will cut
    caplog.set_level(logging.WARNING)
    await set_outage(name, True)
    pending = asyncio.gather(*(script.say(p, "/start") for p in PEOPLE))
    await asyncio.sleep(2.5)
    assert not pending.done()  # waiting, not dropped
    await set_outage(name, False)
    await asyncio.wait_for(pending, 60)
    await app.sender.drain()
    assert await count(app.engine, ProcessedUpdateRow) == len(PEOPLE) + 1
    greeted = {c.chat_id for c in script.session.by_method("sendMessage")}
    assert {p.id for p in PEOPLE} <= greeted
    assert any("database unavailable" in r.getMessage() for r in caplog.records)
    await app.close()


async def test_a_handler_bug_is_recorded_answered_and_does_not_block(
    district: Script, monkeypatch: pytest.MonkeyPatch
) -> None:
    from domain.cases.intake import ReportService

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom: a bug in a handler")

    monkeypatch.setattr(ReportService, "cancel", broken)
    who = PEOPLE[0]
    await district.say(who, "/cancel")
    await district.say(who, "/help")  # the next update goes through
    texts = [str(c.params.get("text")) for c in district.session.by_method("sendMessage") if c.chat_id == who.id]
    assert "出错" in texts[0] or "抱歉" in texts[0], texts
    assert len(texts) == 2
    async with district.app.sessions() as s:
        row = (await s.execute(select(FailedUpdateRow))).scalar_one()
    assert "boom" in row.error and "RuntimeError" in row.traceback
    assert row.payload["message"]["text"] == "/cancel"


async def test_two_senders_share_one_outbox_without_doubling(app: App, engine: AsyncEngine, clock: FakeClock) -> None:
    chats = list(range(101, 121))
    async with app.sessions.begin() as s:
        repo = OutboxRepo(s, clock)
        for n in range(10):
            for chat in chats:
                await repo.add(chat, {"text": f"{chat}:{n}"})
    sessions = [RecordingSession(), RecordingSession()]
    senders = [
        OutboxSender(
            create_bot(app.settings, sess),
            OutboxStore(app.sessions, clock, owner=f"worker-{i}"),
            concurrency=4,
        )
        for i, sess in enumerate(sessions)
    ]
    await asyncio.gather(*(s.drain() for s in senders))
    await asyncio.gather(*(s.drain() for s in senders))
    sent = [c for sess in sessions for c in sess.by_method("sendMessage")]
    assert len(sent) == len(chats) * 10  # each message exactly once
    assert all(sess.by_method("sendMessage") for sess in sessions)  # both worked
    for chat in chats:
        order = sorted((c.at, int(str(c.params["text"]).split(":")[1])) for c in sent if c.chat_id == chat)
        assert [n for _, n in order] == list(range(10))  # per-chat order held across the two senders


async def test_a_starting_sender_leaves_a_live_senders_messages_alone(app: App, clock: FakeClock) -> None:
    async with app.sessions.begin() as s:
        msg = await OutboxRepo(s, clock).add(7, {"text": "slow send"})
    alive = OutboxStore(app.sessions, clock, owner="alive", lease=timedelta(seconds=30))
    newcomer = OutboxStore(app.sessions, clock, owner="newcomer", lease=timedelta(seconds=30))
    assert await alive.claim([msg]) == {msg}
    assert await newcomer.recover() == 0  # the other process is sending it right now
    clock.advance(20)
    assert await alive.renew(msg)  # still sending: the lease moves on
    clock.advance(20)
    assert await newcomer.recover() == 0
    clock.advance(31)  # the owner died: no renewal for longer than the lease
    assert await newcomer.recover() == 1
    async with app.sessions() as s:
        row = await s.get(OutboxRow, msg)
        assert row is not None and row.state == "pending" and row.lease_owner is None


async def test_webhook_says_retry_later_while_the_database_is_locked(
    tmp_path: Path, sqlite_template: Path, classifier: BuiltinClassifier
) -> None:
    import shutil

    from aiohttp.test_utils import TestClient, TestServer

    from bot.runner import webhook_app
    from tests.fakes.bot_api import message_update

    db = tmp_path / "hook.db"
    shutil.copy(sqlite_template, db)
    settings = Settings(database_url=f"sqlite+aiosqlite:///{db}", sqlite_busy_timeout_ms=100, webhook_patience_s=0.5)
    app = create_app(settings, bot_session=RecordingSession(), classifier=classifier)
    app.feeder.first_backoff_s = 0.1
    client = TestClient(TestServer(webhook_app(app, "s3cret")))
    await client.start_server()
    update = {"update_id": 77, **message_update(5150, "/help")}
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
    started = threading.Event()
    locker = threading.Thread(target=hold_write_lock, args=(db, 2.0, started))
    locker.start()
    started.wait()
    r = await client.post("/telegram/webhook", json=update, headers=headers)
    assert r.status == 503  # not handled: Telegram keeps it and delivers it again
    locker.join()
    r = await client.post("/telegram/webhook", json=update, headers=headers)
    assert r.status == 200
    r = await client.post("/telegram/webhook", json=update, headers=headers)
    assert r.status == 200  # a further redelivery counts once
    r = await client.post("/telegram/webhook", data=b"{not json", headers=headers)
    assert r.status == 400
    await app.sender.drain()
    assert [c.chat_id for c in app.bot.session.by_method("sendMessage")] == [5150]  # type: ignore[attr-defined]
    await client.close()
    await app.close()


FORGED = [
    "case:claim:9223372036854775808:1",
    "case:claim:1:99999999999999999999",
    "rate:-1:satisfied:1",
    "act:join:18446744073709551616",
    "ord:take:1e999",
    "shop:item:99999999999999999999",
    "shop:buy:²",
    "vol:ok:123456789012345678901234",
    "disp:1:1:" + "G" * 60,
    "my:NaN",
    "case",
    "",
]


@pytest.mark.parametrize("data", FORGED)
async def test_forged_button_data_is_an_expired_button(district: Script, data: str) -> None:
    who = PEOPLE[1]
    await district.press(who, "x", data=data)
    answers = district.session.by_method("answerCallbackQuery")
    assert len(answers) == 1 and answers[0].params.get("show_alert")
    async with district.app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(FailedUpdateRow))).scalar_one() == 0
