"""Volunteer registration in private chat, and its review by community staff in the group."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from domain.errors import Invalid
from domain.i18n import t
from domain.model import Button, OutMessage, User
from domain.services import Services
from domain.volunteers import masked_phone
from handlers import ui
from handlers.callbacks import VolCb, bounded_id
from handlers.group import GROUPS, target_user


async def ask_phone(chat_id: int, svc: Services, user: User) -> None:
    """Step 1: the phone number, only through Telegram's own contact button."""
    await svc.volunteers.start(user)
    await svc.send(
        OutMessage(
            chat_id,
            t("vol.ask_phone", user.locale),
            request_contact=t("vol.share_phone", user.locale),
            reply_keyboard=[[t("draft.cancel", user.locale)]],
        )
    )


async def registration_step(svc: Services, user: User) -> str | None:
    """The step the user's registration waits at, if any."""
    v = await svc.volunteers.get(user)
    return v.step if v is not None and v.state == "draft" else None


async def give_name(chat_id: int, svc: Services, user: User, text: str) -> None:
    """Step 2: the real name; then the community buttons."""
    await svc.volunteers.name(user, text)
    communities = await svc.reports.units_for_choice(None)
    buttons = [Button(u.name, cb=("vol", {"a": "comm", "v": u.code})) for u in communities]
    await svc.send(
        OutMessage(
            chat_id,
            t("vol.ask_community", user.locale),
            buttons=[buttons[i : i + 2] for i in range(0, len(buttons), 2)],
        )
    )


def router() -> Router:
    """Registration router (fresh instance per dispatcher)."""
    r = Router(name="volunteers")

    @r.message(F.contact, F.chat.type == ChatType.PRIVATE)
    async def contact(message: Message, svc: Services, user: User) -> None:
        assert message.contact
        if await registration_step(svc, user) != "phone":
            await svc.send(OutMessage(message.chat.id, t("errors.unsupported", user.locale)))
            return
        contact_user = str(message.contact.user_id) if message.contact.user_id else None
        await svc.volunteers.contact(user, contact_user, message.contact.phone_number)
        await svc.send(OutMessage(message.chat.id, t("vol.ask_name", user.locale), remove_keyboard=True))

    @r.callback_query(VolCb.filter())
    async def vol_button(query: CallbackQuery, callback_data: VolCb, svc: Services, user: User) -> None:
        a, v, loc = callback_data.a, callback_data.v, user.locale
        chat_id = ui.reply_chat(query, user)
        if a == "reg":
            await ask_phone(chat_id, svc, user)
        elif a == "comm":
            vol, teams = await svc.volunteers.community(user, v)
            if teams:
                buttons = [[Button(tm.name, cb=("vol", {"a": "team", "v": str(tm.id)}))] for tm in teams]
                buttons.append([Button(t("vol.no_team", loc), cb=("vol", {"a": "team", "v": ""}))])
                await svc.send(OutMessage(chat_id, t("vol.ask_team", loc), buttons=buttons))
            else:
                await svc.send(ui.main_menu(chat_id, t("vol.submitted", loc), loc))
        elif a == "team":
            await svc.volunteers.team(user, bounded_id(v) if v else None)
            await svc.send(ui.main_menu(chat_id, t("vol.submitted", loc), loc))
        elif a in ("ok", "no"):
            vol = await svc.volunteers.decide(user, bounded_id(v), a == "ok")
            await query.answer(t(f"vol.decided_{vol.state}", loc), show_alert=True)
            return
        else:
            raise Invalid("stale_button")
        await query.answer()

    groups = Router(name="volunteers-groups")
    groups.message.filter(F.chat.type.in_(GROUPS))

    @groups.message(Command("volunteers"))
    async def listing(message: Message, svc: Services, user: User) -> None:
        rows = await svc.volunteers.listing(user, message.chat.id)
        loc = svc.ctx.group_locale
        if not rows:
            await svc.send(OutMessage(message.chat.id, t("vol.list_empty", loc)))
            return
        lines = [t("vol.list_header", loc, n=len(rows))]
        lines += [
            t(
                "vol.list_line",
                loc,
                name=html.escape(vol.real_name or u.display_name),
                phone=masked_phone(vol.phone),
                state=t(f"vol.state.{vol.state}", loc),
            )
            for vol, u in rows
        ]
        buttons = [
            [Button(t("vol.approve_named", loc, name=vol.real_name or "?"), cb=("vol", {"a": "ok", "v": str(u.id)}))]
            for vol, u in rows
            if vol.state == "pending"
        ]
        await svc.send(OutMessage(message.chat.id, "\n".join(lines), buttons=buttons))

    @groups.message(Command("deactivate"))
    async def deactivate(message: Message, command: CommandObject, svc: Services, user: User) -> None:
        target = await target_user(message, (command.args or "").split(), svc)
        vol = await svc.volunteers.deactivate(user, message.chat.id, target)
        await svc.send(
            OutMessage(
                message.chat.id,
                t("vol.deactivated", svc.ctx.group_locale, name=html.escape(vol.real_name or target.display_name)),
            )
        )

    @groups.message(Command("team"))
    async def team(message: Message, command: CommandObject, svc: Services, user: User) -> None:
        name = (command.args or "").strip()
        leader = await target_user(message, [], svc) if message.reply_to_message else user
        created = await svc.volunteers.add_team(user, message.chat.id, name, leader)
        await svc.send(
            OutMessage(
                message.chat.id,
                t(
                    "vol.team_added",
                    svc.ctx.group_locale,
                    name=html.escape(created.name),
                    leader=html.escape(leader.display_name),
                ),
            )
        )

    r.include_router(groups)
    return r
