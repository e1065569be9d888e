"""Volunteer registration in chat (contact button, name, community, team) and staff review in groups."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from domain.kernel.awaiting import Awaited
from domain.kernel.errors import Invalid
from domain.kernel.people import User
from domain.services import Services
from handlers.callbacks import VolCb, bounded_id
from handlers.context import Tg, reply_chat, target_user
from handlers.group import GROUPS
from handlers.i18n import plain, t
from handlers.views import volunteering as views
from handlers.views.messages import TgMessage
from handlers.views.reporting import main_menu


async def give_name(chat: int, svc: Services, user: User, tg: Tg, text: str) -> None:
    """Registration step 2: the real name; then the community buttons."""
    await svc.volunteers.name(user, text)
    await tg.send(views.ask_community(chat, await svc.reports.communities(), user.locale))


def router() -> Router:
    """Registration router (fresh instance per dispatcher)."""
    r = Router(name="volunteers")

    @r.message(F.contact, F.chat.type == ChatType.PRIVATE)
    async def contact(message: Message, svc: Services, user: User, tg: Tg) -> None:
        assert message.contact
        if await svc.conversation.awaits(user.id, Awaited.VOLUNTEER_PHONE) is None:
            await tg.send(TgMessage(message.chat.id, t("errors.unsupported", user.locale)))
            return
        contact_user = str(message.contact.user_id) if message.contact.user_id else None
        await svc.volunteers.contact(user, contact_user, message.contact.phone_number)
        await tg.send(TgMessage(message.chat.id, t("vol.ask_name", user.locale), remove_keyboard=True))

    @r.callback_query(VolCb.filter())
    async def vol_button(query: CallbackQuery, callback_data: VolCb, svc: Services, user: User, tg: Tg) -> None:
        a, v, loc = callback_data.a, callback_data.v, user.locale
        chat = reply_chat(query, user)
        if a == "reg":
            await svc.volunteers.start(user)
            await tg.send(views.ask_phone(chat, loc))
        elif a == "comm":
            _, teams = await svc.volunteers.community(user, v)
            if teams:
                await tg.send(views.ask_team(chat, teams, loc))
            else:
                await tg.send(main_menu(chat, t("vol.submitted", loc), loc))
        elif a == "team":
            await svc.volunteers.team(user, bounded_id(v) if v else None)
            await tg.send(main_menu(chat, t("vol.submitted", loc), loc))
        elif a in ("ok", "no"):
            vol = await svc.volunteers.decide(user, bounded_id(v), a == "ok")
            tg.answer(plain(f"vol.decided_{vol.state}", loc), alert=True)
        else:
            raise Invalid("stale_button")

    groups = Router(name="volunteers-groups")
    groups.message.filter(F.chat.type.in_(GROUPS))

    @groups.message(Command("volunteers"))
    async def listing(message: Message, svc: Services, user: User, tg: Tg) -> None:
        unit = await tg.group_unit(svc, message.chat.id)
        entries = await svc.volunteers.listing(user, unit.code)
        await tg.send(views.volunteer_list(message.chat.id, entries, tg.group_locale))

    @groups.message(Command("deactivate"))
    async def deactivate(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        unit = await tg.group_unit(svc, message.chat.id)
        target = await target_user(message, (command.args or "").split(), svc)
        vol = await svc.volunteers.deactivate(user, unit.code, target)
        text = t("vol.deactivated", tg.group_locale, name=vol.real_name or target.display_name)
        await tg.send(TgMessage(message.chat.id, text))

    @groups.message(Command("team"))
    async def team(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        unit = await tg.group_unit(svc, message.chat.id)
        name = (command.args or "").strip()
        leader = await target_user(message, [], svc) if message.reply_to_message else user
        created = await svc.volunteers.add_team(user, unit.code, name, leader)
        text = t("vol.team_added", tg.group_locale, name=created.name, leader=leader.display_name)
        await tg.send(TgMessage(message.chat.id, text))

    r.include_router(groups)
    return r
