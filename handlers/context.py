"""One update's Telegram side, handed to every handler: where replies go, callback answers, who is who."""

from __future__ import annotations

from aiogram.enums import MessageEntityType
from aiogram.types import CallbackQuery, Message
from aiogram.types import User as TgUser

from domain.kernel.errors import Invalid, NotFound
from domain.kernel.i18n import normalize_locale
from domain.kernel.people import User, UserRef
from domain.org.model import ChannelRef, Unit
from domain.services import Services
from handlers.views.messages import TgMessage
from handlers.views.notices import TELEGRAM, TelegramNotices, private_chat


def channel(chat_id: int) -> ChannelRef:
    """A Telegram group as the organisation context knows it."""
    return ChannelRef(TELEGRAM, str(chat_id))


def display_name(tg: TgUser) -> str:
    """How a Telegram user is named to others (staff only; reporters are never named in groups)."""
    return tg.full_name or (tg.username or str(tg.id))


async def domain_user(svc: Services, tg: TgUser, private: bool = False) -> User:
    """The one conversion of a Telegram user into a domain user (registered on first sight, refreshed after)."""
    return await svc.people.identify(
        UserRef(TELEGRAM, str(tg.id)),
        display_name(tg),
        tg.username,
        normalize_locale(tg.language_code) if tg.language_code else None,
        private,
    )


def reply_chat(query: CallbackQuery, user: User) -> int:
    """The chat a button press is answered in: the button's own chat, else the presser's private chat."""
    if query.message is not None:
        return query.message.chat.id
    return private_chat(user) or 0


class Tg:
    """What a handler needs besides the domain: the outbox for replies, callback answers, the group language."""

    def __init__(self, notices: TelegramNotices, group_locale: str, console_url: str | None = None) -> None:
        self.notices = notices
        self.group_locale = group_locale
        # Where the staff console is served (GRIDBOT_CONSOLE_URL), for the login links /console gives out.
        self.console_url = console_url
        # A button press is answered once, after the update committed (see the unit-of-work middleware).
        self.answer_text: str | None = None
        self.answer_alert = False

    @property
    def bot_username(self) -> str | None:
        """The bot's @username, when known."""
        return self.notices.bot_username

    async def send(self, message: TgMessage) -> int:
        """Queue a reply in this update's transaction."""
        return await self.notices.send(message)

    def answer(self, text: str | None = None, alert: bool = False) -> None:
        """The answer to the button press (a toast, or an alert the user must close)."""
        self.answer_text, self.answer_alert = text, alert

    async def group_unit(self, svc: Services, chat_id: int) -> Unit:
        """The unit a group is bound to, or NotFound("chat_not_bound")."""
        return await svc.org.unit_for(channel(chat_id))


async def target_user(message: Message, args: list[str], svc: Services) -> User:
    """The person a command is about: the replied-to author, a text mention, or @username."""
    if message.reply_to_message and message.reply_to_message.from_user:
        return await domain_user(svc, message.reply_to_message.from_user)
    for entity in message.entities or []:
        if entity.type == MessageEntityType.TEXT_MENTION and entity.user:
            return await domain_user(svc, entity.user)
    if args and args[0].startswith("@"):
        found = await svc.people.by_username(args[0][:64])
        if found is None:
            raise NotFound("staff_unknown_user", name=args[0][:64])
        return found
    raise Invalid("staff_usage")
