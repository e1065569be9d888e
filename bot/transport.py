"""Turns an outbox envelope into one Bot API call."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.types import (
    BufferedInputFile,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)

from domain.kernel.media import MediaStore, stored_key
from domain.kernel.time import CHINA_TZ
from domain.points.certificate import render_certificate
from handlers.callbacks import pack
from handlers.text import CAPTION_MAX, TEXT_MAX, clip_html
from storage.outbox import Envelope, OutboxStore


class TargetNotReady(Exception):
    """An edit or reply whose target has not been delivered yet (or failed for good)."""

    def __init__(self, permanent: bool) -> None:
        super().__init__("target failed" if permanent else "target not sent yet")
        self.permanent = permanent


def _button(b: dict[str, Any]) -> InlineKeyboardButton:
    if b.get("url"):
        return InlineKeyboardButton(text=b["text"], url=b["url"])
    # Rows written before the views packed callback data kept (prefix, fields) instead.
    data = b["data"] if "data" in b else pack(b["cb"][0], b["cb"][1])
    return InlineKeyboardButton(text=b["text"], callback_data=data)


def inline_markup(rows: list[list[dict[str, Any]]]) -> InlineKeyboardMarkup:
    """Stored buttons → Telegram inline keyboard."""
    return InlineKeyboardMarkup(inline_keyboard=[[_button(b) for b in row] for row in rows])


def _markup(p: dict[str, Any]) -> Any:
    if p.get("buttons"):
        return inline_markup(p["buttons"])
    if p.get("reply_keyboard") is not None or p.get("request_location") or p.get("request_contact"):
        rows = [[KeyboardButton(text=x) for x in row] for row in p.get("reply_keyboard") or []]
        if p.get("request_location"):
            rows.insert(0, [KeyboardButton(text=p["request_location"], request_location=True)])
        if p.get("request_contact"):
            rows.insert(0, [KeyboardButton(text=p["request_contact"], request_contact=True)])
        return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True)
    if p.get("remove_keyboard"):
        return ReplyKeyboardRemove()
    if p.get("force_reply"):
        return ForceReply(selective=True)
    return None


def _clip(text: str, limit: int) -> str:
    # The views clip when they render; this keeps rows written before that within Telegram's limits too.
    return clip_html(text, limit)


async def _photo(ref: str, media: MediaStore | None) -> str | BufferedInputFile:
    # A photo Telegram already has goes by its file id; one the office keeps (an Open311 upload) as bytes.
    key = stored_key(ref)
    if key is None:
        return ref
    data = await media.get(key) if media is not None else None
    if data is None:
        raise TargetNotReady(permanent=False)  # the store is out of reach: tried again, never sent photo-less
    return BufferedInputFile(data, filename="photo.jpg")


async def deliver(
    bot: Bot,
    store: OutboxStore,
    env: Envelope,
    seal: Path | None = None,
    media: MediaStore | None = None,
    paid: bool = False,
) -> int | None:
    """Send or edit; returns the Telegram message id of a sent message. `paid`: Telegram's paid broadcast (up to
    1,000 messages a second, billed in Stars), for broadcasts when the office opted in."""
    allow_paid = True if paid else None
    p = env.payload
    if env.edit_of is not None:
        target = await store.target(env.edit_of)
        if target is None or target[0] == "failed":
            raise TargetNotReady(permanent=True)
        state, message_id, has_photo = target
        if state != "sent" or message_id is None:
            raise TargetNotReady(permanent=False)
        markup = inline_markup(p.get("buttons") or [])
        if has_photo:
            await bot.edit_message_caption(
                chat_id=env.chat_id,
                message_id=message_id,
                caption=_clip(p["text"], CAPTION_MAX),
                reply_markup=markup,
                parse_mode="HTML",
            )
        else:
            await bot.edit_message_text(
                chat_id=env.chat_id,
                message_id=message_id,
                text=_clip(p["text"], TEXT_MAX),
                reply_markup=markup,
                parse_mode="HTML",
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        return None
    reply_parameters = None
    if p.get("reply_to_message"):
        reply_parameters = ReplyParameters(message_id=int(p["reply_to_message"]), allow_sending_without_reply=True)
    if p.get("reply_to"):
        target = await store.target(int(p["reply_to"]))
        if target is not None and target[1] is not None:
            reply_parameters = ReplyParameters(message_id=target[1], allow_sending_without_reply=True)
    sent: Message
    if p.get("certificate"):
        cert = p["certificate"]
        png = render_certificate(
            str(cert["name"]),
            int(cert["level"]),
            float(cert["hours"]),
            datetime.now(CHINA_TZ).date(),
            str(cert.get("issuer") or ""),
            seal,
        )
        sent = await bot.send_photo(
            chat_id=env.chat_id,
            photo=BufferedInputFile(png, filename="certificate.png"),
            caption=_clip(p["text"], CAPTION_MAX),
            parse_mode="HTML",
            reply_parameters=reply_parameters,
        )
    elif p.get("photo"):
        sent = await bot.send_photo(
            chat_id=env.chat_id,
            photo=await _photo(str(p["photo"]), media),
            caption=_clip(p["text"], CAPTION_MAX),
            reply_markup=_markup(p),
            parse_mode="HTML",
            reply_parameters=reply_parameters,
            allow_paid_broadcast=allow_paid,
        )
    else:
        sent = await bot.send_message(
            chat_id=env.chat_id,
            text=_clip(p["text"], TEXT_MAX),
            reply_markup=_markup(p),
            parse_mode="HTML",
            reply_parameters=reply_parameters,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            allow_paid_broadcast=allow_paid,
        )
    return sent.message_id
