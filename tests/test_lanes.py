"""Updates of many chats at once, each chat's and each person's in order; the confirmed offset is a handled prefix."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from aiogram.types import Update
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.intake import Lanes
from bot.lanes import lane_keys
from bot.scripted import Person, Script
from storage.leader import Leadership
from storage.orm import CaseRow

ids = itertools.count(1)


def text_update(chat: int, user: int, text: str) -> Update:
    kind = "private" if chat == user else "supergroup"
    message = {
        "message_id": next(ids),
        "date": 0,
        "chat": {"id": chat, "type": kind},
        "from": {"id": user, "is_bot": False, "first_name": "x"},
        "text": text,
    }
    return Update.model_validate({"update_id": next(ids), "message": message})


class SlowFeeder:
    """Records when each update starts and ends; some texts take long."""

    def __init__(self, slow: dict[str, float]) -> None:
        self.slow = slow
        self.log: list[tuple[str, int]] = []

    async def feed(self, update: Update, give_up_after_s: float | None = None) -> bool:
        assert update.message is not None and update.message.text is not None
        self.log.append(("start", update.update_id))
        await asyncio.sleep(self.slow.get(update.message.text, 0.001))
        self.log.append(("end", update.update_id))
        return True


def test_lane_keys_are_the_chat_and_the_person() -> None:
    assert lane_keys(text_update(-100, 5, "x")) == ("c-100", "u5")
    assert lane_keys(text_update(5, 5, "x")) == ("c5",)
    assert lane_keys(Update.model_validate({"update_id": 1})) == ()


async def test_a_slow_chat_holds_up_only_itself_and_the_offset_waits_for_it() -> None:
    feeder = SlowFeeder({"slow": 0.3})
    lanes = Lanes(feeder, limit=8)  # type: ignore[arg-type]
    a1, a2 = text_update(1, 1, "slow"), text_update(1, 1, "next")
    b1, b2 = text_update(2, 2, "b1"), text_update(2, 2, "b2")
    for u in (a1, b1, a2, b2):
        await lanes.submit(u)
    await asyncio.sleep(0.1)
    # Chat 2 is done while chat 1's first update still runs; chat 1's second has not started.
    assert ("end", b2.update_id) in feeder.log
    assert ("start", a2.update_id) not in feeder.log
    assert lanes.confirmed is None  # nothing before the slow update may be confirmed: it is the first
    assert lanes.known(b2.update_id) and lanes.known(a1.update_id)
    await lanes.drain()
    assert feeder.log.index(("end", a1.update_id)) < feeder.log.index(("start", a2.update_id))
    assert lanes.confirmed == b2.update_id + 1
    assert lanes.known(a2.update_id)


async def test_a_person_stays_in_order_across_a_group_and_private() -> None:
    feeder = SlowFeeder({"press in group": 0.2})
    lanes = Lanes(feeder, limit=8)  # type: ignore[arg-type]
    group = text_update(-100, 7, "press in group")
    private = text_update(7, 7, "then in private")
    other = text_update(-100, 8, "neighbour in the same group")
    for u in (group, private, other):
        await lanes.submit(u)
    await lanes.drain()
    order = [uid for what, uid in feeder.log if what == "start"]
    assert order.index(group.update_id) < order.index(private.update_id)
    assert order.index(group.update_id) < order.index(other.update_id)


async def test_at_most_limit_updates_run_at_once() -> None:
    running = 0
    peak = 0

    class Counting:
        async def feed(self, update: Update, give_up_after_s: float | None = None) -> bool:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1
            return True

    lanes = Lanes(Counting(), limit=4)  # type: ignore[arg-type]
    for chat in range(20):
        await lanes.submit(text_update(1000 + chat, 1000 + chat, "x"))
    await lanes.drain()
    assert peak == 4


async def test_a_chat_whose_update_gave_up_waits_for_its_redelivery() -> None:
    """Webhook: the database stayed away for one update (503); the chat's later updates must not overtake it."""
    away = {"first"}
    handled: list[str] = []

    class Flaky:
        async def feed(self, update: Update, give_up_after_s: float | None = None) -> bool:
            assert update.message is not None and update.message.text is not None
            text = update.message.text
            if text in away:
                away.discard(text)  # the database is back by the time Telegram delivers it again
                return False
            handled.append(text)
            return True

    lanes = Lanes(Flaky(), limit=8)  # type: ignore[arg-type]
    first, second = text_update(1, 1, "first"), text_update(1, 1, "second")
    other = text_update(2, 2, "other chat")
    tasks = [await lanes.submit(u, give_up_after_s=1.0) for u in (first, second, other)]  # all in flight at once
    assert [await t for t in tasks] == [False, False, True]  # the second waited behind the first; others go on
    later = text_update(1, 1, "later")
    assert await (await lanes.submit(later, give_up_after_s=1.0)) is False  # arrives while the lane is shut
    assert await (await lanes.submit(second, give_up_after_s=1.0)) is False  # redelivered before the first
    for u in (first, second, later):  # Telegram delivers them again
        assert await (await lanes.submit(u, give_up_after_s=1.0)) is True
    assert handled == ["other chat", "first", "second", "later"]


