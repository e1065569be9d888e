"""A Telegram message as the outbox stores it: rendered HTML, buttons with packed callback data, keyboards."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handlers.text import BUTTON_TEXT_MAX, CAPTION_MAX, TEXT_MAX, clip_html, clip_plain


@dataclass(frozen=True)
class Button:
    """An inline button: packed callback data or a URL."""

    text: str
    data: str | None = None
    url: str | None = None


@dataclass
class TgMessage:
    """One message (or an edit of one) for one chat."""

    chat_id: int
    text: str
    photo: str | None = None
    buttons: list[list[Button]] = field(default_factory=list)
    reply_keyboard: list[list[str]] | None = None
    request_location: str | None = None
    request_contact: str | None = None
    remove_keyboard: bool = False
    force_reply: bool = False
    reply_to_outbox: int | None = None
    reply_to_message: int | None = None
    # Rendered at send time (a star certificate PNG): {"name", "level", "hours", "issuer"}.
    certificate: dict[str, object] | None = None
    not_before: datetime | None = None
    tag: str | None = None
    # A secret (a one-time login link): the outbox forgets the text once it is sent or refused.
    secret: bool = False

    def payload(self) -> dict[str, Any]:
        """What the outbox keeps: text clipped to Telegram's limit for its kind, only the fields that are set."""
        limit = CAPTION_MAX if self.photo or self.certificate else TEXT_MAX
        out: dict[str, Any] = {"text": clip_html(self.text, limit)}
        if self.photo:
            out["photo"] = self.photo
        if self.buttons:
            out["buttons"] = [
                [
                    {"text": clip_plain(b.text, BUTTON_TEXT_MAX), **({"url": b.url} if b.url else {"data": b.data})}
                    for b in row
                ]
                for row in self.buttons
            ]
        if self.reply_keyboard is not None:
            out["reply_keyboard"] = [[clip_plain(x, BUTTON_TEXT_MAX) for x in row] for row in self.reply_keyboard]
        if self.request_location:
            out["request_location"] = self.request_location
        if self.request_contact:
            out["request_contact"] = self.request_contact
        if self.remove_keyboard:
            out["remove_keyboard"] = True
        if self.force_reply:
            out["force_reply"] = True
        if self.reply_to_outbox:
            out["reply_to"] = self.reply_to_outbox
        if self.reply_to_message:
            out["reply_to_message"] = self.reply_to_message
        if self.certificate:
            out["certificate"] = self.certificate
        if self.secret:
            out["secret"] = True
        return out


def rows(buttons: list[Button], per_row: int) -> list[list[Button]]:
    """Buttons laid out `per_row` to a row."""
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
