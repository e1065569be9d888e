"""Volunteer activities in chat: the 志愿服务 menu, sign-up buttons (also on group posts), check-in/out."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from domain.errors import Invalid
from domain.i18n import t
from domain.model import Button, OutMessage, User
from domain.render import local_time
from domain.services import Services
from handlers.callbacks import ActCb, bounded_id
from handlers.group import GROUPS, target_user

CHECK_KINDS = ("checkin", "checkout")


def volunteer_menu(chat_id: int, locale: str, registered: bool = False) -> OutMessage:
    """The 志愿服务 submenu (with 注册志愿者 for those not registered yet)."""
    return OutMessage(
        chat_id,
        t("act.menu", locale),
        buttons=[
            [
                Button(t("act.upcoming_button", locale), cb=("act", {"a": "list", "id": 0})),
                Button(t("act.mine_button", locale), cb=("act", {"a": "mine", "id": 0})),
            ],
            [Button(t("menu.points", locale), cb=("shop", {"a": "standing", "v": ""}))]
            + ([] if registered else [Button(t("vol.register_button", locale), cb=("vol", {"a": "reg", "v": ""}))]),
        ],
    )


async def show_upcoming(chat_id: int, svc: Services, user: User) -> None:
    """Upcoming activities with seats left and a sign-up button each."""
    acts = await svc.activities.upcoming(user)
    if not acts:
        await svc.send(OutMessage(chat_id, t("act.none", user.locale)))
        return
    text = "\n\n".join(svc.activities.describe(a, user.locale) for a in acts)
    buttons = [
        [
            Button(
                t("act.join_named", user.locale, title=a.title[:20], left=a.seats_left),
                cb=("act", {"a": "join", "id": a.id}),
            )
        ]
        for a in acts
    ]
    await svc.send(OutMessage(chat_id, t("act.upcoming_header", user.locale) + "\n\n" + text, buttons=buttons))


async def show_mine(chat_id: int, svc: Services, user: User) -> None:
    """My activities, with check-in / check-out / cancel buttons."""
    mine = await svc.activities.mine(user)
    if not mine:
        await svc.send(OutMessage(chat_id, t("act.mine_none", user.locale)))
        return
    for act, signup in mine:
        lines = [
            f"<b>{html.escape(act.title)}</b>",
            t("act.when", user.locale, start=local_time(act.start), end=local_time(act.end)[-5:]),
            t(f"act.state.{signup.state}", user.locale),
        ]
        if signup.hours is not None:
            lines.append(t("act.hours_done", user.locale, hours=f"{signup.hours:g}"))
        buttons: list[list[Button]] = []
        if signup.state in ("confirmed", "attended") and signup.checkout_at is None:
            buttons.append(
                [
                    Button(t("act.checkin_button", user.locale), cb=("act", {"a": "in", "id": act.id})),
                    Button(t("act.checkout_button", user.locale), cb=("act", {"a": "out", "id": act.id})),
                ]
            )
        if signup.state in ("confirmed", "waitlisted"):
            buttons.append([Button(t("act.cancel_button", user.locale), cb=("act", {"a": "leave", "id": act.id}))])
        await svc.send(OutMessage(chat_id, "\n".join(lines), buttons=buttons))


async def pending_check(svc: Services, user: User) -> tuple[str, int] | None:
    """(checkin|checkout, activity id) when the bot waits for this user's location or code."""
    got = await svc.ctx.repos.pending.get(user.id)
    return (got[0], got[1]) if got and got[0] in CHECK_KINDS else None


