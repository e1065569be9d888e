"""A fake Telegram Bot API server (aiohttp) for tests and for running the bot by hand.

Point aiogram at it with::

    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
    bot = Bot(token="123456:TESTTOKEN", session=session)

Requests arrive as ``POST /bot{token}/{method}`` (multipart, urlencoded or JSON; GET with a
query string works too). Every call is recorded on arrival. Tests drive the server through
the Python API of :class:`FakeBotAPI` or through the JSON control endpoints:

* ``POST /_control/updates``  JSON list of Update dicts (``update_id`` assigned if missing)
* ``POST /_control/faults``   JSON list of faults, consumed FIFO per method, e.g.
  ``{"method": "sendMessage", "status": 429, "retry_after": 2}``,
  ``{"method": "sendMessage", "status": 500}``, ``{"method": "sendPhoto", "delay": 30}``;
  ``"method": "*"`` matches any method (used only when the method has no own fault queued)
* ``GET  /_control/calls``    recorded calls (``?method=sendMessage`` filters)
* ``GET  /_control/pending``  number of queued, unconfirmed updates
* ``POST /_control/reset``    forget calls, updates, faults, messages and files

Standalone: ``python -m tests.fakes.bot_api --port 8081 [--limits]`` prints the base URL.

Flood limits (opt-in, ``FakeBotAPI(limits=True)`` or ``--limits``): sending methods (send*, copyMessage,
forwardMessage, editMessage*) are refused like Telegram refuses them — HTTP 429 with
``"parameters": {"retry_after": N}`` — once the bot exceeds 30 messages in any 1-second sliding window
overall, or 20 messages in any 60-second sliding window to one group (chat_id < 0). N is the whole
seconds until the oldest counted message leaves the window (at least 1). Only delivered messages count
(a refused call, a 400 or an injected fault does not); a refused call is recorded with status 429 and
``"refused": "overall"`` or ``"group"``; :attr:`FakeBotAPI.limit_refusals` counts them. The limits, the
window lengths and the clock are constructor parameters, so tests can use short windows or a manual clock.

Behaviour worth knowing: message ids increase per chat (and skip past ids seen in injected
updates); edits of unknown messages are accepted and answered with a synthesised message;
editing a known message without any change fails like Telegram ("message is not modified");
``allowed_updates`` is recorded but not used to filter.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import itertools
import json
import math
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Self

from aiohttp import web
from aiohttp.web_request import FileField

from bot.recording import telegram_refusal

JSONDict = dict[str, Any]
STRICT_METHODS = ("sendMessage", "sendPhoto", "editMessageText", "editMessageCaption", "answerCallbackQuery")
# Methods that put a message in a chat, and so count against Telegram's flood limits (lower-case names).
SENDING_METHODS = frozenset(
    {
        "sendmessage", "sendphoto", "senddocument", "sendvideo", "sendanimation", "sendaudio", "sendvoice",
        "sendvideonote", "sendsticker", "sendlocation", "sendmediagroup", "copymessage", "forwardmessage",
        "editmessagetext", "editmessagecaption", "editmessagereplymarkup",
    }
)  # fmt: skip
Handler = Callable[[str, JSONDict], Awaitable[Any]]

BOT_USERNAME = "gridbot_test_bot"
BOT_FIRST_NAME = "GridBot Test"

# Parameters that are always plain strings, never JSON-decoded (text "123" stays "123").
STRING_FIELDS = frozenset(
    {
        "text", "caption", "photo", "document", "video", "audio", "voice", "animation",
        "sticker", "video_note", "thumbnail", "callback_query_id", "inline_query_id",
        "parse_mode", "url", "title", "description", "short_description", "name", "query",
        "inline_message_id", "file_id", "emoji", "address", "first_name", "last_name",
        "phone_number", "vcard", "foursquare_id", "foursquare_type", "google_place_id",
        "google_place_type", "action", "secret_token", "business_connection_id",
        "message_effect_id", "language_code", "custom_title", "invite_link", "question",
        "payload", "provider_token", "currency", "start_parameter", "explanation",
        "ip_address", "certificate", "sticker_set_name",
    }
)  # fmt: skip

UPDATE_MESSAGE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post")

# Minimal required fields for media objects returned by send{Media} methods.
MEDIA_EXTRA: dict[str, JSONDict] = {
    "document": {"file_name": "file.bin", "mime_type": "application/octet-stream"},
    "video": {"width": 1280, "height": 720, "duration": 5},
    "animation": {"width": 320, "height": 240, "duration": 3},
    "audio": {"duration": 30},
    "voice": {"duration": 4},
    "video_note": {"length": 240, "duration": 5},
    "sticker": {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False},
}

# A tiny placeholder served for downloads of files that were never uploaded (JPEG markers only).
PLACEHOLDER_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


class ApiError(Exception):
    """An error answer of the Bot API (``ok: false``)."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        """Store the HTTP status, description and optional ResponseParameters."""
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def error_body(status: int, description: str, parameters: JSONDict | None = None) -> JSONDict:
    """Build the JSON body of a Bot API error answer."""
    body: JSONDict = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def fault_error(fault: JSONDict) -> ApiError:
    """Turn an injected fault into the ApiError Telegram would answer with."""
    status = int(fault.get("status", 200))
    if status == 429:
        retry_after = int(fault.get("retry_after", 1))
        desc = fault.get("description") or f"Too Many Requests: retry after {retry_after}"
        return ApiError(429, desc, {"retry_after": retry_after})
    default_desc = {
        400: "Bad Request: injected fault",
        401: "Unauthorized",
        403: "Forbidden: bot was blocked by the user",
        404: "Not Found",
        409: "Conflict: terminated by other getUpdates request",
        500: "Internal Server Error",
        502: "Bad Gateway",
    }.get(status, f"Error {status}")
    return ApiError(status, fault.get("description") or default_desc)


def decode_value(key: str, value: Any) -> Any:
    """Decode one request parameter: JSON strings (reply_markup, ints, bools) become objects."""
    if not isinstance(value, str) or key in STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def bot_id_from_token(token: str) -> int:
    """The bot's user id: the numeric token prefix, or a stable hash when there is none."""
    prefix = token.split(":", 1)[0]
    if prefix.isdigit():
        return int(prefix)
    return zlib.crc32(token.encode()) % 1_000_000_000 + 1