async def test_a_shut_lane_opens_after_a_while_if_the_update_never_comes_back() -> None:
    class GivesUpOnce:
        calls = 0

        async def feed(self, update: Update, give_up_after_s: float | None = None) -> bool:
            self.calls += 1
            return self.calls > 1

    lanes = Lanes(GivesUpOnce(), limit=8, shut_s=0.05)  # type: ignore[arg-type]
    assert await (await lanes.submit(text_update(3, 3, "lost"), give_up_after_s=1.0)) is False
    await asyncio.sleep(0.06)
    assert await (await lanes.submit(text_update(3, 3, "next"), give_up_after_s=1.0)) is True


async def test_forty_riders_report_at_once_each_in_order(district: Script, spot: dict[str, float]) -> None:
    """Real updates through the real dispatcher, interleaved across 40 private chats (SQLite and PostgreSQL)."""
    script = district
    riders = [Person(960000 + i, f"骑手{i}") for i in range(40)]
    per_rider: list[list[dict[str, Any]]] = []
    for r in riders:
        steps = [
            {"message": script.message_dict(r, "3号楼楼道有人给电动车充电 堵了通道")},
            {
                "message": script.message_dict(
                    r, None, None, location={"latitude": spot["lat"], "longitude": spot["lon"]}
                )
            },
            {
                "callback_query": {
                    "id": f"cb{r.id}",
                    "from": r.tg(),
                    "chat_instance": str(r.id),
                    "data": "d:submit:",
                    "message": {"message_id": 1, "date": 0, "chat": {"id": r.id, "type": "private"}, "text": "…"},
                }
            },
        ]
        per_rider.append(steps)
    lanes = Lanes(script.app.feeder, limit=16)
    first = 700000
    uid = itertools.count(first)
    for round_ in zip(*per_rider, strict=True):  # step 1 of everyone, then step 2 …
        for raw in round_:
            raw["update_id"] = next(uid)
            await lanes.submit(Update.model_validate(raw, context={"bot": script.app.bot}))
    await lanes.drain()
    await script.app.sender.drain()
    assert lanes.confirmed == first + 3 * len(riders)
    async with script.app.sessions() as s:
        filed = (await s.execute(select(func.count()).select_from(CaseRow))).scalar_one()
    asked = 0
    for r in riders:
        # Each chat's replies in the order its updates were sent: the draft asks for a place, the place completes
        # it, the tap files it (or, the same hazard being already filed nearby, asks whether it is that one).
        texts = [str(c.params.get("text", "")) for c in script.session.calls if c.chat_id == r.id]
        assert len(texts) == 3, texts
        assert "还差位置" in texts[0] and "信息已齐全" in texts[1], texts
        assert "已受理" in texts[2] or "附近已有相同问题" in texts[2], texts
        asked += "附近已有相同问题" in texts[2]
    assert filed >= 1 and filed + asked == len(riders)


async def test_one_leader_at_a_time_and_a_dead_one_is_replaced(engine: AsyncEngine) -> None:
    """The scheduled work runs in one process: on PostgreSQL a session advisory lock; SQLite always leads."""
    first, second = Leadership(engine), Leadership(engine)
    if engine.dialect.name != "postgresql":
        assert await first.check() and await second.check()
        return
    try:
        assert await first.check()
        assert not await second.check()
        assert await first.check()  # still leading: its connection is alive
        # The leader dies: its connection ends without a goodbye (as a killed process's would).
        assert first._conn is not None
        await first._conn.invalidate()
        first._conn = None
        assert await second.check()
        assert not await first.check()
    finally:
        await first.release()
        await second.release()


async def test_metrics_count_updates_and_show_the_outbox(district: Script, desk: str) -> None:
    import httpx

    await district.say(Person(961000, "新居民"), "/start")
    async with httpx.AsyncClient() as client:
        body = (await client.get(f"{desk}/metrics")).text
    assert 'gridbot_updates_total{outcome="handled"}' in body
    assert "gridbot_update_seconds_bucket" in body and "gridbot_outbox_due" in body
    assert "gridbot_messages_sent_total" in body and "gridbot_leader" in body
    # Each family once: a counter the sender keeps is not also an idle registry counter stuck at zero.
    for family in ("messages_sent", "messages_failed", "telegram_429", "update_retries"):
        assert body.count(f"# TYPE gridbot_{family}_total counter") == 1, family
