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

Standalone: ``python -m tests.fakes.bot_api --port 8081`` prints the base URL.

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


class FakeBotAPI:
    """In-memory emulation of the Telegram Bot API served over HTTP by aiohttp."""

    def __init__(self, *, username: str = BOT_USERNAME, first_name: str = BOT_FIRST_NAME) -> None:
        """Create an idle server; call :meth:`start` to listen."""
        self.username = username
        self.first_name = first_name
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
        handler = self._handlers.get(method.lower())
        try:
            # handlers see uploaded bytes under "_uploads"; the recorded params stay JSON-able
            result = await handler(token, {**params, "_uploads": files}) if handler else True
        except ApiError as err:
            record["status"] = err.status
            return web.json_response(error_body(err.status, err.description, err.parameters), status=err.status)
        return web.json_response({"ok": True, "result": result})

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


async def _serve(host: str, port: int) -> None:
    """Run the fake until cancelled."""
    fake = FakeBotAPI()
    url = await fake.start(port=port, host=host)
    print(url, flush=True)
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
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()
