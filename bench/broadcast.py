"""Broadcast to N groups against Telegram's flood limits: the real outbox sender and the fake Bot API with limits on.

    python bench/broadcast.py [N] [--db URL] [--case-after S]

A street with N grids (a generated 10-wide block of squares), each grid bound to its own group, and the street's
own group. The street admin says `/notice …` and taps 确认发送; the app's sender (its pacing: ~30 messages a
second overall, 20 a minute per group) delivers the N+1 messages to the fake Bot API server, which refuses like
Telegram beyond 30 messages in any second or 20 in any minute to one group (429 with retry_after).
`--case-after` seconds into the broadcast, a rider reports a hazard in the last grid (the group the broadcast
reaches last): the rider's acknowledgement and the grid group's case card are ordinary messages, and how long
each waited is printed. Afterwards `bot.jobs.report_broadcasts` must produce the delivery report.

Prints wall time, messages, 429 refusals, the waits, whether the report came, and a last line
`ratio <wall time / physical minimum>`, the minimum being messages / 30 per second (3.37 s for 101).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.types import Update  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from bench.sweeper import scratch_database, square_district  # noqa: E402
from bot.app import App, create_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.demo_cast import ADMIN, RIDER  # noqa: E402
from bot.grids import import_units  # noqa: E402
from bot.jobs import report_broadcasts  # noqa: E402
from bot.recording import RecordingSession  # noqa: E402
from bot.scripted import Group, Script  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.orm import OutboxRow  # noqa: E402
from tests.fakes.bot_api import FakeBotAPI  # noqa: E402

TELEGRAM_PER_SECOND = 30
STREET = "BX"
COMMUNITY = "BX-01"
STREET_GROUP = Group(-1002000000001, "北新街道指挥中心")
NOTICE = "今晚至明天有大风降温，请各网格提醒居民收好阳台杂物、检查电动车充电安全。"
LON0, LAT0, SIDE = 117.10, 36.60, 0.002  # clear of the demo district; squares of ~180 m × 220 m


def grid_code(i: int) -> str:
    """The code of grid i (0-based)."""
    return f"{COMMUNITY}-{i + 1:03d}"


def grid_group(i: int) -> Group:
    """The working group of grid i."""
    return Group(-1002000100000 - i, f"北新第{i + 1}网格")


def grid_centre(i: int) -> tuple[float, float]:
    """(lat, lon) in the middle of grid i."""
    row, col = divmod(i, 10)
    return LAT0 + (row + 0.5) * SIDE, LON0 + (col + 0.5) * SIDE


async def prepare(url: str, n: int) -> tuple[str, Any]:
    """Import and bind the district, have the admin ask for the notice; returns (confirm callback data, classifier).

    Done on a recording session, so only the broadcast itself meets the flood limits.
    """
    app = create_app(
        Settings(database_url=url, admin_ids=[ADMIN.id], messages_per_second=1000), bot_session=RecordingSession()
    )
    try:
        await upgrade(app.engine)
        async with app.sessions.begin() as s:
            await import_units(s, square_district(n, STREET, COMMUNITY, LON0, LAT0, SIDE))
        script = Script(app, app.bot.session)  # type: ignore[arg-type]
        await script.say(ADMIN, f"/bind {STREET}", group=STREET_GROUP)
        for i in range(n):
            await script.say(ADMIN, f"/bind {grid_code(i)}", group=grid_group(i))
        await script.say(ADMIN, f"/notice {NOTICE}", group=STREET_GROUP)
        _, data = script.button(STREET_GROUP.id, "确认发送")
        await app.classifier.classify("预热")  # load the model outside the timed part
        return data, app.classifier
    finally:
        await app.close()


def tap(update_id: int, chat: dict[str, Any], who: dict[str, Any], data: str) -> dict[str, Any]:
    """A callback-query update."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cbq-{update_id}",
            "from": who,
            "chat_instance": str(chat["id"]),
            "data": data,
            "message": {"message_id": 1, "date": 0, "chat": chat, "text": "…"},
        },
    }


