"""Tests for the fake Telegram Bot API server, driven by a real aiogram Bot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
)

from tests.fakes.bot_api import FakeBotAPI, callback_update, message_update

TOKEN = "123456:TESTTOKEN"


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    """A running fake server on a free port."""
    server = FakeBotAPI()
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    """An aiogram Bot whose session talks to the fake server."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    instance = Bot(token=TOKEN, session=session)
    yield instance
    await instance.session.close()


def _keyboard() -> InlineKeyboardMarkup:
    """An inline keyboard like the bot's claim/escalate buttons."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="接单", callback_data="claim:42")],
            [InlineKeyboardButton(text="提级", callback_data="escalate:42")],
        ]
    )


def _dump(markup: InlineKeyboardMarkup | None) -> dict[str, Any] | None:
    """A comparable plain form of a keyboard."""
    return None if markup is None else markup.model_dump(exclude_none=True)


@pytest.mark.asyncio
async def test_get_me(bot: Bot, fake: FakeBotAPI) -> None:
    """getMe returns the bot user with the id from the token prefix."""
    me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == "gridbot_test_bot"
    [call] = fake.calls("getMe")
    assert call["status"] == 200 and call["seq"] == 1


@pytest.mark.asyncio
async def test_send_message_with_inline_keyboard_round_trips(bot: Bot, fake: FakeBotAPI) -> None:
    """The keyboard is echoed in the Message and recorded as a parsed object."""
    first = await bot.send_message(chat_id=-1001, text="新工单：井盖缺失", reply_markup=_keyboard())
    assert first.message_id == 1
    assert first.chat.type == "supergroup" and first.chat.title
    assert first.text == "新工单：井盖缺失"
    assert first.from_user is not None and first.from_user.id == 123456
    assert _dump(first.reply_markup) == _dump(_keyboard())

    second = await bot.send_message(chat_id=-1001, text="second")
    other = await bot.send_message(chat_id=777, text="private")
    assert second.message_id == 2
    assert other.message_id == 1 and other.chat.type == "private"

    call = fake.calls("sendMessage")[0]
    assert call["params"]["chat_id"] == -1001
    keyboard = call["params"]["reply_markup"]["inline_keyboard"]
    assert keyboard[0][0] == {"text": "接单", "callback_data": "claim:42"}


@pytest.mark.asyncio
async def test_edits_return_message_and_detect_no_change(bot: Bot, fake: FakeBotAPI) -> None:
    """Edits return the edited Message; an edit without change fails like Telegram."""
    sent = await bot.send_message(chat_id=-1001, text="待接单", reply_markup=_keyboard())
    edited = await bot.edit_message_text(chat_id=-1001, message_id=sent.message_id, text="已接单")
    assert isinstance(edited, Message)
    assert edited.text == "已接单" and edited.reply_markup is None
    with pytest.raises(TelegramBadRequest, match="not modified"):
        await bot.edit_message_text(chat_id=-1001, message_id=sent.message_id, text="已接单")
    assert fake.calls("editMessageText")[-1]["status"] == 400
    photo = await bot.send_photo(chat_id=5, photo="AgACAgIAAxkBAAIB", caption="现场照片")
    recaptioned = await bot.edit_message_caption(chat_id=5, message_id=photo.message_id, caption="已处理")
    assert isinstance(recaptioned, Message) and recaptioned.caption == "已处理"
    rekeyed = await bot.edit_message_reply_markup(chat_id=5, message_id=photo.message_id, reply_markup=_keyboard())
    assert isinstance(rekeyed, Message) and _dump(rekeyed.reply_markup) == _dump(_keyboard())
    assert await bot.answer_callback_query("cbq-1", text="ok") is True


@pytest.mark.asyncio
async def test_get_updates_offset_confirms(bot: Bot, fake: FakeBotAPI) -> None:
    """Updates stay pending until a later getUpdates confirms them with an offset."""
    ids = fake.add_updates(
        [message_update(101, "/start"), message_update(101, "你好"), callback_update(-1001, "claim:1")]
    )
    assert ids == [1, 2, 3]
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == ids
    assert updates[0].message is not None and updates[0].message.text == "/start"
    assert updates[2].callback_query is not None and updates[2].callback_query.data == "claim:1"
    assert fake.pending() == 3

    limited = await bot.get_updates(offset=2, limit=1, timeout=0)
    assert [u.update_id for u in limited] == [2]
    assert fake.pending() == 2

    assert await bot.get_updates(offset=4, timeout=0) == []
    assert fake.pending() == 0


@pytest.mark.asyncio
async def test_get_updates_long_poll(bot: Bot, fake: FakeBotAPI) -> None:
    """A long poll returns as soon as an update is queued, or empty after the timeout."""
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert 0.9 <= time.monotonic() - started < 3

    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_for_call("getUpdates", count=2)
    await asyncio.sleep(0.1)
    assert not poll.done()
    started = time.monotonic()
    fake.add_updates([message_update(101, "hi")])
    updates = await asyncio.wait_for(poll, timeout=5)
    assert time.monotonic() - started < 2
    assert [u.update_id for u in updates] == [1]


@pytest.mark.asyncio
async def test_injected_429_raises_retry_after(bot: Bot, fake: FakeBotAPI) -> None:
    """A queued 429 fault makes aiogram raise TelegramRetryAfter; the next call succeeds."""
    fake.add_faults([{"method": "sendMessage", "status": 429, "retry_after": 2}])
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(chat_id=1, text="x")
    assert info.value.retry_after == 2
    ok = await bot.send_message(chat_id=1, text="y")
    assert ok.message_id == 1
    assert [c["status"] for c in fake.calls("sendMessage")] == [429, 200]


@pytest.mark.asyncio
async def test_injected_500_raises_server_error(bot: Bot, fake: FakeBotAPI) -> None:
    """A queued 500 fault makes aiogram raise TelegramServerError."""
    fake.add_faults([{"method": "sendMessage", "status": 500}])
    with pytest.raises(TelegramServerError):
        await bot.send_message(chat_id=1, text="x")
    assert fake.calls("sendMessage")[0]["status"] == 500


@pytest.mark.asyncio
async def test_delayed_call_is_recorded_before_it_completes(bot: Bot, fake: FakeBotAPI) -> None:
    """A delayed sendPhoto is recorded on arrival and answered after the delay."""
    fake.add_faults([{"method": "sendPhoto", "delay": 0.5}])
    task = asyncio.create_task(bot.send_photo(chat_id=-1001, photo="AgACAgIAAxkBAAIB", caption="隐患"))
    [call] = await fake.wait_for_call("sendPhoto")
    assert not task.done()
    assert call["params"]["photo"] == "AgACAgIAAxkBAAIB"
    msg = await asyncio.wait_for(task, timeout=5)
    assert msg.photo is not None and msg.photo[0].file_id == "AgACAgIAAxkBAAIB"
    assert msg.caption == "隐患"


@pytest.mark.asyncio
async def test_stop_does_not_wait_for_long_delays() -> None:
    """stop() returns promptly even while a 30 s delayed call is in flight."""
    server = FakeBotAPI()
    await server.start()
    server.add_faults([{"method": "sendPhoto", "delay": 30}])
    other = Bot(token=TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))
    task = asyncio.create_task(other.send_photo(chat_id=1, photo="AgAC"))
    await server.wait_for_call("sendPhoto")
    started = time.monotonic()
    await server.stop()
    assert time.monotonic() - started < 5
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await other.session.close()


@pytest.mark.asyncio
async def test_uploaded_photo_gets_file_id_and_downloads(bot: Bot, fake: FakeBotAPI) -> None:
    """An uploaded photo gets a new file_id whose bytes can be downloaded back."""
    data = b"\xff\xd8fake-jpeg\xff\xd9"
    msg = await bot.send_photo(chat_id=3, photo=BufferedInputFile(data, filename="hazard.jpg"))
    assert msg.photo is not None
    file_id = msg.photo[0].file_id
    assert file_id.startswith("fake-photo-")
    downloaded = await bot.download(file_id)
    assert downloaded is not None and downloaded.read() == data


@pytest.mark.asyncio
async def test_http_control_endpoints(fake: FakeBotAPI) -> None:
    """The JSON control endpoints queue updates and faults, list calls and reset."""
    async with aiohttp.ClientSession(base_url=fake.base_url) as http:
        async with http.post(
            "/_control/updates", json=[message_update(5, "a"), {"update_id": 50, **message_update(5, "b")}]
        ) as r:
            assert (await r.json())["update_ids"] == [1, 50]
        async with http.get("/_control/pending") as r:
            assert await r.json() == 2
        async with http.post("/_control/faults", json=[{"method": "getMe", "status": 500}]) as r:
            assert r.status == 200
        async with http.post(f"/bot{TOKEN}/getMe") as r:
            assert r.status == 500 and (await r.json())["ok"] is False
        async with http.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": 5, "text": "json body"}) as r:
            body = await r.json()
            assert body["ok"] and body["result"]["message_id"] == 3  # ids 1, 2 went to the injected messages
        async with http.get("/_control/calls", params={"method": "getMe"}) as r:
            calls = await r.json()
            assert [c["status"] for c in calls] == [500]
        async with http.post("/_control/reset") as r:
            assert r.status == 200
        async with http.get("/_control/calls") as r:
            assert await r.json() == []
    assert fake.pending() == 0


@pytest.mark.asyncio
async def test_dispatcher_polling_end_to_end(bot: Bot, fake: FakeBotAPI) -> None:
    """aiogram's Dispatcher polls the fake, handles /start and answers."""
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("欢迎使用网格助手")

    fake.add_updates([message_update(4242, "/start")])
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    try:
        [reply] = await fake.wait_for_call("sendMessage", timeout=10)
        assert reply["params"]["chat_id"] == 4242
        assert reply["params"]["text"] == "欢迎使用网格助手"
        await fake.wait_for_call("getUpdates", count=2)  # the second poll confirms update 1
        assert fake.pending() == 0
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, timeout=10)


