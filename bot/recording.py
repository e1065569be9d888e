"""A Bot session that talks to no network: records every call, fakes Telegram's answers, injects faults."""

from __future__ import annotations

import functools
import io
import itertools
import time
from collections import defaultdict, deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import File, Message, User
from PIL import Image

from handlers.text import CAPTION_MAX, TEXT_MAX, HtmlError, check_html, check_keyboard

if TYPE_CHECKING:
    from aiogram import Bot

BOT_ID = 7000000001


@functools.cache
def _placeholder_photo() -> bytes:
    image = Image.new("RGB", (64, 48), (128, 128, 128))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


class UnexpectedNetworkUse(AssertionError):
    """The code under test called a Bot API method the recording session does not emulate."""


@dataclass
class Call:
    """One recorded Bot API call."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.time)
    result: Any = None

    @property
    def chat_id(self) -> int | None:
        """The chat the call addressed, if any."""
        value = self.params.get("chat_id")
        return int(value) if value is not None else None


def telegram_refusal(name: str, params: dict[str, Any]) -> str | None:
    """What Telegram would answer with 400 for this call (bad HTML, too long, bad buttons), or None."""
    try:
        if name in ("sendMessage", "editMessageText"):
            if params.get("parse_mode") == "HTML":
                check_html(str(params.get("text") or ""), TEXT_MAX)
        elif name in ("sendPhoto", "editMessageCaption"):
            if params.get("parse_mode") == "HTML":
                check_html(str(params.get("caption") or ""), CAPTION_MAX, allow_empty=True)
        elif name == "answerCallbackQuery" and len(str(params.get("text") or "")) > 200:
            raise HtmlError("Bad Request: MESSAGE_TOO_LONG")
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            if markup.get("inline_keyboard") is not None:
                check_keyboard(markup["inline_keyboard"], inline=True)
            if markup.get("keyboard") is not None:
                check_keyboard(markup["keyboard"], inline=False)
    except HtmlError as e:
        return str(e)
    return None


class RecordingSession(BaseSession):
    """Records calls; answers sendMessage/sendPhoto/edit*/answerCallbackQuery/getMe like Telegram would.

    It is strict like Telegram: a call Telegram would refuse (malformed or unknown HTML, text or caption too
    long in UTF-16 units, bad callback data or keyboards) is answered with 400 and listed in `rejected`, so
    every test that drives the bot checks what it sends.
    """

    EMULATED = frozenset(
        {
            "getMe",
            "getFile",
            "sendMessage",
            "sendPhoto",
            "editMessageText",
            "editMessageCaption",
            "editMessageReplyMarkup",
            "answerCallbackQuery",
            "deleteWebhook",
            "setMyCommands",
            "sendChatAction",
        }
    )

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self._ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._faults: dict[str, deque[Callable[[TelegramMethod[Any]], Exception]]] = defaultdict(deque)
        self.rejected: list[tuple[str, str, dict[str, Any]]] = []
        # What a download of a file id returns (unset: a small grey photo, as any phone would send).
        self.files: dict[str, bytes] = {}

    def inject(self, api_method: str, make_error: Callable[[TelegramMethod[Any]], Exception]) -> None:
        """The next call of `api_method` raises make_error(method) instead of succeeding."""
        self._faults[api_method].append(make_error)

    def by_method(self, *names: str) -> list[Call]:
        """Recorded calls of these API methods."""
        return [c for c in self.calls if c.method in names]

    def clear(self) -> None:
        """Forget recorded calls."""
        self.calls.clear()

    async def close(self) -> None:
        """Nothing to close."""

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        """Record and answer a call without network."""
        name = method.__api_method__
        if name not in self.EMULATED:
            raise UnexpectedNetworkUse(f"unexpected Bot API call {name}")
        # The same value preparation aiogram applies before a real request (defaults resolved, objects as dicts).
        raw = method.model_dump(warnings=False)
        params = {
            k: v
            for k, v in ((k, self.prepare_value(v, bot, {}, _dumps_json=False)) for k, v in raw.items())
            if v is not None
        }
        if self._faults[name]:
            self.calls.append(Call(name, params, result="error"))
            raise self._faults[name].popleft()(method)
        refusal = telegram_refusal(name, params)
        if refusal is not None:
            self.rejected.append((name, refusal, params))
            self.calls.append(Call(name, params, result="error"))
            raise TelegramBadRequest(method=method, message=refusal)
        result = self._answer(bot, name, params)
        self.calls.append(Call(name, params, result=result))
        return result  # type: ignore[no-any-return]

    def _answer(self, bot: Bot, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return User(id=BOT_ID, is_bot=True, first_name="gridbot", username="gridbot_demo_bot")
        if name == "getFile":
            file_id = str(params["file_id"])
            return File(file_id=file_id, file_unique_id=f"u-{file_id[:32]}", file_path=f"photos/{file_id}.jpg")
        if name in ("sendMessage", "sendPhoto"):
            chat_id = int(params["chat_id"])
            data: dict[str, Any] = {
                "message_id": next(self._ids[chat_id]),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup", "title": None},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "gridbot"},
            }
            if name == "sendPhoto":
                data["photo"] = [{"file_id": str(params["photo"]), "file_unique_id": "u", "width": 1, "height": 1}]
                data["caption"] = params.get("caption")
            else:
                data["text"] = params.get("text")
            return Message.model_validate(data, context={"bot": bot})
        return True

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        """A file getFile named (recorded as a download); any other URL is unexpected network use."""
        marker = "/photos/"
        if "/file/bot" not in url or marker not in url:
            raise UnexpectedNetworkUse(f"unexpected download {url}")
        file_id = url.rsplit(marker, 1)[1].removesuffix(".jpg")
        self.calls.append(Call("download", {"file_id": file_id}, result=True))
        yield self.files.get(file_id) or _placeholder_photo()
