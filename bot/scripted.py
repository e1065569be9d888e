"""Drive the real dispatcher with real Update objects (demo, tests, bench): people, chats, taps, transcript."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiogram.types import Update

from bot.app import App
from bot.recording import Call, RecordingSession


@dataclass(frozen=True)
class Person:
    """A Telegram user in a script."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str = "zh-hans"

    def tg(self) -> dict[str, Any]:
        """As a Telegram User dict."""
        d: dict[str, Any] = {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }
        if self.username:
            d["username"] = self.username
        return d


@dataclass(frozen=True)
class Group:
    """A group chat in a script."""

    id: int
    title: str

    def tg(self) -> dict[str, Any]:
        """As a Telegram Chat dict."""
        return {"id": self.id, "type": "supergroup", "title": self.title}


@dataclass
class Line:
    """One line of the transcript."""

    chat_id: int
    who: str
    text: str


@dataclass
class Script:
    """Feeds updates as people and records what everyone saw."""

    app: App
    session: RecordingSession
    transcript: list[Line] = field(default_factory=list)
    chat_names: dict[int, str] = field(default_factory=dict)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _msg_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(50000))
    _seen_calls: int = 0
    _press_chat: int = 0

    def _chat(self, who: Person, group: Group | None) -> dict[str, Any]:
        if group is not None:
            self.chat_names.setdefault(group.id, f"群「{group.title}」")
            return group.tg()
        self.chat_names.setdefault(who.id, f"私聊：{who.first_name}")
        return {"id": who.id, "type": "private", "first_name": who.first_name}

    async def feed(self, update: dict[str, Any], drain: bool = True) -> None:
        """Feed one update dict through the dispatcher, then let the sender deliver."""
        update.setdefault("update_id", next(self._update_ids))
        await self.app.feeder.feed(Update.model_validate(update, context={"bot": self.app.bot}))
        if drain:
            await self.app.sender.drain()
            self._collect()

    def message_dict(
        self, who: Person, text: str | None = None, group: Group | None = None, **extra: Any
    ) -> dict[str, Any]:
        """A Message dict from a person (in private unless a group is given)."""
        msg: dict[str, Any] = {
            "message_id": next(self._msg_ids),
            "date": int(time.time()),
            "chat": self._chat(who, group),
            "from": who.tg(),
        }
        if text is not None:
            msg["text"] = text
            if text.startswith("/"):
                cmd = text.split()[0]
                msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(cmd)}]
        msg.update(extra)
        return msg

    async def say(self, who: Person, text: str, group: Group | None = None, **extra: Any) -> None:
        """Send a text message."""
        self._log(group.id if group else who.id, who.first_name, text)
        await self.feed({"message": self.message_dict(who, text, group, **extra)})

    async def photo(
        self, who: Person, file_id: str, caption: str | None = None, group: Group | None = None, **extra: Any
    ) -> None:
        """Send a photo (with optional caption)."""
        self._log(group.id if group else who.id, who.first_name, f"[照片] {caption or ''}".strip())
        msg = self.message_dict(who, None, group, **extra)
        msg["photo"] = [{"file_id": file_id, "file_unique_id": file_id[-8:], "width": 1280, "height": 960}]
        if caption:
            msg["caption"] = caption
        await self.feed({"message": msg})

    async def location(self, who: Person, lat: float, lon: float, title: str | None = None) -> None:
        """Share a location (a venue when a title is given)."""
        self._log(who.id, who.first_name, f"[位置] {title or ''} {lat:.5f},{lon:.5f}".strip())
        loc = {"latitude": lat, "longitude": lon}
        extra: dict[str, Any] = {"location": loc}
        if title:
            extra["venue"] = {"location": loc, "title": title, "address": ""}
        await self.feed({"message": self.message_dict(who, None, None, **extra)})

    def button(self, chat_id: int, label: str, on: str | None = None) -> tuple[int, str]:
        """(message id, callback data) of the newest button `label` in a chat, on a message containing `on`."""
        for call in reversed(self.session.calls):
            if call.chat_id != chat_id or not isinstance(call.params.get("reply_markup"), dict):
                continue
            body = str(call.params.get("text") or call.params.get("caption") or "")
            if on is not None and on not in body:
                continue
            for row in call.params["reply_markup"].get("inline_keyboard") or []:
                for b in row:
                    if label in b.get("text", "") and b.get("callback_data"):
                        mid = getattr(call.result, "message_id", None) or call.params.get("message_id")
                        return int(mid or 0), str(b["callback_data"])
        raise LookupError(f"no button {label!r} in chat {chat_id}")

    async def press(
        self, who: Person, label: str, group: Group | None = None, data: str | None = None, on: str | None = None
    ) -> None:
        """Tap an inline button (found by label, optionally on a message containing `on`, or given as raw data)."""
        chat = self._chat(who, group)
        mid, found = (0, data) if data is not None else self.button(chat["id"], label, on)
        self._log(chat["id"], who.first_name, f"[点按] {label}")
        self._press_chat = chat["id"]
        await self.feed(
            {
                "callback_query": {
                    "id": str(next(self._update_ids)),
                    "from": who.tg(),
                    "chat_instance": str(chat["id"]),
                    "data": found,
                    "message": {
                        "message_id": mid or 1,
                        "date": int(time.time()),
                        "chat": chat,
                        "from": {"id": 1, "is_bot": True, "first_name": "gridbot"},
                        "text": "…",
                    },
                }
            }
        )

    def _log(self, chat_id: int, who: str, text: str) -> None:
        self.transcript.append(Line(chat_id, who, text))

    def _collect(self) -> None:
        for call in self.session.calls[self._seen_calls :]:
            self._record_call(call)
        self._seen_calls = len(self.session.calls)

    def _record_call(self, call: Call) -> None:
        p = call.params
        buttons = ""
        markup = p.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            buttons = "  " + " ".join(f"[{b['text']}]" for row in markup["inline_keyboard"] for b in row)
        if call.method == "answerCallbackQuery":
            if p.get("text"):
                self.transcript.append(Line(self._press_chat, "gridbot", f"(按钮提示) {p['text']}"))
            return
        if call.chat_id is None:
            return
        if call.method == "sendPhoto":
            body = f"[照片] {p.get('caption', '')}"
        elif call.method.startswith("edit"):
            body = f"(更新消息 #{p.get('message_id')}) {p.get('caption') or p.get('text') or ''}"
        else:
            body = p.get("text", "")
        self.transcript.append(Line(call.chat_id, "gridbot", body + buttons))

    def render(self) -> str:
        """Transcript grouped chat by chat, in the order things happened."""
        import re

        tag = re.compile(r"<[^>]+>")
        out: list[str] = []
        for chat_id, name in self.chat_names.items():
            out.append(f"\n══════ {name} ══════")
            for ln in self.transcript:
                if ln.chat_id != chat_id:
                    continue
                arrow = "🤖" if ln.who == "gridbot" else "📌" if not ln.who else f"👤 {ln.who}"
                text = tag.sub("", ln.text).replace("\n", "\n      ")
                out.append(f"  {arrow}: {text}" if ln.who else f"  {arrow} {text}")
        return "\n".join(out)
