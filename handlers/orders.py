"""Service orders in chat: the resident's request, the [接单] button in the community group, done, rating."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from domain.errors import Invalid
from domain.i18n import t
from domain.model import Button, OutMessage, User
from domain.orders import WHEN_CHOICES
from domain.services import Services
from handlers import ui
from handlers.callbacks import OrdCb, bounded_id
from handlers.group import GROUPS, target_user


async def start_order(chat_id: int, svc: Services, user: User, text: str) -> None:
    """A service request: keep it and ask when."""
    order = await svc.orders.start(user, text)
    buttons = [
        Button(t(f"order.when_choice.{w}", user.locale), cb=("ord", {"a": f"w-{w}", "id": order.id}))
        for w in WHEN_CHOICES
    ]
    await svc.send(
        OutMessage(
            chat_id, t("order.ask_when", user.locale, what=html.escape(order.what)), buttons=[buttons[:2], buttons[2:]]
        )
    )


def router() -> Router:
    """Service order router (fresh instance per dispatcher)."""
    r = Router(name="orders")

    @r.message(Command("assign"), F.chat.type.in_(GROUPS))
    async def assign(message: Message, command: CommandObject, svc: Services, user: User) -> None:
        args = (command.args or "").split()
        if not args:
            raise Invalid("assign_usage")
        order_id = bounded_id(args[0], "assign_usage")
        volunteer = await target_user(message, args[1:], svc)
        order = await svc.orders.assign(user, order_id, volunteer)
        await svc.send(
            OutMessage(
                message.chat.id,
                t("order.assigned", svc.ctx.group_locale, id=order.id, who=html.escape(volunteer.display_name)),
            )
        )

    @r.callback_query(OrdCb.filter())
    async def order_button(query: CallbackQuery, callback_data: OrdCb, svc: Services, user: User) -> None:
        a, order_id, loc = callback_data.a, callback_data.id, user.locale
        chat_id = ui.reply_chat(query, user)
        if a.startswith("w-"):
            await svc.orders.when(user, order_id, a[2:])
            communities = await svc.reports.units_for_choice(None)
            buttons = [Button(u.name, cb=("ord", {"a": f"c-{u.code}", "id": order_id})) for u in communities]
            await svc.send(
                OutMessage(
                    chat_id,
                    t("order.ask_community", loc),
                    buttons=[buttons[i : i + 2] for i in range(0, len(buttons), 2)],
                )
            )
        elif a.startswith("c-"):
            await svc.orders.post(user, order_id, a[2:])
            await svc.send(ui.main_menu(chat_id, t("order.posted", loc, id=order_id), loc))
        elif a == "take":
            await svc.orders.take(user, order_id)
            await query.answer(t("order.taken_ok", loc, id=order_id), show_alert=True)
            return
        elif a == "done":
            await svc.orders.done(user, order_id)
            await svc.send(OutMessage(chat_id, t("order.done_ok", loc, id=order_id)))
        elif a in ("satisfied", "basic", "unsatisfied"):
            await svc.orders.rate(user, order_id, a)
            await query.answer(t("rating.thanks", loc))
            return
        else:
            raise Invalid("stale_button")
        await query.answer()

    return r