def message_update(
    chat_id: int,
    text: str,
    *,
    user_id: int | None = None,
    message_id: int | None = None,
    first_name: str = "测试用户",
    **extra: Any,
) -> JSONDict:
    """An Update dict carrying a text message from a user (update_id left to the server)."""
    uid = user_id if user_id is not None else abs(chat_id)
    chat: JSONDict = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
    if chat_id > 0:
        chat["first_name"] = first_name
    else:
        chat["title"] = f"Test group {chat_id}"
    msg: JSONDict = {
        "message_id": message_id if message_id is not None else 0,
        "date": int(time.time()),
        "chat": chat,
        "from": {"id": uid, "is_bot": False, "first_name": first_name},
        "text": text,
    }
    if text.startswith("/"):
        command = text.split()[0]
        msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    msg.update(extra)
    return {"message": msg}


def callback_update(
    chat_id: int,
    data: str,
    *,
    user_id: int | None = None,
    message_id: int = 1,
    first_name: str = "测试用户",
    query_id: str | None = None,
) -> JSONDict:
    """An Update dict carrying a callback query pressed on a bot message."""
    uid = user_id if user_id is not None else abs(chat_id)
    chat: JSONDict = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
    if chat_id > 0:
        chat["first_name"] = first_name
    else:
        chat["title"] = f"Test group {chat_id}"
    return {
        "callback_query": {
            "id": query_id or f"cbq-{uid}-{message_id}-{zlib.crc32(data.encode())}",
            "from": {"id": uid, "is_bot": False, "first_name": first_name},
            "chat_instance": str(chat_id),
            "data": data,
            "message": {"message_id": message_id, "date": int(time.time()), "chat": chat, "text": "..."},
        }
    }


