"""Intake throughput: N complete reports (text → location → 提交) through the real dispatcher, vs a bare echo bot.

Prints updates/s of both, measured in the same run, and a last line `ratio <intake/echo>`.
Usage: python bench/intake.py [N] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Message, Update

from bot.app import OFFLINE_TOKEN, create_app
from bot.config import Settings
from bot.demo import DISTRICT, places
from bot.demo_cast import ADMIN, GRID_GROUP
from bot.grids import import_units
from bot.recording import RecordingSession
from bot.scripted import Script
from storage.migrate import upgrade

TEXTS = ["3号楼楼道有电动车在充电", "东风路口井盖没了 快来", "小区门口垃圾堆成山了", "人行道上停满了车 过不去"]


def updates(n: int, first_user: int = 600000) -> list[dict[str, Any]]:
    """3·n update dicts: each rider sends a text, a location, then presses 提交."""
    spot = places()["rider_spot"]
    out: list[dict[str, Any]] = []
    uid = 1
    for i in range(n):
        user = {"id": first_user + i, "is_bot": False, "first_name": f"骑手{i}"}
        chat = {"id": first_user + i, "type": "private", "first_name": f"骑手{i}"}
        base = {"date": 0, "chat": chat, "from": user}
        out.append({"update_id": uid, "message": {**base, "message_id": 1, "text": TEXTS[i % len(TEXTS)]}})
        loc = {"latitude": spot["lat"] + (i % 7) * 1e-5, "longitude": spot["lon"]}
        out.append({"update_id": uid + 1, "message": {**base, "message_id": 2, "location": loc}})
        out.append(
            {
                "update_id": uid + 2,
                "callback_query": {
                    "id": str(uid + 2),
                    "from": user,
                    "chat_instance": "b",
                    "data": "d:submit:",
                    "message": {"message_id": 3, "date": 0, "chat": chat, "text": "…"},
                },
            }
        )
        uid += 3
    return out


async def feed_all(dp: Dispatcher, bot: Bot, raw: list[dict[str, Any]]) -> float:
    """Seconds to feed every update (parsing included, as in polling)."""
    start = time.perf_counter()
    for u in raw:
        await dp.feed_update(bot, Update.model_validate(u, context={"bot": bot}))
    return time.perf_counter() - start


async def echo_rate(n_updates: int) -> float:
    """Updates/s of a bare aiogram echo bot on the same no-network session."""
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "ok")

    bot = Bot(OFFLINE_TOKEN, session=RecordingSession())
    raw = [
        {
            "update_id": i,
            "message": {
                "message_id": i,
                "date": 0,
                "text": f"hello {i}",
                "chat": {"id": 1 + i % 50, "type": "private"},
                "from": {"id": 1 + i % 50, "is_bot": False, "first_name": "x"},
            },
        }
        for i in range(1, n_updates + 1)
    ]
    await feed_all(dp, bot, raw[:50])  # warm-up
    elapsed = await feed_all(dp, bot, raw)
    return n_updates / elapsed


async def intake_rate(n: int, db_url: str | None) -> tuple[float, int]:
    """Updates/s of the full intake; returns (rate, cases created)."""
    with tempfile.TemporaryDirectory() as tmp:
        url = db_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        app = create_app(Settings(database_url=url, admin_ids=[ADMIN.id]), bot_session=RecordingSession())
        try:
            await upgrade(app.engine)
            async with app.sessions.begin() as s:
                await import_units(s, json.loads(DISTRICT.read_text(encoding="utf-8")))
            script = Script(app, app.bot.session)  # type: ignore[arg-type]
            await script.say(ADMIN, "/bind QH-01-02", group=GRID_GROUP)
            await app.classifier.classify("预热")  # train/load the model outside the timed part
            warm = updates(20, first_user=700000)
            for u in warm:
                u["update_id"] += 10_000_000
            await feed_all(app.dp, app.bot, warm)
            raw = updates(n)
            elapsed = await feed_all(app.dp, app.bot, raw)
            from sqlalchemy import text

            async with app.sessions() as s:
                cases = int((await s.execute(text("select count(*) from cases"))).scalar_one())
            return len(raw) / elapsed, cases - 20
        finally:
            await app.close()


async def main() -> None:
    """Measure both, print side by side."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", nargs="?", type=int, default=300, help="number of complete reports")
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    intake, cases = await intake_rate(args.n, args.db)
    echo = await echo_rate(3 * args.n)
    print(f"reports: {args.n} ({3 * args.n} updates), cases created: {cases}")
    print(f"intake  {intake:10.1f} updates/s  (classify, route, persist, outbox; {1000 / intake:.2f} ms/update)")
    print(f"echo    {echo:10.1f} updates/s  (bare aiogram handler, same session; {1000 / echo:.2f} ms/update)")
    print(f"ratio {intake / echo:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
