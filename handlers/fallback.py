"""Everything no other handler took: a polite answer in private, silence in groups, nothing changes."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message

from domain.kernel.people import User
from handlers.context import Tg
from handlers.i18n import plain, t
from handlers.views.messages import TgMessage


def router() -> Router:
    """Fallback router; include it last."""
    r = Router(name="fallback")

    @r.edited_message(F.chat.type == ChatType.PRIVATE)
    async def edited(message: Message, user: User, tg: Tg) -> None:
        await tg.send(TgMessage(message.chat.id, t("errors.edited", user.locale)))

    @r.message(F.chat.type == ChatType.PRIVATE)
    async def unsupported(message: Message, user: User, tg: Tg) -> None:
        await tg.send(TgMessage(message.chat.id, t("errors.unsupported", user.locale)))

    @r.callback_query()
    async def stale(query: CallbackQuery, user: User, tg: Tg) -> None:
        tg.answer(plain("errors.stale_button", user.locale), alert=True)

    return r