async def complete_check(
    chat_id: int, svc: Services, user: User, code: str | None, lat: float | None, lon: float | None
) -> None:
    """Finish a pending check-in/out with the code or location the user just sent."""
    pending = await pending_check(svc, user)
    assert pending is not None
    kind, activity_id = pending
    act, signup, _ = await svc.activities.check(user, activity_id, code, lat, lon, out=kind == "checkout")
    await svc.ctx.repos.pending.clear(user.id)
    if kind == "checkin":
        text = t(
            "act.checked_in",
            user.locale,
            title=html.escape(act.title),
            time=local_time(signup.checkin_at or svc.ctx.clock())[-5:],
        )
    else:
        text = t("act.checked_out", user.locale, title=html.escape(act.title), hours=f"{signup.hours or 0:g}")
    from handlers import ui

    await svc.send(ui.main_menu(chat_id, text, user.locale))


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
    async def attendance(message: Message, command: CommandObject, svc: Services, user: User) -> None:
        activity_id, _ = _activity_args(command)
        act, rows = await svc.organiser.attendance(user, activity_id)
        loc = svc.ctx.group_locale
        lines = [t("act.attendance_header", loc, title=html.escape(act.title), code=act.checkin_code)]
        for signup, person in rows:
            hours = t("act.hours_done", loc, hours=f"{signup.hours:g}") if signup.hours is not None else ""
            lines.append(
                f"· {html.escape(person.display_name if person else '?')} {t(f'act.state.{signup.state}', loc)} {hours}"
            )
        await svc.send(OutMessage(message.chat.id, "\n".join(lines)))

    @groups.message(Command("noshow"))
    async def noshow(message: Message, command: CommandObject, svc: Services, user: User) -> None:
        activity_id, rest = _activity_args(command)
        target = await target_user(message, rest[:1], svc)
        act = await svc.organiser.no_show(user, activity_id, target)
        await svc.send(
            OutMessage(
                message.chat.id,
                t(
                    "act.noshow_done",
                    svc.ctx.group_locale,
                    who=html.escape(target.display_name),
                    title=html.escape(act.title),
                ),
            )
        )

    @groups.message(Command("backfill"))
    async def backfill(message: Message, command: CommandObject, svc: Services, user: User) -> None:
        activity_id, rest = _activity_args(command)
        numbers = [x for x in rest if x.replace(".", "", 1).isdigit() and len(x) <= 6]
        if not numbers:
            raise Invalid("organiser_usage")
        target = await target_user(message, [x for x in rest if x.startswith("@")], svc)
        act = await svc.organiser.backfill(user, activity_id, target, float(numbers[0]))
        await svc.send(
            OutMessage(
                message.chat.id,
                t(
                    "act.backfill_done",
                    svc.ctx.group_locale,
                    who=html.escape(target.display_name),
                    hours=numbers[0],
                    title=html.escape(act.title),
                ),
            )
        )

    @groups.message(Command("fixtime"))
    async def fixtime(message: Message, command: CommandObject, svc: Services, user: User) -> None:
        activity_id, rest = _activity_args(command)
        times = [x for x in rest if len(x) == 5 and x[2] == ":"]
        if len(times) != 2:
            raise Invalid("organiser_usage")
        target = await target_user(message, [x for x in rest if x.startswith("@")], svc)
        hours = await svc.organiser.correct_times(user, activity_id, target, times[0], times[1])
        await svc.send(
            OutMessage(
                message.chat.id,
                t(
                    "act.fixtime_done",
                    svc.ctx.group_locale,
                    who=html.escape(target.display_name),
                    hours=f"{hours:g}",
                    start=times[0],
                    end=times[1],
                ),
            )
        )

    r.include_router(groups)

    @r.callback_query(ActCb.filter())
    async def act_button(query: CallbackQuery, callback_data: ActCb, svc: Services, user: User) -> None:
        a, loc = callback_data.a, user.locale
        private = query.message is not None and query.message.chat.type == ChatType.PRIVATE
        chat_id = query.message.chat.id if query.message and private else user.private_chat_id
        if a == "join":
            act, signup = await svc.activities.join(user, callback_data.id)
            key = "act.joined" if signup.state == "confirmed" else "act.waitlisted"
            await query.answer(t(key, loc, title=act.title), show_alert=True)
            if chat_id:
                await svc.send(OutMessage(chat_id, t(key, loc, title=html.escape(act.title))))
            return
        if chat_id is None:
            raise Invalid("stale_button")
        if a == "list":
            await show_upcoming(chat_id, svc, user)
        elif a == "mine":
            await show_mine(chat_id, svc, user)
        elif a == "leave":
            act = await svc.activities.cancel(user, callback_data.id)
            await svc.send(OutMessage(chat_id, t("act.cancelled", loc, title=html.escape(act.title))))
        elif a in ("in", "out"):
            kind = "checkin" if a == "in" else "checkout"
            await svc.ctx.repos.pending.set(user.id, kind, callback_data.id, None)
            await svc.send(
                OutMessage(
                    chat_id,
                    t(f"act.{kind}_ask", loc),
                    request_location=t("act.share_location", loc),
                    reply_keyboard=[[t("draft.cancel", loc)]],
                )
            )
        else:
            raise Invalid("stale_button")
        await query.answer()

    return r
