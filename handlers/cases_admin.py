"""Staff commands on cases (提级, urgency, pause, merge, 回访, 吹哨), fixed days, broadcasts and the 三率."""

from __future__ import annotations

import re

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from domain.cases.model import Case
from domain.cases.stats import WorkerStats
from domain.kernel.errors import Forbidden, Invalid
from domain.kernel.people import User
from domain.kernel.time import local
from domain.org.model import Level
from domain.services import Services
from handlers.callbacks import BroadcastCb, CallCb, FixCb, WhistleCb
from handlers.context import Tg, reply_chat
from handlers.group import GROUPS
from handlers.i18n import duration, plain, t
from handlers.views.messages import Button, TgMessage, rows
from handlers.views.notices import private_chat
from handlers.views.render import body_text, stats_text

RATINGS = {"满意": "satisfied", "基本满意": "basic", "不满意": "unsatisfied"}
MONTH = re.compile(r"[0-9]{4}-[0-9]{2}", re.ASCII)


def _args(command: CommandObject, usage: str, least: int = 1) -> list[str]:
    args = (command.args or "").split()
    if len(args) < least:
        raise Invalid(usage)
    return args


async def _case(svc: Services, number: str) -> Case:
    return await svc.cases.by_number(number)


async def _working_group(svc: Services, tg: Tg, chat_id: int) -> None:
    # Staff act on cases from a bound working group of a street, community or grid (not a department's).
    unit = await tg.group_unit(svc, chat_id)
    if unit.level is Level.DEPARTMENT:
        raise Invalid("case_commands_not_here")


async def _act(svc: Services, tg: Tg, message: Message, number: str, action: str, user: User, value: str = "") -> Case:
    await _working_group(svc, tg, message.chat.id)
    case = await _case(svc, number)
    return await svc.cases.act(case.id, action, case.rev, user, value)


async def department_note(chat: int, svc: Services, user: User, tg: Tg, text: str, photo: str | None) -> None:
    """The awaited note of a department on a case."""
    case = await svc.whistle.note(user, text, photo)
    await tg.send(TgMessage(chat, t("call.note_done", user.locale, number=case.number)))


