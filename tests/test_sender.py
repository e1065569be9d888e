"""The outbox sender against the recording session with injected Telegram errors."""

from __future__ import annotations

from typing import Any

from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from sqlalchemy import update

from bot.app import App
from bot.recording import RecordingSession
from storage.orm import OutboxRow
from tests.conftest import FakeClock
from tests.helpers import enqueue, out, scalar


def sent_texts(session: RecordingSession, chat_id: int) -> list[str]:
    return [
        str(c.params.get("text"))
        for c in session.by_method("sendMessage")
        if c.chat_id == chat_id and c.result != "error"
    ]


async def states(app: App) -> dict[str, int]:
    return await app.store.counts()


async def test_retry_after_is_waited_out(app: App, session: RecordingSession, clock: FakeClock) -> None:
    session.inject("sendMessage", lambda m: TelegramRetryAfter(method=m, message="Too Many Requests", retry_after=30))
    await enqueue(app, out(42, "a"))
    await app.sender.drain()
    assert sent_texts(session, 42) == []
    clock.advance(29)
    await app.sender.drain()
    assert sent_texts(session, 42) == []
    clock.advance(2)
    await app.sender.drain()
    assert sent_texts(session, 42) == ["a"]
    assert await states(app) == {"sent": 1}


async def test_server_error_and_network_error_back_off_then_deliver(
    app: App, session: RecordingSession, clock: FakeClock
) -> None:
    session.inject("sendMessage", lambda m: TelegramServerError(method=m, message="Internal Server Error"))
    session.inject("sendMessage", lambda m: TelegramNetworkError(method=m, message="connection reset"))
    await enqueue(app, out(42, "a"))
    await app.sender.drain()
    clock.advance(1.5)
    await app.sender.drain()
    clock.advance(2.5)
    await app.sender.drain()
    assert sent_texts(session, 42) == ["a"]
    assert await scalar(app, "select attempts from outbox") == 3


async def test_head_of_line_keeps_per_chat_order_but_not_other_chats(
    app: App, session: RecordingSession, clock: FakeClock
) -> None:
    session.inject("sendMessage", lambda m: TelegramRetryAfter(method=m, message="slow down", retry_after=5))
    await enqueue(app, out(1, "1a"), out(1, "1b"), out(2, "2a"), out(1, "1c"))
    await app.sender.drain()
    assert sent_texts(session, 1) == []
    assert sent_texts(session, 2) == ["2a"]
    clock.advance(6)
    await app.sender.drain()
    assert sent_texts(session, 1) == ["1a", "1b", "1c"]


async def test_forbidden_is_recorded_as_failed_and_the_chat_moves_on(app: App, session: RecordingSession) -> None:
    session.inject("sendMessage", lambda m: TelegramForbiddenError(method=m, message="bot was blocked by the user"))
    await enqueue(app, out(7, "first"), out(7, "second"))
    await app.sender.drain()
    assert sent_texts(session, 7) == ["second"]
    assert await states(app) == {"failed": 1, "sent": 1}
    assert "blocked" in str(await scalar(app, "select last_error from outbox where state = 'failed'"))


async def test_edit_follows_its_target_and_not_modified_counts_as_done(app: App, session: RecordingSession) -> None:
    [post] = await enqueue(app, out(-100, "post", photo="file-1"))
    await enqueue(app, out(0, "edited", edit_outbox_id=post))
    session.inject("editMessageCaption", lambda m: TelegramBadRequest(method=m, message="message is not modified"))
    await app.sender.drain()
    assert await states(app) == {"sent": 2}
    await enqueue(app, out(0, "edited again", edit_outbox_id=post))
    await app.sender.drain()
    edits = [c for c in session.by_method("editMessageCaption") if c.result != "error"]
    assert edits[-1].params["caption"] == "edited again" and edits[-1].params["chat_id"] == -100


async def test_edit_of_failed_target_fails(app: App, session: RecordingSession) -> None:
    session.inject("sendMessage", lambda m: TelegramBadRequest(method=m, message="chat not found"))
    [post] = await enqueue(app, out(-5, "post"))
    await enqueue(app, out(0, "edit", edit_outbox_id=post))
    await app.sender.drain()
    assert await states(app) == {"failed": 2}


async def test_in_flight_messages_are_resent_after_a_crash(app: App, session: RecordingSession) -> None:
    ids = await enqueue(app, out(9, "was in flight"), out(9, "next"))
    async with app.sessions.begin() as s:
        await s.execute(update(OutboxRow).where(OutboxRow.id == ids[0]).values(state="inflight"))
    assert await app.sender.drain() == 0  # the chat's head is in flight: nothing overtakes it
    assert await app.store.recover() == 1
    await app.sender.drain()
    assert sent_texts(session, 9) == ["was in flight", "next"]


async def test_markup_kinds(app: App, session: RecordingSession) -> None:
    from handlers.views.messages import Button

    [first] = await enqueue(
        app,
        out(
            3,
            "inline",
            buttons=[[Button("go", "case:claim:1:1"), Button("map", url="https://example.org")]],
        ),
    )
    await enqueue(
        app,
        out(3, "reply kb", reply_keyboard=[["a", "b"]], request_location="📍"),
        out(3, "force", force_reply=True, reply_to_outbox=first),
        out(3, "remove", remove_keyboard=True),
    )
    await app.sender.drain()
    calls = [c.params for c in session.by_method("sendMessage")]
    markup: list[Any] = [c["reply_markup"] for c in calls]
    assert markup[0]["inline_keyboard"][0][0]["callback_data"] == "case:claim:1:1"
    assert markup[0]["inline_keyboard"][0][1]["url"] == "https://example.org"
    assert markup[1]["keyboard"][0][0]["request_location"] is True
    assert markup[2]["force_reply"] is True and calls[2]["reply_parameters"]["message_id"] == 1
    assert markup[3]["remove_keyboard"] is True


async def test_a_group_over_its_minute_waits_while_other_chats_go_on(
    app: App, session: RecordingSession, clock: FakeClock
) -> None:
    from bot.sender import GROUP_WINDOW_S, Pace

    app.sender.pace = Pace(per_second=1000, group_per_minute=3)
    await enqueue(app, *(out(-100, f"g{i}") for i in range(5)), out(42, "private"))
    await app.sender.drain()
    assert sent_texts(session, -100) == ["g0", "g1", "g2"] and sent_texts(session, 42) == ["private"]
    assert await states(app) == {"sent": 4, "pending": 2}
    clock.advance(GROUP_WINDOW_S - 5)
    await app.sender.drain()
    assert len(sent_texts(session, -100)) == 3  # still inside the group's minute: deferred, not refused


async def test_a_case_message_overtakes_its_groups_broadcast(app: App, session: RecordingSession) -> None:
    from storage.delivery import OutboxRepo

    async with app.sessions.begin() as s:
        repo = OutboxRepo(s, app.store.clock)
        for i in range(3):
            await repo.add(-100 - i, out(0, f"notice {i}")[0].payload(), priority=1)
        await repo.add(-100, out(0, "case card")[0].payload())
    app.sender.concurrency = 1
    await app.sender.drain()
    texts = [str(c.params.get("text")) for c in session.by_method("sendMessage")]
    assert texts[0] == "case card" and sorted(texts[1:]) == ["notice 0", "notice 1", "notice 2"]
