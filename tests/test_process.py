"""`gridbot run` as a real process, long polling a local fake Bot API: 429, 500, SIGKILL mid-delivery, restart."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from bot.demo import DISTRICT, places
from bot.nlu import BuiltinClassifier
from storage.db import create_engine
from storage.orm import Base
from tests.conftest import PG_URL
from tests.fakes.bot_api import FakeBotAPI, callback_update, message_update
from tests.helpers import stop_process

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:PROCESS-TEST-token-abcdefghijkl"
ADMIN = 4242
GRID_CHAT = -1009001
RIDERS = [5001 + i for i in range(12)]


@pytest.fixture(autouse=True)
def _trained_model(tmp_path: Path, nlu_cache: Path, classifier: BuiltinClassifier) -> None:
    # The processes read the session's trained model: with an empty cache they would train it first (over a
    # minute), inside the waits below.
    (tmp_path / "cache").symlink_to(nlu_cache, target_is_directory=True)


def env(tmp: Path, api: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The process environment: only GRIDBOT_ settings of this test."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GRIDBOT_")}
    base.update(
        {
            "GRIDBOT_BOT_TOKEN": TOKEN,
            "GRIDBOT_TELEGRAM_API_URL": api,
            "GRIDBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'run.db'}",
            "GRIDBOT_ADMIN_IDS": str(ADMIN),
            "GRIDBOT_CACHE_DIR": str(tmp / "cache"),
            # One message in flight at a time, so one kill can double at most one message (in production the
            # bound is one per chat per crash, chats being served concurrently).
            "GRIDBOT_SENDER_CONCURRENCY": "1",
            # A dead sender's messages are taken over once its lease runs out; short, so the test is quick.
            "GRIDBOT_OUTBOX_LEASE_S": "2",
        }
    )
    base.update(extra or {})
    return base


async def start(tmp: Path, api: str, *args: str, extra: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    """Start `gridbot run` with its log in tmp/run.log."""
    log = (tmp / "run.log").open("ab")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", *args, env=env(tmp, api, extra), cwd=str(tmp), stdout=log, stderr=log
    )


async def cli(tmp: Path, api: str, *args: str, extra: dict[str, str] | None = None) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env(tmp, api, extra), cwd=str(tmp)
    )
    assert await proc.wait() == 0


async def wait_until(predicate: object, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def arrivals(fake: FakeBotAPI) -> Counter[tuple[int, str]]:
    """(chat, text) of every send the fake accepted (a call in flight when the sender died counts too)."""
    out: Counter[tuple[int, str]] = Counter()
    for c in fake.calls():
        if c["method"].lower() in ("sendmessage", "sendphoto") and c["status"] == 200:
            p = c["params"]
            out[(int(p["chat_id"]), str(p.get("text") or p.get("caption") or "")[:40])] += 1
    return out


async def test_run_survives_429_500_and_sigkill(tmp_path: Path) -> None:
    fake = FakeBotAPI()
    api = await fake.start()
    procs: list[asyncio.subprocess.Process] = []
    try:
        await cli(tmp_path, api, "db", "upgrade")
        await cli(tmp_path, api, "grids", "import", str(DISTRICT))
        fake.add_faults(
            [
                {"method": "sendMessage", "status": 429, "retry_after": 1},
                {"method": "sendMessage", "status": 500},
                {"method": "sendMessage", "delay": 60},
            ]
        )
        fake.add_updates([message_update(GRID_CHAT, "/bind QH-01-02", user_id=ADMIN)])
        fake.add_updates([message_update(r, "/help") for r in RIDERS])
        spot = places()["rider_spot"]
        rider = RIDERS[0]
        fake.add_updates(
            [
                message_update(rider, "3号楼楼道有人给电动车充电"),
                message_update(rider, "", location={"latitude": spot["lat"], "longitude": spot["lon"]}),
                callback_update(rider, "d:submit:"),
            ]
        )
        procs.append(await start(tmp_path, api))
        # Kill the process while the delayed send is in flight (the third sendMessage call).
        await wait_until(lambda: len(fake.calls("sendMessage")) >= 3, 60, "a send in flight")
        procs[0].send_signal(signal.SIGKILL)
        await procs[0].wait()
        procs.append(await start(tmp_path, api))
        expected_private = set(RIDERS)

        def all_arrived() -> bool:
            got = arrivals(fake)
            chats = {chat for chat, _ in got}
            return (
                expected_private <= chats
                and GRID_CHAT in chats
                and sum(1 for chat, text in got if chat == GRID_CHAT and "案件" in text) >= 1
                and sum(1 for chat, text in got if chat == rider and "已受理" in text) >= 1
            )

        await wait_until(all_arrived, 90, "every expected message")
        log_file = tmp_path / "run.log"
        await wait_until(
            lambda: "re-sending 1 message" in log_file.read_text(encoding="utf-8", errors="replace"),
            30,
            "the dead sender's in-flight message to be taken over",
        )
        await asyncio.sleep(1.0)
        got = arrivals(fake)
        helps = [n for (chat, text), n in got.items() if chat in expected_private and text.startswith("①")]
        assert len(helps) == len(RIDERS)
        duplicates = sum(n - 1 for n in got.values())
        assert duplicates <= 1, got  # one kill → at most one message doubled
        statuses = Counter(c["status"] for c in fake.calls("sendMessage"))
        assert statuses[429] == 1 and statuses[500] == 1
    finally:
        for p in procs:
            await stop_process(p)
        await fake.stop()
    log = (tmp_path / "run.log").read_text(encoding="utf-8", errors="replace")
    assert "re-sending 1 message" in log, log[-3000:]


async def test_webhook_checks_secret_token(tmp_path: Path) -> None:
    fake = FakeBotAPI()
    api = await fake.start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = await start(tmp_path, api, "--webhook", f"http://127.0.0.1:{port}", "--port", str(port))
    try:
        await wait_until(lambda: bool(fake.calls("setWebhook")), 60, "setWebhook")
        secret = fake.calls("setWebhook")[0]["params"]["secret_token"]
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        update = {"update_id": 1, **message_update(777, "/help")}
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update) as r:
                assert r.status == 401
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as r:
                assert r.status == 401
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as r:
                assert r.status == 200
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as r:
                assert r.status == 200  # redelivery: accepted, processed once
        await wait_until(lambda: bool(fake.calls("sendMessage")), 30, "the reply")
        await asyncio.sleep(1.0)
        assert len([c for c in fake.calls("sendMessage") if c["params"]["chat_id"] == 777]) == 1
    finally:
        await stop_process(proc)
        await fake.stop()


async def test_webhook_200_means_committed_so_a_kill_loses_nothing(tmp_path: Path) -> None:
    fake = FakeBotAPI()
    api = await fake.start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await cli(tmp_path, api, "db", "upgrade")
    proc = await start(tmp_path, api, "--webhook", f"http://127.0.0.1:{port}", "--port", str(port))
    second: asyncio.subprocess.Process | None = None
    chats = [6001 + i for i in range(20)]
    try:
        await wait_until(lambda: bool(fake.calls("setWebhook")), 60, "setWebhook")
        secret = fake.calls("setWebhook")[0]["params"]["secret_token"]
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        # The sender must not deliver before the kill, so every reply below comes from the committed outbox.
        fake.add_faults([{"method": "sendMessage", "delay": 60}])
        async with aiohttp.ClientSession() as http:

            async def post(i: int, chat: int) -> int:
                body = {"update_id": 100 + i, **message_update(chat, "/help")}
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
                async with http.post(url, json=body, headers=headers) as r:
                    return r.status

            statuses = await asyncio.gather(*(post(i, c) for i, c in enumerate(chats)))
        assert statuses == [200] * len(chats)
        proc.send_signal(signal.SIGKILL)  # right after the 200s
        await proc.wait()
        second = await start(tmp_path, api)

        def replied() -> set[int]:
            return {int(c["params"]["chat_id"]) for c in fake.calls("sendMessage") if c["status"] == 200}

        await wait_until(lambda: set(chats) <= replied(), 90, "a reply to every acknowledged update")
    finally:
        for p in (proc, second):
            if p is not None:
                await stop_process(p)
        await fake.stop()


@pytest.mark.skipif(not PG_URL, reason="two processes share one PostgreSQL")
async def test_two_webhook_processes_on_postgres_share_the_work_and_survive_a_kill(
    tmp_path: Path, pg_ready: None
) -> None:
    """Two `gridbot run --webhook` processes behind one "load balancer" on one PostgreSQL: every update handled
    once and in order per chat, whichever process gets it; one of them leads; killing one mid-way loses nothing
    and the other takes over the scheduled work."""
    engine = create_engine(str(PG_URL))
    async with engine.begin() as conn:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()
    fake = FakeBotAPI()
    api = await fake.start()
    extra = {"GRIDBOT_DATABASE_URL": str(PG_URL)}
    await cli(tmp_path, api, "grids", "import", str(DISTRICT), extra=extra)
    ports, procs, homes = [], [], []
    for name in ("a", "b"):
        home = tmp_path / name
        home.mkdir()
        (home / "cache").symlink_to((tmp_path / "cache").resolve(), target_is_directory=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
        procs.append(
            await start(home, api, "--webhook", f"http://127.0.0.1:{ports[-1]}", "--port", str(ports[-1]), extra=extra)
        )
        homes.append(home)
    spot = places()["rider_spot"]
    riders = [7001 + i for i in range(16)]
    try:
        await wait_until(lambda: len(fake.calls("setWebhook")) >= 2, 60, "both processes listening")
        secret = fake.calls("setWebhook")[0]["params"]["secret_token"]
        alive = [True, True]
        uid = itertools.count(5000)

        async with aiohttp.ClientSession() as http:

            async def deliver(body: dict[str, Any], prefer: int) -> None:
                # Telegram's side: retry (on the other process too) until one answers 200.
                for attempt in range(200):
                    i = (prefer + attempt) % 2
                    if not alive[i]:
                        continue
                    url = f"http://127.0.0.1:{ports[i]}/telegram/webhook"
                    try:
                        async with http.post(url, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as r:
                            if r.status == 200:
                                return
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.2)
                raise AssertionError(f"update {body['update_id']} never accepted")

            async def rider(k: int, chat: int) -> None:
                steps = [
                    message_update(chat, "3号楼楼道有人给电动车充电"),
                    message_update(chat, "", location={"latitude": spot["lat"], "longitude": spot["lon"]}),
                    callback_update(chat, "d:submit:"),
                ]
                for n, step in enumerate(steps):
                    await deliver({"update_id": next(uid), **step}, prefer=(k + n) % 2)

            async def kill_first_midway() -> None:
                await wait_until(lambda: len(fake.calls("sendMessage")) >= 12, 60, "work under way")
                leading = [leads(h) for h in homes]
                await wait_until(lambda: any(leads(h) for h in homes), 30, "a leader")
                assert sum(leads(h) for h in homes) == 1, leading  # one at a time
                alive[0] = False
                procs[0].send_signal(signal.SIGKILL)
                await procs[0].wait()

            await asyncio.gather(kill_first_midway(), *(rider(k, c) for k, c in enumerate(riders)))

        def texts(chat: int) -> list[str]:
            out: list[str] = []
            for c in fake.calls("sendMessage"):
                if c["status"] == 200 and int(c["params"]["chat_id"]) == chat:
                    t = str(c["params"].get("text", ""))
                    if not out or out[-1] != t:  # a message doubled by the kill counts once
                        out.append(t)
            return out

        await wait_until(lambda: all(len(texts(c)) >= 3 for c in riders), 90, "every rider's three replies")
        for c in riders:
            got = texts(c)
            assert "还差位置" in got[0] and "信息已齐全" in got[1], got
            assert "已受理" in got[2] or "附近已有相同问题" in got[2], got
        await wait_until(lambda: leads(homes[1]), 60, "the surviving process to lead")
    finally:
        for p in procs:
            await stop_process(p)
        await fake.stop()


def leads(home: Path) -> bool:
    """Whether the process logging in `home` has become the leader."""
    log = home / "run.log"
    return log.exists() and "runs the scheduled work" in log.read_text(encoding="utf-8", errors="replace")
