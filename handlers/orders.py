"""Service orders in chat: the resident's request, the [接单] button in the community group, done, rating."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from domain.kernel.errors import Invalid
from domain.kernel.people import User
from domain.services import Services
from handlers.callbacks import OrdCb, bounded_id
from handlers.context import Tg, reply_chat, target_user
from handlers.group import GROUPS
from handlers.i18n import plain, t
from handlers.views import volunteering as views
from handlers.views.messages import TgMessage
from handlers.views.reporting import main_menu


async def start_order(chat: int, svc: Services, user: User, tg: Tg, text: str) -> None:
    """A service request: keep it and ask when."""
    order = await svc.orders.start(user, text)
    await tg.send(views.order_when(chat, order.id, order.what, user.locale))


def router() -> Router:
    """Service order router (fresh instance per dispatcher)."""
    r = Router(name="orders")

    @r.message(Command("assign"), F.chat.type.in_(GROUPS))
    async def assign(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        args = (command.args or "").split()
        if not args:
            raise Invalid("assign_usage")
        order_id = bounded_id(args[0], "assign_usage")
        volunteer = await target_user(message, args[1:], svc)
        order = await svc.orders.assign(user, order_id, volunteer)
        text = t("order.assigned", tg.group_locale, id=order.id, who=volunteer.display_name)
        await tg.send(TgMessage(message.chat.id, text))

    @r.callback_query(OrdCb.filter())
    async def order_button(query: CallbackQuery, callback_data: OrdCb, svc: Services, user: User, tg: Tg) -> None:
        a, order_id, loc = callback_data.a, callback_data.id, user.locale
        chat = reply_chat(query, user)
        if a.startswith("w-"):
            await svc.orders.when(user, order_id, a[2:])
            await tg.send(views.order_community(chat, order_id, await svc.reports.communities(), loc))
        elif a.startswith("c-"):
            await svc.orders.post(user, order_id, a[2:])
            await tg.send(main_menu(chat, t("order.posted", loc, id=order_id), loc))
        elif a == "take":
            await svc.orders.take(user, order_id)
            tg.answer(plain("order.taken_ok", loc, id=order_id), alert=True)
        elif a == "done":
            await svc.orders.done(user, order_id)
            await tg.send(TgMessage(chat, t("order.done_ok", loc, id=order_id)))
        elif a in ("satisfied", "basic", "unsatisfied"):
            await svc.orders.rate(user, order_id, a)
            tg.answer(plain("rating.thanks", loc))
        else:
            raise Invalid("stale_button")

    return r