async def feed(app: App, raw: dict[str, Any]) -> None:
    """One update through the real dispatcher (committed when this returns)."""
    await app.feeder.feed(Update.model_validate(raw, context={"bot": app.bot}))


async def report_case(app: App, lat: float, lon: float) -> list[float]:
    """A rider's complete report in quick succession: text, location, 提交; returns when each was committed."""
    user = {"id": RIDER.id, "is_bot": False, "first_name": RIDER.first_name, "language_code": "zh-hans"}
    chat = {"id": RIDER.id, "type": "private", "first_name": RIDER.first_name}
    base = {"date": int(time.time()), "chat": chat, "from": user}
    location = {"latitude": lat, "longitude": lon}
    committed = []
    for raw in (
        {"update_id": 9001, "message": {**base, "message_id": 11, "text": "路口井盖没了 很危险"}},
        {"update_id": 9002, "message": {**base, "message_id": 12, "location": location}},
        tap(9003, chat, user, "d:submit:"),
    ):
        await feed(app, raw)
        committed.append(time.time())
    return committed


def delivered(fake: FakeBotAPI, chat_id: int | None = None, since: float = 0.0) -> list[dict[str, Any]]:
    """Messages the fake accepted (sendMessage / sendPhoto answered 200), optionally to one chat, from a time."""
    return [
        c
        for c in fake.calls()
        if c["method"] in ("sendMessage", "sendPhoto")
        and c["status"] == 200
        and c["t"] >= since
        and (chat_id is None or c["params"].get("chat_id") == chat_id)
    ]


def is_broadcast(call: dict[str, Any]) -> bool:
    """A message carrying the notice."""
    return NOTICE in str(call["params"].get("text") or call["params"].get("caption") or "")


