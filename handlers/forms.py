"""/newactivity: community staff create an activity step by step in private chat."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from domain.kernel.errors import Invalid
from domain.kernel.people import User
from domain.services import Services
from handlers.callbacks import FormCb
from handlers.context import Tg, reply_chat
from handlers.i18n import t
from handlers.views import volunteering as views
from handlers.views.reporting import main_menu


async def prompt(chat: int, svc: Services, user: User, tg: Tg, data: dict[str, object]) -> None:
    """Ask for the form's current step."""
    teams = await svc.activity_form.teams(user) if data.get("step") == "team" else []
    await tg.send(views.form_prompt(chat, data, teams, user.locale))


async def form_answer(chat: int, svc: Services, user: User, tg: Tg, text: str) -> None:
    """A typed answer to the form in progress."""
    data = await svc.activity_form.answer(user, text)
    await prompt(chat, svc, user, tg, data)


def router() -> Router:
    """Form router (fresh instance per dispatcher)."""
    r = Router(name="forms")

    @r.message(Command("newactivity"), F.chat.type == ChatType.PRIVATE)
    async def new_activity(message: Message, svc: Services, user: User, tg: Tg) -> None:
        options = await svc.activity_form.start(user)
        await tg.send(views.form_communities(message.chat.id, options, user.locale))

    @r.callback_query(FormCb.filter())
    async def form_button(query: CallbackQuery, callback_data: FormCb, svc: Services, user: User, tg: Tg) -> None:
        chat = reply_chat(query, user)
        a, v = callback_data.a, callback_data.v
        if a == "publish":
            act = await svc.activity_form.publish(user)
            text = t("form.published", user.locale, title=act.title, code=act.checkin_code, id=act.id)
            await tg.send(main_menu(chat, text, user.locale))
        elif a == "cancel":
            await svc.activity_form.cancel(user)
            await tg.send(main_menu(chat, t("form.cancelled", user.locale), user.locale))
        elif a in ("community", "points_rule", "team"):
            data = await svc.activity_form.choose(user, a, v)
            await prompt(chat, svc, user, tg, data)
        else:
            raise Invalid("stale_button")

    return r
