"""Volunteer activities in chat: the 志愿服务 menu, sign-up buttons (also on group posts), check-in/out, organisers."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from domain.kernel.awaiting import Awaited, Awaiting
from domain.kernel.errors import Invalid
from domain.kernel.people import User
from domain.services import Services
from handlers.callbacks import ActCb, bounded_id
from handlers.context import Tg, target_user
from handlers.group import GROUPS
from handlers.i18n import local_time, plain, t
from handlers.views import volunteering as views
from handlers.views.messages import TgMessage
from handlers.views.notices import private_chat
from handlers.views.reporting import main_menu


async def show_menu(chat: int, svc: Services, user: User, tg: Tg) -> None:
    """The 志愿服务 submenu."""
    await tg.send(views.volunteer_menu(chat, user.locale, await svc.volunteers.registered(user)))


async def take_part(chat: int, svc: Services, user: User, tg: Tg, text: str) -> None:
    """ "Sign me up for …": the named activity with its [报名] (registration first if needed), else the menu."""
    act = await svc.activities.named_in(text, user)
    if act is None:
        await show_menu(chat, svc, user, tg)
        return
    if not await svc.volunteers.registered(user):
        await tg.send(views.register_first(chat, act.title, user.locale))
    await tg.send(views.upcoming(chat, [act], user.locale))


async def show_upcoming(chat: int, svc: Services, user: User, tg: Tg) -> None:
    """Upcoming activities with seats left and a sign-up button each."""
    await tg.send(views.upcoming(chat, await svc.activities.upcoming(user), user.locale))


async def show_mine(chat: int, svc: Services, user: User, tg: Tg) -> None:
    """My activities, each with its buttons."""
    mine = await svc.activities.mine(user)
    if not mine:
        await tg.send(TgMessage(chat, t("act.mine_none", user.locale)))
        return
    for act, signup in mine:
        await tg.send(views.my_activity(chat, act, signup, user.locale))


async def complete_check(
    chat: int,
    svc: Services,
    user: User,
    tg: Tg,
    awaiting: Awaiting,
    code: str | None,
    lat: float | None,
    lon: float | None,
) -> None:
    """Finish an awaited check-in/out with the code or location the user just sent."""
    out = awaiting.kind is Awaited.CHECK_OUT
    act, signup = await svc.activities.check(user, awaiting.ref_id, code, lat, lon, out=out)
    await svc.conversation.done(user.id, awaiting.kind)
    if out:
        text = t("act.checked_out", user.locale, title=act.title, hours=signup.hours or 0.0)
    else:
        text = t("act.checked_in", user.locale, title=act.title, time=local_time(signup.checkin_at or svc.clock())[-5:])
    await tg.send(main_menu(chat, text, user.locale))


def _activity_args(command: CommandObject) -> tuple[int, list[str]]:
    args = (command.args or "").split()
    if not args:
        raise Invalid("organiser_usage")
    return bounded_id(args[0], "organiser_usage"), args[1:]


def router() -> Router:
    """Activities router (fresh instance per dispatcher)."""
    r = Router(name="activities")
    groups = Router(name="activities-groups")
    groups.message.filter(F.chat.type.in_(GROUPS))

    @groups.message(Command("attendance"))
    async def attendance(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        activity_id, _ = _activity_args(command)
        act, entries = await svc.organiser.attendance(user, activity_id)
        await tg.send(views.attendance(message.chat.id, act, entries, tg.group_locale))

    @groups.message(Command("noshow"))
    async def noshow(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        activity_id, rest = _activity_args(command)
        target = await target_user(message, rest[:1], svc)
        act = await svc.organiser.no_show(user, activity_id, target)
        text = t("act.noshow_done", tg.group_locale, who=target.display_name, title=act.title)
        await tg.send(TgMessage(message.chat.id, text))

    @groups.message(Command("backfill"))
    async def backfill(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        activity_id, rest = _activity_args(command)
        numbers = [
            x for x in rest if x.replace(".", "", 1).isascii() and x.replace(".", "", 1).isdigit() and len(x) <= 6
        ]
        if not numbers:
            raise Invalid("organiser_usage")
        target = await target_user(message, [x for x in rest if x.startswith("@")], svc)
        act = await svc.organiser.backfill(user, activity_id, target, float(numbers[0]))
        text = t("act.backfill_done", tg.group_locale, who=target.display_name, hours=numbers[0], title=act.title)
        await tg.send(TgMessage(message.chat.id, text))

    @groups.message(Command("fixtime"))
    async def fixtime(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        activity_id, rest = _activity_args(command)
        times = [x for x in rest if len(x) == 5 and x[2] == ":"]
        if len(times) != 2:
            raise Invalid("organiser_usage")
        target = await target_user(message, [x for x in rest if x.startswith("@")], svc)
        hours = await svc.organiser.correct_times(user, activity_id, target, times[0], times[1])
        text = t(
            "act.fixtime_done", tg.group_locale, who=target.display_name, hours=hours, start=times[0], end=times[1]
        )
        await tg.send(TgMessage(message.chat.id, text))

    r.include_router(groups)

    @r.callback_query(ActCb.filter())
    async def act_button(query: CallbackQuery, callback_data: ActCb, svc: Services, user: User, tg: Tg) -> None:
        a, loc = callback_data.a, user.locale
        private = query.message is not None and query.message.chat.type == ChatType.PRIVATE
        chat = query.message.chat.id if query.message and private else private_chat(user)
        if a == "join":
            act, signup = await svc.activities.join(user, callback_data.id)
            key = "act.joined" if signup.state == "confirmed" else "act.waitlisted"
            tg.answer(plain(key, loc, title=act.title), alert=True)
            if chat:
                await tg.send(TgMessage(chat, t(key, loc, title=act.title)))
            return
        if chat is None:
            raise Invalid("stale_button")
        if a == "list":
            await show_upcoming(chat, svc, user, tg)
        elif a == "mine":
            await show_mine(chat, svc, user, tg)
        elif a == "leave":
            act = await svc.activities.cancel(user, callback_data.id)
            await tg.send(TgMessage(chat, t("act.cancelled", loc, title=act.title)))
        elif a in ("in", "out"):
            await svc.activities.get(callback_data.id)
            await svc.conversation.expect(
                user.id, Awaited.CHECK_OUT if a == "out" else Awaited.CHECK_IN, callback_data.id
            )
            await tg.send(views.check_prompt(chat, a == "out", loc))
        else:
            raise Invalid("stale_button")

    return r
