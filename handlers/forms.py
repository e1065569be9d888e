"""/newactivity: community staff create an activity step by step in private chat."""

from __future__ import annotations

import html
from typing import Any

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from domain.activity_form import FIELDS
from domain.errors import Invalid
from domain.i18n import t
from domain.model import Button, OutMessage, User
from domain.services import Services
from handlers import ui
from handlers.callbacks import FormCb


async def prompt(chat_id: int, svc: Services, user: User, data: dict[str, Any]) -> None:
    """Ask for the form's current step (with buttons where the answer is a choice)."""
    loc, step = user.locale, data.get("step")
    if step == "points_rule":
        await svc.send(
            OutMessage(
                chat_id,
                t("form.ask.points_rule", loc),
                buttons=[
                    [
                        Button(t("form.rule_per_hour", loc), cb=("form", {"a": "points_rule", "v": "per_hour"})),
                        Button(t("form.rule_fixed", loc), cb=("form", {"a": "points_rule", "v": "fixed"})),
                    ]
                ],
            )
        )
    elif step == "team":
        teams = await svc.ctx.repos.volunteers.teams(str(data.get("community")))
        rows = [[Button(tm.name, cb=("form", {"a": "team", "v": tm.name}))] for tm in teams]
        rows.append([Button(t("form.no_team", loc), cb=("form", {"a": "team", "v": ""}))])
        await svc.send(OutMessage(chat_id, t("form.ask.team", loc), buttons=rows))
    elif step == "confirm":
        summary = "\n".join(f"{t(f'form.field.{k}', loc)}：{html.escape(str(data.get(k) or '-'))}" for k in FIELDS)
        await svc.send(
            OutMessage(
                chat_id,
                t("form.confirm", loc) + "\n" + summary,
                buttons=[
                    [
                        Button(t("form.publish", loc), cb=("form", {"a": "publish", "v": ""})),
                        Button(t("form.cancel", loc), cb=("form", {"a": "cancel", "v": ""})),
                    ]
                ],
            )
        )
    else:
        await svc.send(OutMessage(chat_id, t(f"form.ask.{step}", loc)))


async def form_answer(chat_id: int, svc: Services, user: User, text: str) -> bool:
    """Take a typed answer if a form is in progress; False when there is none."""
    if await svc.activity_form.form(user) is None:
        return False
    if text in ("/cancel", t("draft.cancel", user.locale)):
        await svc.activity_form.cancel(user)
        await svc.send(ui.main_menu(chat_id, t("form.cancelled", user.locale), user.locale))
        return True
    data = await svc.activity_form.answer(user, text)
    await prompt(chat_id, svc, user, data)
    return True


def router() -> Router:
    """Form router (fresh instance per dispatcher)."""
    r = Router(name="forms")

    @r.message(Command("newactivity"), F.chat.type == ChatType.PRIVATE)
    async def new_activity(message: Message, svc: Services, user: User) -> None:
        options = await svc.activity_form.start(user)
        buttons = [Button(u.name, cb=("form", {"a": "community", "v": u.code})) for u in options]
        await svc.send(
            OutMessage(
                message.chat.id,
                t("form.ask.community", user.locale),
                buttons=[buttons[i : i + 2] for i in range(0, len(buttons), 2)],
            )
        )

    @r.callback_query(FormCb.filter())
    async def form_button(query: CallbackQuery, callback_data: FormCb, svc: Services, user: User) -> None:
        chat_id = ui.reply_chat(query, user)
        a, v = callback_data.a, callback_data.v
        if a == "publish":
            act = await svc.activity_form.publish(user)
            await svc.send(
                ui.main_menu(
                    chat_id,
                    t("form.published", user.locale, title=html.escape(act.title), code=act.checkin_code, id=act.id),
                    user.locale,
                )
            )
        elif a == "cancel":
            await svc.activity_form.cancel(user)
            await svc.send(ui.main_menu(chat_id, t("form.cancelled", user.locale), user.locale))
        elif a in ("community", "points_rule", "team"):
            data = await svc.activity_form.choose(user, a, v)
            await prompt(chat_id, svc, user, data)
        else:
            raise Invalid("stale_button")
        await query.answer()

    return r