async def wait_until(predicate: Any, timeout: float) -> bool:
    """Poll until true or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return bool(predicate())


async def run(n: int, db_url: str | None, case_after: float, bulk_priority: bool = False) -> dict[str, Any]:
    """Prepare, then time the broadcast through the sender against the limited fake; returns the figures."""
    async with scratch_database(db_url) as url:
        confirm, classifier = await prepare(url, n)
        fake = FakeBotAPI(limits=True)
        base = await fake.start()
        session = AiohttpSession(api=TelegramAPIServer.from_base(base))
        app = create_app(Settings(database_url=url, admin_ids=[ADMIN.id]), bot_session=session, classifier=classifier)
        stop = asyncio.Event()
        sender = asyncio.create_task(app.sender.run(stop))
        try:
            await app.bot.me()  # the middleware asks once; not part of the broadcast
            admin = ADMIN.tg() | {"language_code": "zh-hans"}
            started = time.time()
            await feed(app, tap(9000, STREET_GROUP.tg(), admin, confirm))
            async with app.sessions() as s:
                tagged = select(func.count()).where(OutboxRow.tag.like("broadcast:%"))
                audience = int((await s.execute(tagged)).scalar_one())
                bulk = int((await s.execute(tagged.where(OutboxRow.priority > 0))).scalar_one())
            if bulk_priority:
                # What handlers/views/notices.BULK means to do, done after the fact (the first batch may be gone).
                async with app.sessions.begin() as s:
                    await s.execute(
                        update(OutboxRow)
                        .where(OutboxRow.tag.like("broadcast:%"), OutboxRow.state == "pending")
                        .values(priority=1)
                    )

            # A rider's report, once the broadcast is under way, in the grid the broadcast reaches last.
            await wait_until(lambda: time.time() - started >= case_after, case_after + 5)
            lat, lon = grid_centre(n - 1)
            case_started = time.time()
            committed = await report_case(app, lat, lon)
            case_queued = committed[-1]

            done = await wait_until(lambda: sum(map(is_broadcast, delivered(fake))) >= audience, 60 + 4 * n)
            finished = max((c["t"] for c in delivered(fake) if is_broadcast(c)), default=time.time())
            grid_chat = grid_group(n - 1).id
            await wait_until(lambda: any(not is_broadcast(c) for c in delivered(fake, grid_chat)), 90)
            # One reply per update, in order (a chat's messages go out in order).
            await wait_until(lambda: len(delivered(fake, RIDER.id, case_started)) >= len(committed), 90)
            replies = delivered(fake, RIDER.id, case_started)
            card = [c for c in delivered(fake, grid_chat) if not is_broadcast(c)]
            broadcast_to_grid = [c["t"] for c in delivered(fake, grid_chat) if is_broadcast(c)]

            reports = await report_broadcasts(app)
            app.sender.wake()
            reported = await wait_until(
                lambda: any("通知送达" in str(c["params"].get("text")) for c in delivered(fake, STREET_GROUP.id)), 30
            )
            return {
                "n": n,
                "audience": audience,
                "bulk": bulk,
                "retried": await retried(app),
                "done": done,
                "wall": finished - started,
                "sent": len(delivered(fake)),
                "refusals": fake.limit_refusals,
                "refusals_by": fake.limit_refusals_by,
                "reply_waits": [c["t"] - q for c, q in zip(replies, committed, strict=False)],
                "card_wait": card[0]["t"] - case_queued if card else None,
                "card_after_broadcast": (card[0]["t"] - broadcast_to_grid[0]) if card and broadcast_to_grid else None,
                "case_at": case_queued - started,
                "reports": reports,
                "reported": reported,
                "timeline": [
                    (c["t"] - started, c["method"], c["params"].get("chat_id"), c["status"], is_broadcast(c))
                    for c in fake.calls()
                    if c["t"] >= started
                ],
            }
        finally:
            stop.set()
            await sender
            await app.close()
            await fake.stop()


async def retried(app: App) -> int:
    """Broadcast messages that needed more than one attempt."""
    async with app.sessions() as s:
        query = select(func.count()).where(OutboxRow.tag.like("broadcast:%"), OutboxRow.attempts > 1)
        return int((await s.execute(query)).scalar_one())


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f} s"


async def main() -> None:
    """Run once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", nargs="?", type=int, default=100, help="grids, each with its own group (default 100)")
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--case-after", type=float, default=1.0, help="seconds into the broadcast the rider reports")
    parser.add_argument(
        "--bulk-priority",
        action="store_true",
        help="mark the broadcast's rows as bulk (priority 1) right after the tap, as notices.BULK intends",
    )
    parser.add_argument("--timeline", action="store_true", help="also list every call the fake received")
    args = parser.parse_args()
    r = await run(args.n, args.db, args.case_after, args.bulk_priority)
    if args.timeline:
        for at, method, chat, status, bulk in r["timeline"]:
            print(f"{at:7.3f} {method:20} {chat!s:>15} {status} {'broadcast' if bulk else ''}")
    minimum = r["audience"] / TELEGRAM_PER_SECOND
    by = r["refusals_by"]
    print(f"groups: {r['n']} grids + the street = {r['audience']} broadcast messages; delivered all: {r['done']}")
    print(f"broadcast wall time {r['wall']:6.2f} s (tap → last message accepted); physical minimum {minimum:.2f} s")
    print(f"messages accepted   {r['sent']:6d} (broadcast, the rider's replies, the case card, the report)")
    print(
        f"429 refusals        {r['refusals']:6d} (overall 30/s: {by['overall']}, group 20/min: {by['group']});"
        f" broadcast messages sent more than once: {r['retried']}"
    )
    print(f"broadcast rows queued as bulk (priority > 0): {r['bulk']} of {r['audience']}")
    waits = ", ".join(_seconds(w) for w in r["reply_waits"]) or "never"
    print(
        f"case reported {r['case_at']:.2f} s in; the rider's replies (to the text, the location, 提交) waited"
        f" {waits}; the grid group's case card waited {_seconds(r['card_wait'])}"
        f" ({_seconds(r['card_after_broadcast'])} after the broadcast reached that group)"
    )
    print(f"delivery report: report_broadcasts() → {r['reports']}; reached the street group: {r['reported']}")
    print(f"ratio {r['wall'] / minimum:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