class ManualClock:
    """A monotonic clock the test moves by hand, so the flood windows never depend on the machine's speed."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest_asyncio.fixture
async def limited() -> AsyncIterator[tuple[FakeBotAPI, Bot, ManualClock]]:
    """A fake with Telegram's flood limits on (30/s overall, 20/min per group) on a manual clock, and a Bot."""
    clock = ManualClock()
    server = FakeBotAPI(limits=True, clock=clock)
    await server.start()
    instance = Bot(token=TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))
    yield server, instance, clock
    await instance.session.close()
    await server.stop()


@pytest.mark.asyncio
async def test_limits_are_off_by_default(bot: Bot, fake: FakeBotAPI) -> None:
    """Without limits=True, 40 messages to one group at once all go through."""
    for i in range(40):
        await bot.send_message(chat_id=-1001, text=f"m{i}")
    assert fake.limit_refusals == 0
    assert {c["status"] for c in fake.calls("sendMessage")} == {200}


@pytest.mark.asyncio
async def test_21st_message_to_a_group_within_a_minute_is_refused(
    limited: tuple[FakeBotAPI, Bot, ManualClock],
) -> None:
    """20 messages a minute per group; the 21st gets 429 with retry_after until the oldest leaves the minute."""
    fake, bot, clock = limited
    for i in range(20):
        await bot.send_message(chat_id=-1001, text=f"m{i}")
        clock.now += 0.5  # 20 messages over 10 s: the overall 30/s limit is never near
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(chat_id=-1001, text="one too many")
    assert info.value.retry_after == 50  # the first left at 1000.0 + 60 - 1010.0
    assert fake.limit_refusals == 1 and fake.limit_refusals_by == {"overall": 0, "group": 1}
    refused = fake.calls("sendMessage")[-1]
    assert refused["status"] == 429 and refused["refused"] == "group"
    assert await bot.send_message(chat_id=-1002, text="another group is not held up")
    with pytest.raises(TelegramRetryAfter):
        await bot.edit_message_text(chat_id=-1001, message_id=1, text="edits count too")
    clock.now += 50
    assert await bot.send_message(chat_id=-1001, text="the first one left the minute")


