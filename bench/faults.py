"""Faults against the real process: updates lost during a 25 s database outage, and after a webhook kill.

    python bench/faults.py [--outage-s 25]

Runs `gridbot run` as a real process against the project's fake Bot API and prints, for each scenario,
how many updates were sent and how many were never answered (the figure must be 0):
  - SQLite: another process holds BEGIN EXCLUSIVE on the database file for the outage;
  - PostgreSQL: the bot's own database refuses connections (ALLOW_CONNECTIONS false) and its connections are
    terminated, for the outage;
  - webhook: 20 updates answered 200, then kill -9 at once, then a restart.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.bot_api import FakeBotAPI, message_update  # noqa: E402
from tests.helpers import stop_process  # noqa: E402

TOKEN = "123456789:BENCH-faults-token-abcdefghijklmn"
PG = os.environ.get("GRIDBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def env(db_url: str, api: str, tmp: Path) -> dict[str, str]:
    """A clean GRIDBOT_ environment for the process."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GRIDBOT_")}
    base.update(
        GRIDBOT_BOT_TOKEN=TOKEN,
        GRIDBOT_TELEGRAM_API_URL=api,
        GRIDBOT_DATABASE_URL=db_url,
        GRIDBOT_CACHE_DIR=str(tmp / "cache"),
        GRIDBOT_OUTBOX_LEASE_S="3",
    )
    return base


async def start(db_url: str, api: str, tmp: Path, *args: str) -> asyncio.subprocess.Process:
    """`gridbot run` with its log appended to tmp/run.log."""
    log = (tmp / "run.log").open("ab")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", *args, env=env(db_url, api, tmp), cwd=str(tmp), stdout=log, stderr=log
    )


def answered(fake: FakeBotAPI) -> set[int]:
    """Chats that got a reply."""
    return {int(c["params"]["chat_id"]) for c in fake.calls("sendMessage") if c["status"] == 200}


async def wait_for(predicate: object, timeout: float) -> bool:
    """Poll until true or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.2)
    return False


async def sqlite_outage(outage: float) -> tuple[int, int]:
    """Updates sent, updates never answered."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        db = tmp / "bench.db"
        fake = FakeBotAPI()
        api = await fake.start()
        proc = await start(f"sqlite+aiosqlite:///{db}", api, tmp)
        try:
            await wait_for(lambda: bool(fake.calls("getUpdates")), 60)
            started = threading.Event()

            def hold() -> None:
                conn = sqlite3.connect(db, isolation_level=None, timeout=30)
                conn.execute("BEGIN EXCLUSIVE")
                started.set()
                time.sleep(outage)
                conn.execute("COMMIT")
                conn.close()

            locker = threading.Thread(target=hold)
            locker.start()
            started.wait()
            chats = [7100 + i for i in range(5)]
            fake.add_updates([message_update(c, "/help") for c in chats])
            await asyncio.to_thread(locker.join)
            await wait_for(lambda: set(chats) <= answered(fake), 120)
            return len(chats), len(set(chats) - answered(fake))
        finally:
            await stop_process(proc)
            await fake.stop()


async def pg_outage(outage: float) -> tuple[int, int]:
    """Updates sent, updates never answered (the bot's own database is made unavailable)."""
    from sqlalchemy import text

    from storage.db import create_engine

    name = f"gridbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG)

    async def sql(statement: str) -> None:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))

    await sql(f'CREATE DATABASE "{name}"')
    url = PG.rsplit("/", 1)[0] + "/" + name
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        fake = FakeBotAPI()
        api = await fake.start()
        proc = await start(url, api, tmp)
        try:
            await wait_for(lambda: bool(fake.calls("getUpdates")), 60)
            fake.add_updates([message_update(7000, "/help")])
            await wait_for(lambda: 7000 in answered(fake), 30)
            await sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
            chats = [7200 + i for i in range(5)]
            fake.add_updates([message_update(c, "/help") for c in chats])
            await asyncio.sleep(outage)
            await sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            await wait_for(lambda: set(chats) <= answered(fake), 120)
            return len(chats), len(set(chats) - answered(fake))
        finally:
            await stop_process(proc)
            await fake.stop()
            await sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
            await sql(f'DROP DATABASE IF EXISTS "{name}"')
            await admin.dispose()


async def webhook_kill() -> tuple[int, int]:
    """Updates acknowledged with 200 before kill -9, and how many of them were never answered."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        db = f"sqlite+aiosqlite:///{tmp / 'hook.db'}"
        fake = FakeBotAPI()
        api = await fake.start()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        proc = await start(db, api, tmp, "--webhook", f"http://127.0.0.1:{port}", "--port", str(port))
        second = None
        try:
            await wait_for(lambda: bool(fake.calls("setWebhook")), 60)
            secret = fake.calls("setWebhook")[0]["params"]["secret_token"]
            fake.add_faults([{"method": "sendMessage", "delay": 60}])
            chats = [7300 + i for i in range(20)]
            async with aiohttp.ClientSession() as http:

                async def post(i: int, chat: int) -> int:
                    body = {"update_id": 500 + i, **message_update(chat, "/help")}
                    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
                    async with http.post(f"http://127.0.0.1:{port}/telegram/webhook", json=body, headers=headers) as r:
                        return r.status

                statuses = await asyncio.gather(*(post(i, c) for i, c in enumerate(chats)))
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            acked = [c for c, s in zip(chats, statuses, strict=True) if s == 200]
            second = await start(db, api, tmp)
            await wait_for(lambda: set(acked) <= answered(fake), 120)
            return len(acked), len(set(acked) - answered(fake))
        finally:
            for p in (proc, second):
                if p is not None:
                    await stop_process(p)
            await fake.stop()


async def main() -> None:
    """Run the scenarios and print one line each."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--outage-s", type=float, default=25.0)
    args = parser.parse_args()
    sent, lost = await sqlite_outage(args.outage_s)
    print(f"SQLite write lock held {args.outage_s:g} s: {sent} updates sent, {lost} lost")
    sent, lost = await pg_outage(args.outage_s)
    print(f"PostgreSQL refusing and cutting connections {args.outage_s:g} s: {sent} updates sent, {lost} lost")
    acked, lost = await webhook_kill()
    print(f"webhook kill -9 right after 200: {acked} updates acknowledged, {lost} lost")


if __name__ == "__main__":
    asyncio.run(main())
