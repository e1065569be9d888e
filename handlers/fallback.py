"""Everything no other handler took: a polite answer in private, silence in groups, nothing changes."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message

from domain.i18n import t
from domain.model import OutMessage, User
from domain.services import Services


def router() -> Router:
    """Fallback router; include it last."""
    r = Router(name="fallback")

    @r.edited_message(F.chat.type == ChatType.PRIVATE)
    async def edited(message: Message, svc: Services, user: User) -> None:
        await svc.send(OutMessage(message.chat.id, t("errors.edited", user.locale)))

    @r.message(F.chat.type == ChatType.PRIVATE)
    async def unsupported(message: Message, svc: Services, user: User) -> None:
        await svc.send(OutMessage(message.chat.id, t("errors.unsupported", user.locale)))

    @r.callback_query()
    async def stale(query: CallbackQuery, user: User) -> None:
        await query.answer(t("errors.stale_button", user.locale), show_alert=True)

    return r