@pytest.mark.asyncio
async def test_refusal_body_is_telegrams(limited: tuple[FakeBotAPI, Bot, ManualClock]) -> None:
    """The 429 answer has Telegram's shape: error_code, description and parameters.retry_after."""
    fake, _, clock = limited
    async with aiohttp.ClientSession(base_url=fake.base_url) as http:
        for _ in range(20):
            async with http.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": -5, "text": "x"}) as r:
                assert r.status == 200
        clock.now += 0.25
        async with http.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": -5, "text": "x"}) as r:
            assert r.status == 429
            assert await r.json() == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 60",
                "parameters": {"retry_after": 60},
            }


@pytest.mark.asyncio
async def test_private_chats_only_hit_the_overall_limit(limited: tuple[FakeBotAPI, Bot, ManualClock]) -> None:
    """25 messages to one private chat pass (no per-chat minute limit); the 31st message in a second does not."""
    fake, bot, clock = limited
    for i in range(25):
        await bot.send_message(chat_id=777, text=f"p{i}")
    for i in range(5):
        await bot.send_message(chat_id=800 + i, text="other private chats")
    clock.now += 0.4
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(chat_id=999, text="31st within the second")
    assert info.value.retry_after == 1  # 0.6 s left, said as a whole second like Telegram does
    assert fake.limit_refusals_by == {"overall": 1, "group": 0}
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(chat_id=-1001, text="a group message counts overall too")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_photo(chat_id=999, photo="AgACAgIAAxkBAAIB")
    assert await bot.answer_callback_query("cbq-1") is True  # not a message: never limited
    clock.now += 0.6
    assert await bot.send_message(chat_id=999, text="the window moved on")
    assert [c["status"] for c in fake.calls("sendMessage")].count(200) == 31


