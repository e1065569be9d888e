"""`gridbot run` as a real process, long polling a local fake Bot API: 429, 500, SIGKILL mid-delivery, restart."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from bot.demo import DISTRICT, places
from bot.nlu import BuiltinClassifier
from tests.fakes.bot_api import FakeBotAPI, callback_update, message_update

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


def env(tmp: Path, api: str) -> dict[str, str]:
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
    return base


async def start(tmp: Path, api: str, *args: str) -> asyncio.subprocess.Process:
    """Start `gridbot run` with its log in tmp/run.log."""
    log = (tmp / "run.log").open("ab")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", *args, env=env(tmp, api), cwd=str(tmp), stdout=log, stderr=log
    )


async def cli(tmp: Path, api: str, *args: str) -> None:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", *args, env=env(tmp, api), cwd=str(tmp))
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
            if p.returncode is None:
                p.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(p.wait(), 20)
                except TimeoutError:
                    p.kill()
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
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
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
            if p is not None and p.returncode is None:
                p.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(p.wait(), 20)
                except TimeoutError:
                    p.kill()
        await fake.stop()
