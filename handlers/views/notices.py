"""Notices on Telegram: whom an audience means here, which chat, which post to edit, what it looks like.

The domain says "tell the group of unit QH-01-02 that case 7 was claimed"; this module finds that unit's group
(or the nearest group up its line), renders the notice in the group's language, and writes an outbox row —
a new post, an edit of the post that shows the case, or nothing if there is nobody to tell — in the same
transaction as the change.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from domain.kernel.notices import Audience, AudienceKind, Notice, PostMode
from domain.kernel.time import Clock
from domain.services import Services
from handlers.views import render
from handlers.views.audience import TELEGRAM, Recipient, private_chat
from handlers.views.messages import TgMessage

__all__ = ["TELEGRAM", "Delivery", "TelegramNotices", "origin", "private_chat"]
# Edits of posts that change often (an activity's seats) wait this long and merge into one: a burst of
# sign-ups must not run into Telegram's ~20 messages a minute per group.
DEBOUNCED = {"activity.card": timedelta(seconds=10)}
# Bulk messages wait behind every chat's ordinary ones (a broadcast must not hold up case messages).
BULK = {"broadcast.message"}


class Delivery(Protocol):
    """Where rendered messages go (the outbox) and which message shows which subject in a chat."""

    async def add(
        self,
        chat_id: int,
        payload: dict[str, Any],
        edit_of: int | None = None,
        not_before: Any = None,
        tag: str | None = None,
        coalesce: bool = False,
        priority: int = 0,
    ) -> int: ...

    async def withdraw(self, tag: str) -> int: ...

    async def post_of(self, kind: str, subject_id: int, chat_id: int) -> int | None: ...

    async def set_post(self, kind: str, subject_id: int, chat_id: int, outbox_id: int) -> None: ...

    async def forget_post(self, kind: str, subject_id: int, chat_id: int) -> None: ...


def origin(chat_id: int, message_id: int) -> str:
    """An opaque reference to a message someone sent, for a notice to answer under it."""
    return f"{TELEGRAM}:{chat_id}:{message_id}"


def _origin_message(ref: str | None, chat_id: int) -> int | None:
    if not ref:
        return None
    parts = ref.split(":")
    if len(parts) == 3 and parts[0] == TELEGRAM and parts[1] == str(chat_id) and parts[2].isdigit():
        return int(parts[2])
    return None


class TelegramNotices:
    """The domain's Notices, delivered through the outbox as Telegram messages."""

    def __init__(self, delivery: Delivery, group_locale: str, clock: Clock, bot_username: str | None = None) -> None:
        self.delivery = delivery
        self.group_locale = group_locale
        self.clock = clock
        self.bot_username = bot_username
        self.services: Services | None = None  # set once the unit of work's services exist

    @property
    def svc(self) -> Services:
        """The services of this unit of work."""
        assert self.services is not None, "TelegramNotices used before its services were attached"
        return self.services

    async def withdraw(self, tag: str) -> None:
        """Withdraw scheduled messages with this tag."""
        await self.delivery.withdraw(tag)

    async def emit(self, notice: Notice) -> None:
        """Render and queue a notice for everyone its audience means."""
        recipients = await self.recipients(notice.audience, notice)
        if not recipients and notice.fallback is not None:
            recipients = [
                Recipient(r.chat_id, r.locale, r.unit, r.above, True)
                for r in await self.recipients(notice.fallback, notice)
            ]
        for recipient in recipients:
            await self._deliver(notice, recipient)

    async def recipients(self, audience: Audience, notice: Notice) -> list[Recipient]:
        """The chats an audience means on Telegram (empty: nobody can be told)."""
        if audience.kind is AudienceKind.PERSON:
            person = await self.svc.people.get(audience.user_id)
            chat = private_chat(person) if person is not None else None
            return [Recipient(chat, person.locale)] if chat is not None and person is not None else []
        if audience.kind is AudienceKind.ADMINS:
            return [
                Recipient(chat, admin.locale)
                for admin in await self.svc.people.admin_users()
                if (chat := private_chat(admin)) is not None
            ]
        route = await self.svc.org.route(audience.key, TELEGRAM)
        if route.address is None:
            if notice.kind == "case.card" and notice.mode is PostMode.NEW:
                await self.emit(
                    Notice(
                        "admin.no_group",
                        Audience.admins(),
                        {"number": notice.params.get("number", ""), "unit": route.unit.name},
                    )
                )
            return []
        return [Recipient(int(route.address), self.group_locale, route.unit, route.above)]

    async def _deliver(self, notice: Notice, to: Recipient) -> None:
        subject = notice.subject
        post = None
        if subject is not None and (notice.mode in (PostMode.UPDATE, PostMode.CLOSE) or to.fallback):
            post = await self.delivery.post_of(subject.kind, subject.id, to.chat_id)
            if post is None and notice.mode is not PostMode.NONE:
                return  # the subject has no post in this chat (it went elsewhere, or was closed)
        message = await render.notice(notice, to, self)
        if message is None:
            return
        if to.fallback and post is not None:
            message.reply_to_outbox = post
        message.reply_to_message = message.reply_to_message or _origin_message(notice.in_reply_to, to.chat_id)
        if notice.mode in (PostMode.UPDATE, PostMode.CLOSE) and subject is not None and post is not None:
            delay = DEBOUNCED.get(notice.kind) if notice.mode is PostMode.UPDATE else None
            await self.delivery.add(
                to.chat_id,
                message.payload(),
                edit_of=post,
                not_before=self.clock() + delay if delay else None,
                coalesce=True,
            )
            if notice.mode is PostMode.CLOSE:
                await self.delivery.forget_post(subject.kind, subject.id, to.chat_id)
            return
        outbox_id = await self.delivery.add(
            to.chat_id,
            message.payload(),
            not_before=notice.not_before,
            tag=notice.tag,
            priority=1 if notice.kind in BULK else 0,  # a broadcast never holds up case messages
        )
        if subject is not None and notice.mode is PostMode.NEW:
            await self.delivery.set_post(subject.kind, subject.id, to.chat_id, outbox_id)

    async def send(self, message: TgMessage) -> int:
        """Queue a reply built by a handler (same transaction as the update)."""
        return await self.delivery.add(
            message.chat_id, message.payload(), not_before=message.not_before, tag=message.tag
        )