@pytest.mark.asyncio
async def test_refused_calls_are_not_counted() -> None:
    """Calls refused with 429 (or 400) leave the windows as they were: retrying after retry_after succeeds."""
    clock = ManualClock()
    fake = FakeBotAPI(limits=True, group_messages_per_window=2, group_window_s=2.0, clock=clock)
    await fake.start()
    bot = Bot(token=TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
    try:
        await bot.send_message(chat_id=-7, text="a")
        await bot.send_message(chat_id=-7, text="b")
        clock.now += 1.0
        for _ in range(5):  # refused at t=1: had they counted, the window would hold them until t=3
            with pytest.raises(TelegramRetryAfter) as info:
                await bot.send_message(chat_id=-7, text="c")
            assert info.value.retry_after == 1
        with pytest.raises(TelegramBadRequest):
            await bot.send_message(chat_id=-8, text="<b>broken html", parse_mode="HTML")
        sent = await bot.send_message(chat_id=-8, text="x")
        with pytest.raises(TelegramBadRequest, match="not modified"):
            await bot.edit_message_text(chat_id=-8, message_id=sent.message_id, text="x")
        # the group's second message of its window: neither 400 above was counted
        await bot.edit_message_text(chat_id=-8, message_id=sent.message_id, text="y")
        clock.now += 1.0
        await bot.send_message(chat_id=-7, text="c")
        await bot.send_message(chat_id=-7, text="d")
        assert fake.limit_refusals == 5
        statuses = [c["status"] for c in fake.calls("sendMessage") if c["params"]["chat_id"] == -7]
        assert statuses == [200, 200, 429, 429, 429, 429, 429, 200, 200]
        assert [c.get("refused") for c in fake.calls("sendMessage")][2:7] == ["group"] * 5
    finally:
        await bot.session.close()
        await fake.stop()


@pytest.mark.asyncio
async def test_short_real_window_clears_after_retry_after() -> None:
    """On the real clock with a 1 s group window: waiting the retry_after Telegram gave is always enough."""
    fake = FakeBotAPI(limits=True, group_messages_per_window=1, group_window_s=1.0)
    await fake.start()
    bot = Bot(token=TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
    try:
        await bot.send_message(chat_id=-9, text="a")
        try:
            await bot.send_message(chat_id=-9, text="b")
        except TelegramRetryAfter as e:
            assert e.retry_after == 1
            await asyncio.sleep(e.retry_after)
            await bot.send_message(chat_id=-9, text="b")
            assert fake.limit_refusals == 1
        else:  # only if this machine stalled a whole second between two calls: the window had passed
            assert fake.limit_refusals == 0
        fake.reset()
        assert fake.limit_refusals == 0
        await bot.send_message(chat_id=-9, text="after a reset the windows are empty")
    finally:
        await bot.session.close()
        await fake.stop()


@pytest.mark.asyncio
async def test_album_counts_as_its_items(limited: tuple[FakeBotAPI, Bot, ManualClock]) -> None:
    """A media group of 3 counts as 3 messages against the group's minute."""
    fake, bot, _ = limited
    for i in range(18):
        await bot.send_message(chat_id=-3, text=f"m{i}")
    media: list[Any] = [InputMediaPhoto(media="AgACAgIAAxkBAAIB") for _ in range(3)]
    with pytest.raises(TelegramRetryAfter):
        await bot.send_media_group(chat_id=-3, media=media)
    assert len(await bot.send_media_group(chat_id=-3, media=media[:2])) == 2
    assert fake.limit_refusals == 1