class FloodLimits:
    """Telegram's flood limits as sliding windows over the times of delivered messages."""

    def __init__(
        self,
        per_window: int = 30,
        window_s: float = 1.0,
        group_per_window: int = 20,
        group_window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Allow `per_window` messages per `window_s` overall and `group_per_window` per `group_window_s` a group."""
        if per_window < 1 or group_per_window < 1 or window_s <= 0 or group_window_s <= 0:
            raise ValueError("flood limits must allow at least one message in a positive window")
        self.per_window = per_window
        self.window_s = window_s
        self.group_per_window = group_per_window
        self.group_window_s = group_window_s
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        """Forget every counted message and refusal."""
        self._overall: deque[float] = deque()
        self._groups: dict[int, deque[float]] = {}
        self.refusals = 0
        self.refusals_by: dict[str, int] = {"overall": 0, "group": 0}

    @staticmethod
    def _wait(window: deque[float], now: float, length: float, limit: int, count: int) -> float:
        # Seconds until `count` more fit: the entries that must leave first are the oldest ones.
        while window and now - window[0] >= length:
            window.popleft()
        excess = len(window) + count - limit
        if excess <= 0:
            return 0.0
        if excess > len(window):
            return length  # more at once than the window ever holds: still only a wait, as Telegram says
        return window[excess - 1] + length - now

    def check(self, chat_id: Any, count: int = 1) -> tuple[str, int] | None:
        """(which limit, retry_after seconds) if `count` messages to `chat_id` would exceed a limit, else None."""
        now = self.clock()
        refusal: tuple[str, int] | None = None
        overall = self._wait(self._overall, now, self.window_s, self.per_window, count)
        if overall > 0:
            refusal = ("overall", max(1, math.ceil(overall)))
        if isinstance(chat_id, int) and chat_id < 0:
            group = self._wait(
                self._groups.setdefault(chat_id, deque()), now, self.group_window_s, self.group_per_window, count
            )
            if group > 0 and (refusal is None or math.ceil(group) > refusal[1]):
                refusal = ("group", max(1, math.ceil(group)))
        return refusal

    def refuse(self, which: str) -> None:
        """Count a refusal."""
        self.refusals += 1
        self.refusals_by[which] = self.refusals_by.get(which, 0) + 1

    def take(self, chat_id: Any, count: int = 1) -> list[float]:
        """Count `count` messages to `chat_id` as sent now; returns their stamps (for :meth:`give_back`)."""
        now = self.clock()
        stamps = [now] * count
        self._overall.extend(stamps)
        if isinstance(chat_id, int) and chat_id < 0:
            self._groups.setdefault(chat_id, deque()).extend(stamps)
        return stamps

    def give_back(self, chat_id: Any, stamps: list[float]) -> None:
        """Uncount messages that were not delivered after all (the call failed)."""
        windows = [self._overall]
        if isinstance(chat_id, int) and chat_id < 0 and chat_id in self._groups:
            windows.append(self._groups[chat_id])
        for window in windows:
            for stamp in stamps:
                with contextlib.suppress(ValueError):
                    window.remove(stamp)


class FakeBotAPI:
    """In-memory emulation of the Telegram Bot API served over HTTP by aiohttp."""

    def __init__(
        self,
        *,
        username: str = BOT_USERNAME,
        first_name: str = BOT_FIRST_NAME,
        limits: bool = False,
        messages_per_window: int = 30,
        window_s: float = 1.0,
        group_messages_per_window: int = 20,
        group_window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create an idle server; call :meth:`start` to listen. With `limits`, Telegram's flood limits apply."""
        self.username = username
        self.first_name = first_name
        self.limits = limits
        self.flood = FloodLimits(messages_per_window, window_s, group_messages_per_window, group_window_s, clock)
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._waiters: set[asyncio.Future[None]] = set()
        self._handlers: dict[str, Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "senddocument": self._send_media,
            "sendvideo": self._send_media,
            "sendanimation": self._send_media,
            "sendaudio": self._send_media,
            "sendvoice": self._send_media,
            "sendvideonote": self._send_media,
            "sendsticker": self._send_media,
            "sendlocation": self._send_location,
            "sendmediagroup": self._send_media_group,
            "copymessage": self._copy_message,
            "forwardmessage": self._forward_message,
            "editmessagetext": self._edit_message,
            "editmessagecaption": self._edit_message,
            "editmessagereplymarkup": self._edit_message,
            "deletemessage": self._delete_message,
            "getchat": self._get_chat,
            "getfile": self._get_file,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
        }
        self.reset()

    # ----------------------------------------------------------------- lifecycle

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Listen on host:port (0 picks a free port) and return the base URL."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/_control/updates", self._ctl_updates)
        app.router.add_post("/_control/faults", self._ctl_faults)
        app.router.add_get("/_control/calls", self._ctl_calls)
        app.router.add_get("/_control/pending", self._ctl_pending)
        app.router.add_post("/_control/reset", self._ctl_reset)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        self._stopping = asyncio.Event()
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        """Wake delayed calls and long polls, then shut the server down."""
        self._stopping.set()
        self._wake_waiters()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Start on a free port."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop the server."""
        await self.stop()

    # ----------------------------------------------------------------- python API

    def reset(self) -> None:
        """Forget calls, updates, faults, messages, files and commands."""
        self._calls: list[JSONDict] = []
        self._seq = itertools.count(1)
        self._updates: list[JSONDict] = []
        self._next_update_id = 1
        self._faults: dict[str, deque[JSONDict]] = {}
        self._msg_ids: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], JSONDict] = {}
        self._chats: dict[int | str, JSONDict] = {}
        self._files: dict[str, tuple[bytes, str]] = {}
        self._file_seq = itertools.count(1)
        self._commands: list[Any] = []
        self.flood.reset()
        self._wake_waiters()

    def add_updates(self, updates: list[JSONDict]) -> list[int]:
        """Queue Update dicts for getUpdates; returns their update_ids (assigned if missing)."""
        ids: list[int] = []
        for raw in updates:
            update = copy.deepcopy(raw)
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
            self._note_update(update)
            self._updates.append(update)
            ids.append(update["update_id"])
        self._wake_waiters()
        return ids

    def add_faults(self, faults: list[JSONDict]) -> None:
        """Queue faults; each is consumed by the next call of its method (FIFO per method)."""
        for fault in faults:
            method = str(fault.get("method", "*")).lower()
            self._faults.setdefault(method, deque()).append(dict(fault))

    def calls(self, method: str | None = None) -> list[JSONDict]:
        """Recorded calls in arrival order, optionally only those of one method."""
        if method is None:
            return list(self._calls)
        wanted = method.lower()
        return [c for c in self._calls if c["method"].lower() == wanted]

    def pending(self) -> int:
        """Number of queued updates not yet confirmed by an offset."""
        return len(self._updates)

    @property
    def limit_refusals(self) -> int:
        """How many calls the flood limits refused with 429 (injected 429 faults are not counted)."""
        return self.flood.refusals

    @property
    def limit_refusals_by(self) -> dict[str, int]:
        """Refusals by the limit that was exceeded: ``overall`` or ``group``."""
        return dict(self.flood.refusals_by)

    def sent_messages(self, chat_id: int | str | None = None) -> list[JSONDict]:
        """Messages currently stored as sent by the bot (after edits and deletions)."""
        return [m for (cid, _), m in self._messages.items() if chat_id is None or cid == chat_id]

    async def wait_for_call(self, method: str, count: int = 1, timeout: float = 5.0) -> list[JSONDict]:
        """Wait until at least `count` calls of `method` were received; returns those calls."""
        deadline = time.monotonic() + timeout
        while len(found := self.calls(method)) < count:
            if time.monotonic() > deadline:
                msg = f"expected {count} {method} call(s), got {len(found)}"
                raise TimeoutError(msg)
            await asyncio.sleep(0.01)
        return found

    # ----------------------------------------------------------------- internals

    def _wake_waiters(self) -> None:
        """Resolve the futures of all long polls waiting for updates."""
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()

    def _note_update(self, update: JSONDict) -> None:
        """Remember chats and bump per-chat message ids past messages in an injected update."""
        for key in UPDATE_MESSAGE_KEYS:
            msg = update.get(key)
            if isinstance(msg, dict) and isinstance(msg.get("chat"), dict):
                chat = msg["chat"]
                self._chats[chat["id"]] = chat
                mid = msg.get("message_id")
                if isinstance(mid, int) and mid > 0:
                    self._msg_ids[chat["id"]] = max(self._msg_ids.get(chat["id"], 0), mid)
                elif mid in (None, 0):
                    msg["message_id"] = self._next_message_id(chat["id"])

    def _take_fault(self, method: str) -> JSONDict | None:
        """Pop the next fault for a method (falling back to wildcard faults)."""
        for key in (method.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return None

    def _bot_user(self, token: str) -> JSONDict:
        """The User object of the bot."""
        return {
            "id": bot_id_from_token(token),
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _chat(self, chat_id: Any) -> JSONDict:
        """A Chat object for an id: the one seen in updates, or a synthesised one."""
        if chat_id in self._chats:
            return dict(self._chats[chat_id])
        if isinstance(chat_id, int):
            if chat_id > 0:
                return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
            return {"id": chat_id, "type": "supergroup", "title": f"Test group {chat_id}"}
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            fake_id = -1_000_000_000_000 - zlib.crc32(chat_id.encode())
            return {"id": fake_id, "type": "channel", "title": chat_id[1:], "username": chat_id[1:]}
        raise ApiError(400, "Bad Request: chat not found")

    def _next_message_id(self, chat_id: int | str) -> int:
        """Allocate the next message id in a chat."""
        self._msg_ids[chat_id] = self._msg_ids.get(chat_id, 0) + 1
        return self._msg_ids[chat_id]

    def _new_message(self, token: str, params: JSONDict) -> JSONDict:
        """Create and store a bot message in params['chat_id'] with the common echoed fields."""
        if "chat_id" not in params:
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat = self._chat(params["chat_id"])
        msg: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "date": int(time.time()),
            "chat": chat,
            "from": self._bot_user(token),
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        if isinstance(params.get("message_thread_id"), int):
            msg["message_thread_id"] = params["message_thread_id"]
        reply_to = params.get("reply_to_message_id")
        if isinstance(params.get("reply_parameters"), dict):
            reply_to = params["reply_parameters"].get("message_id")
        if isinstance(reply_to, int):
            original = self._messages.get((chat["id"], reply_to))
            msg["reply_to_message"] = (
                copy.deepcopy(original)
                if original
                else {
                    "message_id": reply_to,
                    "date": int(time.time()),
                    "chat": chat,
                }
            )
            msg["reply_to_message"].pop("reply_to_message", None)
        self._messages[(chat["id"], msg["message_id"])] = msg
        return msg

    def _stored(self, chat_id: Any, message_id: Any) -> JSONDict | None:
        """A stored bot message, if chat and id are valid and known."""
        if not isinstance(message_id, int) or not isinstance(chat_id, int | str):
            return None
        return self._messages.get((chat_id, message_id))

    def _file_id_for(self, value: Any, files: dict[str, tuple[bytes, str]], kind: str) -> str:
        """A file_id string for a send parameter: the given file_id, or a new one for an upload."""
        if isinstance(value, str) and value.startswith("attach://"):
            data, filename = files.get(value[len("attach://") :], (b"", "upload"))
            file_id = f"fake-{kind}-{next(self._file_seq)}"
            self._files[file_id] = (data, filename)
            return file_id
        if isinstance(value, str) and value:
            return value
        raise ApiError(400, f"Bad Request: there is no {kind} in the request")

    # ----------------------------------------------------------------- HTTP: API

    async def _read_params(self, request: web.Request) -> tuple[JSONDict, dict[str, tuple[bytes, str]]]:
        """Read query, form/multipart or JSON parameters, decode them and collect uploaded files."""
        raw: JSONDict = dict(request.query)
        files: dict[str, tuple[bytes, str]] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: JSON body must be an object")
                raw.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, FileField):
                        files[key] = (value.file.read(), value.filename)
                    else:
                        raw[key] = value
        params = {key: decode_value(key, value) for key, value in raw.items()}
        if files:
            params["_files"] = {key: {"filename": name, "size": len(data)} for key, (data, name) in files.items()}
        return params, files

    async def _api(self, request: web.Request) -> web.Response:
        """Dispatch one Bot API call: record it, apply any fault, answer."""
        token = request.match_info["token"]
        method = request.match_info["method"]
        try:
            params, files = await self._read_params(request)
        except (ValueError, ApiError) as exc:
            desc = exc.description if isinstance(exc, ApiError) else "Bad Request: can't parse body"
            self._record(method, {}, 400)
            return web.json_response(error_body(400, desc), status=400)

        fault = self._take_fault(method)
        status = int(fault.get("status", 200)) if fault else 200
        record = self._record(method, params, status)
        if fault and fault.get("delay"):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=float(fault["delay"]))
            if self._stopping.is_set():
                record["status"] = 503
                return web.json_response(error_body(503, "Service Unavailable: fake server stopping"), status=503)
        if fault and status != 200:
            err = fault_error(fault)
            return web.json_response(error_body(err.status, err.description, err.parameters), status=err.status)

        # Strict like Telegram: malformed HTML, over-long text or caption, bad buttons are a 400 here too.
        canonical = {m.lower(): m for m in STRICT_METHODS}.get(method.lower())
        refusal = telegram_refusal(canonical, params) if canonical else None
        if refusal is not None:
            record["status"] = 400
            return web.json_response(error_body(400, refusal), status=400)
        counted: list[float] = []
        if self.limits and method.lower() in SENDING_METHODS:
            count = self._message_count(method, params)
            flood = self.flood.check(params.get("chat_id"), count)
            if flood is not None:
                which, retry_after = flood
                self.flood.refuse(which)
                record["status"] = 429
                record["refused"] = which
                desc = f"Too Many Requests: retry after {retry_after}"
                return web.json_response(error_body(429, desc, {"retry_after": retry_after}), status=429)
            # Counted before the handler runs so a concurrent call sees it; given back if the call fails.
            counted = self.flood.take(params.get("chat_id"), count)
        handler = self._handlers.get(method.lower())
        try:
            # handlers see uploaded bytes under "_uploads"; the recorded params stay JSON-able
            result = await handler(token, {**params, "_uploads": files}) if handler else True
        except ApiError as err:
            self.flood.give_back(params.get("chat_id"), counted)
            record["status"] = err.status
            return web.json_response(error_body(err.status, err.description, err.parameters), status=err.status)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _message_count(method: str, params: JSONDict) -> int:
        # An album is as many messages as it has items.
        media = params.get("media")
        if method.lower() == "sendmediagroup" and isinstance(media, list) and media:
            return len(media)
        return 1

    def _record(self, method: str, params: JSONDict, status: int) -> JSONDict:
        """Append a call record and return it (status may be updated later)."""
        record: JSONDict = {
            "seq": next(self._seq),
            "method": method,
            "params": params,
            "status": status,
            "t": time.time(),
        }
        self._calls.append(record)
        return record

    # ----------------------------------------------------------------- method handlers

    async def _get_me(self, token: str, params: JSONDict) -> JSONDict:
        """getMe."""
        return {**self._bot_user(token), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}  # fmt: skip

    async def _get_webhook_info(self, token: str, params: JSONDict) -> JSONDict:
        """getWebhookInfo: never a webhook."""
        return {"url": "", "has_custom_certificate": False, "pending_update_count": self.pending()}

    async def _get_updates(self, token: str, params: JSONDict) -> list[JSONDict]:
        """getUpdates: confirm by offset, then long-poll up to `timeout` seconds for updates."""
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        deadline = time.monotonic() + timeout
        while not self._updates and not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.add(fut)
            try:
                await asyncio.wait({fut}, timeout=remaining)
            finally:
                self._waiters.discard(fut)
        return copy.deepcopy(self._updates[:limit])

    async def _send_message(self, token: str, params: JSONDict) -> JSONDict:
        """sendMessage."""
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "Bad Request: message text is empty")
        msg = self._new_message(token, params)
        msg["text"] = text
        if isinstance(params.get("entities"), list):
            msg["entities"] = params["entities"]
        return msg

    def _add_caption(self, msg: JSONDict, params: JSONDict) -> None:
        """Echo caption and caption_entities into a message."""
        if isinstance(params.get("caption"), str) and params["caption"]:
            msg["caption"] = params["caption"]
            if isinstance(params.get("caption_entities"), list):
                msg["caption_entities"] = params["caption_entities"]

    async def _send_photo(self, token: str, params: JSONDict) -> JSONDict:
        """sendPhoto: a Message with one PhotoSize carrying the file_id."""
        file_id = self._file_id_for(params.get("photo"), params["_uploads"], "photo")
        msg = self._new_message(token, params)
        msg["photo"] = [self._photo_size(file_id)]
        self._add_caption(msg, params)
        return msg

    def _photo_size(self, file_id: str) -> JSONDict:
        """A PhotoSize for a file_id."""
        size = len(self._files[file_id][0]) if file_id in self._files else 54_321
        unique = f"u{zlib.crc32(file_id.encode()):08x}"
        return {"file_id": file_id, "file_unique_id": unique, "width": 1280, "height": 960, "file_size": size}

    async def _send_media(self, token: str, params: JSONDict) -> JSONDict:
        """sendDocument / sendVideo / sendAudio / ...: a Message carrying the media object."""
        kind = next(k for k in MEDIA_EXTRA if k in params)
        file_id = self._file_id_for(params.get(kind), params["_uploads"], kind)
        msg = self._new_message(token, params)
        unique = f"u{zlib.crc32(file_id.encode()):08x}"
        msg[kind] = {"file_id": file_id, "file_unique_id": unique, **MEDIA_EXTRA[kind]}
        self._add_caption(msg, params)
        return msg

    async def _send_location(self, token: str, params: JSONDict) -> JSONDict:
        """sendLocation."""
        msg = self._new_message(token, params)
        msg["location"] = {"latitude": float(params["latitude"]), "longitude": float(params["longitude"])}
        return msg

    async def _send_media_group(self, token: str, params: JSONDict) -> list[JSONDict]:
        """sendMediaGroup: photos and documents are supported."""
        media = params.get("media")
        if not isinstance(media, list) or not media:
            raise ApiError(400, "Bad Request: media is empty")
        group_id = str(next(self._file_seq))
        out: list[JSONDict] = []
        for item in media:
            kind = item.get("type", "photo")
            file_id = self._file_id_for(item.get("media"), params["_uploads"], kind)
            msg = self._new_message(token, params)
            msg["media_group_id"] = group_id
            if kind == "photo":
                msg["photo"] = [self._photo_size(file_id)]
            else:
                unique = f"u{zlib.crc32(file_id.encode()):08x}"
                msg[kind] = {"file_id": file_id, "file_unique_id": unique, **MEDIA_EXTRA.get(kind, {})}
            self._add_caption(msg, item)
            out.append(msg)
        return out

    async def _copy_message(self, token: str, params: JSONDict) -> JSONDict:
        """copyMessage: returns a MessageId; the copy is stored when the source is known."""
        source = self._stored(params.get("from_chat_id"), params.get("message_id"))
        msg = self._new_message(token, params)
        if source:
            for key in ("text", "entities", "photo", "caption", "document", "location"):
                if key in source:
                    msg[key] = copy.deepcopy(source[key])
        if isinstance(params.get("caption"), str):
            msg["caption"] = params["caption"]
        return {"message_id": msg["message_id"]}

    async def _forward_message(self, token: str, params: JSONDict) -> JSONDict:
        """forwardMessage: a Message with the source content when known."""
        source = self._stored(params.get("from_chat_id"), params.get("message_id"))
        msg = self._new_message(token, params)
        for key in ("text", "entities", "photo", "caption", "document", "location"):
            if source and key in source:
                msg[key] = copy.deepcopy(source[key])
        msg.setdefault("text", "(forwarded message)")
        return msg

    async def _edit_message(self, token: str, params: JSONDict) -> JSONDict | bool:
        """editMessageText / editMessageCaption / editMessageReplyMarkup."""
        if params.get("inline_message_id"):
            return True
        if "chat_id" not in params or not isinstance(params.get("message_id"), int):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        chat = self._chat(params["chat_id"])
        key = (chat["id"], params["message_id"])
        known = key in self._messages
        msg = self._messages.get(key) or {
            "message_id": params["message_id"],
            "date": int(time.time()),
            "chat": chat,
            "from": self._bot_user(token),
        }
        before = copy.deepcopy(msg)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        else:
            msg.pop("reply_markup", None)  # Telegram drops the keyboard when none is given
        if "text" in params:
            if not params["text"]:
                raise ApiError(400, "Bad Request: message text is empty")
            msg["text"] = params["text"]
            msg.pop("entities", None)
            if isinstance(params.get("entities"), list):
                msg["entities"] = params["entities"]
        if "caption" in params:
            msg["caption"] = params["caption"]
        if known and msg == before:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup"
                " are exactly the same as a current content and reply markup of the message",
            )
        msg["edit_date"] = int(time.time())
        self._messages[key] = msg
        return copy.deepcopy(msg)

    async def _delete_message(self, token: str, params: JSONDict) -> bool:
        """deleteMessage."""
        chat = self._chat(params.get("chat_id"))
        if isinstance(params.get("message_id"), int):
            self._messages.pop((chat["id"], params["message_id"]), None)
        return True

    async def _get_chat(self, token: str, params: JSONDict) -> JSONDict:
        """getChat: a ChatFullInfo."""
        chat = self._chat(params.get("chat_id"))
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"), False
        )
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    async def _get_file(self, token: str, params: JSONDict) -> JSONDict:
        """getFile: a File with a download path under /file/bot{token}/."""
        file_id = params.get("file_id")
        if not isinstance(file_id, str) or not file_id:
            raise ApiError(400, "Bad Request: invalid file_id")
        data = self._files.get(file_id, (PLACEHOLDER_BYTES, "photo.jpg"))[0]
        unique = f"u{zlib.crc32(file_id.encode()):08x}"
        return {"file_id": file_id, "file_unique_id": unique, "file_size": len(data), "file_path": f"files/{file_id}"}

    async def _set_my_commands(self, token: str, params: JSONDict) -> bool:
        """setMyCommands: remembered for getMyCommands."""
        self._commands = params.get("commands") or []
        return True

    async def _get_my_commands(self, token: str, params: JSONDict) -> list[Any]:
        """getMyCommands."""
        return list(self._commands)

    # ----------------------------------------------------------------- HTTP: files & control

    async def _download(self, request: web.Request) -> web.Response:
        """Serve an uploaded file's bytes (or a placeholder) for a getFile path."""
        path = request.match_info["path"]
        file_id = path.split("/", 1)[1] if path.startswith("files/") else path
        data = self._files.get(file_id, (PLACEHOLDER_BYTES, "photo.jpg"))[0]
        return web.Response(body=data, content_type="application/octet-stream")

    async def _ctl_updates(self, request: web.Request) -> web.Response:
        """POST /_control/updates: queue a JSON list of updates."""
        body = await request.json()
        if not isinstance(body, list):
            body = [body]
        return web.json_response({"ok": True, "update_ids": self.add_updates(body)})

    async def _ctl_faults(self, request: web.Request) -> web.Response:
        """POST /_control/faults: queue a JSON list of faults."""
        body = await request.json()
        if not isinstance(body, list):
            body = [body]
        self.add_faults(body)
        return web.json_response({"ok": True, "queued": len(body)})

    async def _ctl_calls(self, request: web.Request) -> web.Response:
        """GET /_control/calls: the recorded calls."""
        return web.json_response(self.calls(request.query.get("method")))

    async def _ctl_pending(self, request: web.Request) -> web.Response:
        """GET /_control/pending: the number of queued, unconfirmed updates."""
        return web.json_response(self.pending())

    async def _ctl_reset(self, request: web.Request) -> web.Response:
        """POST /_control/reset: clear all state."""
        self.reset()
        return web.json_response({"ok": True})


async def _serve(host: str, port: int, limits: bool = False) -> None:
    """Run the fake until cancelled."""
    fake = FakeBotAPI(limits=limits)
    url = await fake.start(port=port, host=host)
    print(url + ("  (flood limits on: 30 messages/s overall, 20/min per group)" if limits else ""), flush=True)
    print(
        f"  TelegramAPIServer.from_base({url!r}); control: {url}/_control/updates|faults|calls|pending|reset",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: serve the fake Bot API until interrupted."""
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server for gridbot development")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--limits", action="store_true", help="refuse with 429 beyond 30 messages/s overall or 20/min to one group"
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.limits))


if __name__ == "__main__":
    main()