def router() -> Router:
    """Case administration router (fresh instance per dispatcher)."""
    r = Router(name="cases-admin")
    groups = Router(name="cases-admin-groups")
    groups.message.filter(F.chat.type.in_(GROUPS))

    @groups.message(Command("urgent", "normal"))
    async def urgency(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        args = _args(command, "urgency_usage", 2)
        action = "urgent" if command.command == "urgent" else "not_urgent"
        case = await _act(svc, tg, message, args[0], action, user, " ".join(args[1:]))
        await tg.send(TgMessage(message.chat.id, t("done.urgency", tg.group_locale, number=case.number)))

    @groups.message(Command("escalate"))
    async def escalate(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        args = _args(command, "escalate_usage", 2)
        case = await _act(svc, tg, message, args[0], "escalate", user, " ".join(args[1:]))
        await tg.send(TgMessage(message.chat.id, t("done.escalate", tg.group_locale, number=case.number)))

    @groups.message(Command("pause", "resume"))
    async def pause(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        args = _args(command, "pause_usage", 2 if command.command == "pause" else 1)
        case = await _act(svc, tg, message, args[0], command.command, user, " ".join(args[1:]))
        await tg.send(TgMessage(message.chat.id, t(f"done.{command.command}", tg.group_locale, number=case.number)))

    @groups.message(Command("urge", "takeover"))
    async def supervise(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        args = _args(command, f"{command.command}_usage", 1)
        case = await _act(svc, tg, message, args[0], command.command, user, " ".join(args[1:]))
        await tg.send(TgMessage(message.chat.id, t(f"done.{command.command}", tg.group_locale, number=case.number)))

    @groups.message(Command("merge"))
    async def merge(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        args = _args(command, "merge_usage", 2)
        original = await _case(svc, args[1])
        duplicate = await _act(svc, tg, message, args[0], "merge", user, str(original.id))
        text = t("done.merge", tg.group_locale, number=duplicate.number, into=original.number)
        await tg.send(TgMessage(message.chat.id, text))

    @groups.message(Command("followup"))
    async def follow_up(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        args = _args(command, "follow_up_usage", 2)
        verdict = RATINGS.get(args[1], args[1])
        case = await _act(svc, tg, message, args[0], "follow_up", user, " ".join([verdict, *args[2:]]))
        await tg.send(TgMessage(message.chat.id, t("done.followup", tg.group_locale, number=case.number)))

    @groups.message(Command("whistle"))
    async def whistle(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        args = _args(command, "whistle_usage", 2)
        note = " ".join(args[2:])
        case = await _case(svc, args[0])
        for code in args[1].split(","):
            case = await _act(svc, tg, message, case.number, "whistle", user, f"{code.strip()} {note}".strip())
        await tg.send(
            TgMessage(message.chat.id, t("call.called", tg.group_locale, department=args[1], number=case.number))
        )

    @groups.message(Command("override"))
    async def override(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        args = _args(command, "override_usage", 2)
        case = await _act(svc, tg, message, args[0], "override", user, " ".join(args[1:]))
        await tg.send(TgMessage(message.chat.id, t("done.override", tg.group_locale, number=case.number)))

    @groups.message(Command("stats"))
    async def stats(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        unit = await tg.group_unit(svc, message.chat.id)
        if not await svc.stats.may_see(user, unit.code):
            raise Forbidden("stats_forbidden")
        month = (command.args or "").strip() or local(svc.clock()).strftime("%Y-%m")
        if not MONTH.fullmatch(month) or not 2000 <= int(month[:4]) <= 2100 or not 1 <= int(month[5:]) <= 12:
            raise Invalid("stats_usage")
        if unit.level is Level.DEPARTMENT:
            # A department's (or property company's) own figures: the cases it was called to.
            body = await svc.stats.body(unit.code, month)
            await tg.send(TgMessage(message.chat.id, body_text(unit.name, month, body, tg.group_locale)))
            return
        totals, grids = await svc.stats.rates(unit, month)
        lines = [stats_text(totals, grids, month, tg.group_locale)]
        # Per-worker figures are for the levels above the grid: a grid's own group may hold 楼长 and volunteers.
        workers = await svc.stats.workers(unit, month) if unit.level is not Level.GRID else []
        if workers:
            lines.append(t("stats.workers", tg.group_locale))
            lines += [_worker_line(w, tg.group_locale) for w in workers[:20]]
        await tg.send(TgMessage(message.chat.id, "\n".join(lines)))

    @groups.message(Command("notice"))
    async def notice(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        unit = await tg.group_unit(svc, message.chat.id)
        src = message.reply_to_message
        photo = src.photo[-1].file_id if src is not None and src.photo else None
        text = (command.args or "").strip() or (src.caption or src.text or "" if src is not None else "")
        await svc.broadcasts.prepare(user, unit.code, text, photo)

    @groups.message(Command("fixedday"))
    async def fixed_day(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        raw = (command.args or "").strip()
        head, _, rest = raw.partition(" ")
        number, _, matters = rest.strip().partition(" ")
        if not head or not number.isascii() or not number.isdigit() or len(number) > 6:
            raise Invalid("fixed_day_usage")
        unit = await tg.group_unit(svc, message.chat.id)
        parts = [m for m in matters.replace(";", "；").split("；")]
        await svc.fixed_days.record(user, unit.code, head, int(number), parts)

    r.include_router(groups)

    @r.message(Command("mystats"), F.chat.type == ChatType.PRIVATE)
    async def my_stats(message: Message, svc: Services, user: User, tg: Tg) -> None:
        month = local(svc.clock()).strftime("%Y-%m")
        lines: list[str] = [t("stats.mine_header", user.locale, month=month)]
        for code in await svc.org.units_of(user):
            unit = await svc.org.get(code)
            lines += [
                _worker_line(w, user.locale) for w in await svc.stats.workers(unit, month) if w.user_id == user.id
            ]
        await tg.send(TgMessage(message.chat.id, "\n".join(lines)))

    @r.callback_query(WhistleCb.filter())
    async def whistle_button(query: CallbackQuery, callback_data: WhistleCb, svc: Services, user: User, tg: Tg) -> None:
        case = await svc.cases.get(callback_data.id)
        if callback_data.d:
            await svc.cases.act(case.id, "whistle", case.rev, user, callback_data.d)
            name = (await svc.org.get(callback_data.d)).name
            tg.answer(plain("call.called", user.locale, department=name, number=case.number))
            return
        await svc.cases.check(case.id, "whistle", case.rev, user)
        departments = await svc.whistle.departments()
        choices = [Button(d.name, WhistleCb(id=case.id, d=d.code).pack()) for d in departments]
        chat = reply_chat(query, user)
        await tg.send(
            TgMessage(chat, t("case.pick_department", tg.group_locale, number=case.number), buttons=rows(choices, 2))
        )

    @r.callback_query(CallCb.filter())
    async def call_button(query: CallbackQuery, callback_data: CallCb, svc: Services, user: User, tg: Tg) -> None:
        a, case_id, dept = callback_data.a, callback_data.id, callback_data.d
        case = await svc.cases.get(case_id)
        if a == "report_in":
            await svc.whistle.report_in(case_id, dept, user)
            tg.answer(plain("call.reported", user.locale, number=case.number))
        elif a == "note":
            await svc.whistle.ask_note(case_id, dept, user)
            private = private_chat(user)
            chat = private or reply_chat(query, user)
            await tg.send(TgMessage(chat, t("call.note_ask", user.locale, number=case.number), force_reply=not private))
        elif a == "done":
            await svc.whistle.done(case_id, dept, user)
            tg.answer(plain("call.done_ok", user.locale, number=case.number))
        else:
            raise Invalid("stale_button")

    @r.callback_query(FixCb.filter())
    async def file_matter(query: CallbackQuery, callback_data: FixCb, svc: Services, user: User, tg: Tg) -> None:
        text = await svc.fixed_days.file_matter(user, callback_data.id, callback_data.i)
        tg.answer(plain("fixed.filed", user.locale, text=text[:60]))

    @r.callback_query(BroadcastCb.filter())
    async def broadcast(query: CallbackQuery, callback_data: BroadcastCb, svc: Services, user: User, tg: Tg) -> None:
        if callback_data.a == "send":
            await svc.broadcasts.confirm(user, callback_data.id)
            tg.answer(plain("broadcast.sent", user.locale), alert=True)
        elif callback_data.a == "cancel":
            await svc.broadcasts.cancel(user, callback_data.id)
            tg.answer(plain("broadcast.cancelled", user.locale))
        else:
            raise Invalid("stale_button")

    return r


def _worker_line(w: WorkerStats, locale: str) -> str:
    ratings = "、".join(f"{plain(f'rating.{k}', locale)} {n}" for k, n in w.ratings.items()) or plain(
        "stats.none", locale
    )
    claim = (
        duration(w.median_claim_minutes, locale) if w.median_claim_minutes is not None else plain("stats.none", locale)
    )
    resolve = (
        duration(w.median_resolve_minutes, locale)
        if w.median_resolve_minutes is not None
        else plain("stats.none", locale)
    )
    on_time = f"{w.on_time_rate:.0%}" if w.on_time_rate is not None else plain("stats.none", locale)
    return t(
        "stats.worker_line",
        locale,
        name=w.name,
        claimed=w.claimed,
        resolved=w.resolved,
        on_time=on_time,
        claim=claim,
        resolve=resolve,
        ratings=ratings,
    )
