"""Residents in chat: registering a home, building heads, 议事 (votes in private, staff commands in groups)."""

from __future__ import annotations

import re

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from domain.civic.assessment import quarter_label
from domain.civic.matters import MatterDraft
from domain.civic.model import Per, ScopeLevel
from domain.kernel.awaiting import Awaited
from domain.kernel.errors import Invalid
from domain.kernel.people import User
from domain.services import Services
from handlers.callbacks import AssessCb, HomeCb, MatterCb, bounded_id
from handlers.context import Tg, reply_chat, target_user
from handlers.group import GROUPS
from handlers.i18n import plain, t
from handlers.views import civic as views
from handlers.views.messages import TgMessage
from handlers.views.notices import private_chat
from handlers.views.reporting import main_menu

# What a line of /vote says, in either language (a line without a key is part of the text).
_KEYS = {
    "选项": "options", "options": "options", "范围": "scope", "scope": "scope", "天数": "days", "days": "days",
    "截止": "days", "法定": "quorum", "quorum": "quorum", "按户": "household", "per household": "household",
}  # fmt: skip
# How a role is named in /team add (either language).
ROLE_WORDS = {
    "党员": "party", "party": "party", "网格员": "grid", "grid": "grid", "物业": "steward", "管家": "steward",
    "steward": "steward", "楼栋长": "head", "head": "head", "志愿者": "volunteer", "volunteer": "volunteer",
}  # fmt: skip
_KEY_LINE = re.compile(r"^\s*([^:：]{1,14})\s*[:：]\s*(.*)$")
# A closing day: 2026-12-20, 12-20, 12月20日, 12/20.
_DATE = re.compile(r"(?:(?P<y>20\d\d)\s*[-/年.]\s*)?(?P<m>\d{1,2})\s*[-/月.]\s*(?P<d>\d{1,2})\s*[日号]?")
_BULLET = re.compile(r"^\s*(?:[-•·*]|\d{1,2}[.、)）])\s*")


def parse_matter(args: str) -> MatterDraft:
    """/vote's text: the first line is the title; `key: value` lines set options, scope, days, quorum."""
    lines = [line.strip() for line in args.strip().splitlines() if line.strip()]
    if not lines:
        raise Invalid("matter_usage")
    draft, body = MatterDraft(lines[0]), []
    for line in lines[1:]:
        if line.lower() in _KEYS:
            key, val = _KEYS[line.lower()], ""
        else:
            m = _KEY_LINE.match(line)
            key, val = (_KEYS.get(m.group(1).strip().lower(), ""), m.group(2).strip()) if m else ("", "")
        if key == "options":
            draft.options = [o for o in re.split(r"\s*[/／|｜、]\s*", val) if o]
        elif key == "scope":
            draft.scope = val
        elif key == "days" and (when := _DATE.search(val)):
            year, month, day = when.group("y"), when.group("m"), when.group("d")
            draft.closes_on = (int(month), int(day), int(year) if year else None)
        elif key in ("days", "quorum"):
            digits = re.sub(r"[^0-9]", "", val)
            if not digits or len(digits) > 4:
                raise Invalid("matter_usage")
            setattr(draft, "days" if key == "days" else "quorum_pct", int(digits))
        elif key == "household":
            draft.per = Per.HOUSEHOLD
        else:
            body.append(line)
    draft.body = "\n".join(body)
    return draft


def parse_decision(args: str) -> tuple[int, str, list[str]]:
    """/decide N text…: the decision, and its follow-up actions as bulleted lines."""
    head, _, rest = args.strip().partition("\n")
    first, _, text = head.strip().partition(" ")
    matter_id = bounded_id(first, "matter_decide_usage")
    decision, actions = [text.strip()] if text.strip() else [], []
    for line in rest.splitlines():
        if _BULLET.match(line):
            actions.append(_BULLET.sub("", line, count=1).strip())
        elif line.strip():
            decision.append(line.strip())
    return matter_id, "\n".join(decision), actions


async def show_homes(chat: int, svc: Services, user: User, tg: Tg) -> None:
    """My homes, and the registration button."""
    await tg.send(views.homes(chat, await svc.civic.homes.mine(user), await svc.civic.homes.headed(user), user.locale))


async def start_registration(chat: int, svc: Services, user: User, tg: Tg) -> None:
    """Step 1: the community."""
    choices = [(u.name, "comm", u.code) for u in await svc.reports.communities()]
    await tg.send(views.pick(chat, "civic.pick_community", choices, user.locale))


async def show_ballot(chat: int, svc: Services, user: User, tg: Tg, matter_id: int) -> None:
    """A matter's ballot in private chat."""
    ballot = await svc.civic.matters.ballot(user, matter_id)
    await tg.send(views.ballot(chat, ballot, await svc.civic.matters.card(ballot.matter), user.locale))


async def flat_reply(chat: int, svc: Services, user: User, tg: Tg, building: str, text: str) -> None:
    """The awaited 单元/室: the home is registered and sent for confirmation."""
    await svc.civic.homes.register(user, building, text)
    await svc.conversation.done(user.id)
    await tg.send(main_menu(chat, t("civic.registered", user.locale), user.locale))


async def proposal_reply(chat: int, svc: Services, user: User, tg: Tg, text: str) -> None:
    """The awaited proposal text."""
    matter = await svc.civic.matters.propose(user, text)
    await svc.conversation.done(user.id)
    await tg.send(main_menu(chat, t("civic.proposal_sent", user.locale, id=matter.id), user.locale))


async def answer_reply(chat: int, svc: Services, user: User, tg: Tg, matter_id: int, text: str) -> None:
    """The awaited reason a proposal is not put to a vote."""
    await svc.civic.matters.decline(user, matter_id, text)
    await svc.conversation.done(user.id)
    await tg.send(TgMessage(chat, t("civic.declined_ok", user.locale, id=matter_id)))


async def rating_step(chat: int, svc: Services, user: User, tg: Tg, round_id: int, index: int) -> None:
    """The next item to score, or the comment once every item has a score."""
    items = svc.rules.civic.plan.items
    if index < len(items):
        await tg.send(views.rating_item(chat, round_id, index, items[index].name(user.locale), len(items), user.locale))
        return
    await svc.conversation.expect(user.id, Awaited.RATING_COMMENT, round_id)
    await tg.send(views.rating_comment(chat, round_id, user.locale))


async def rating_done(chat: int, svc: Services, user: User, tg: Tg, round_id: int, comment: str) -> None:
    """The answer is kept; thanks."""
    await svc.civic.rating.finish(user, round_id, comment)
    await svc.conversation.done(user.id)
    await tg.send(main_menu(chat, t("civic.rating_thanks", user.locale), user.locale))


def router() -> Router:
    """Residents' router (fresh instance per dispatcher)."""
    r = Router(name="civic")

    @r.message(Command("home"), F.chat.type == ChatType.PRIVATE)
    async def home_cmd(message: Message, svc: Services, user: User, tg: Tg) -> None:
        await show_homes(message.chat.id, svc, user, tg)

    @r.message(Command("homes"), F.chat.type == ChatType.PRIVATE)
    async def pending_cmd(message: Message, svc: Services, user: User, tg: Tg) -> None:
        await pending(message.chat.id, svc, user, tg)

    @r.message(Command("for"), F.chat.type == ChatType.PRIVATE)
    async def for_cmd(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        draft = await svc.reports.for_resident(user, command.args or "")
        await tg.send(TgMessage(message.chat.id, t("civic.for_set", user.locale, who=draft.on_behalf or "")))

    @r.message(Command("votes"), F.chat.type == ChatType.PRIVATE)
    async def votes_cmd(message: Message, svc: Services, user: User, tg: Tg) -> None:
        await tg.send(views.open_list(message.chat.id, await svc.civic.matters.listing(user), user.locale))

    @r.message(Command("propose"), F.chat.type == ChatType.PRIVATE)
    async def propose_cmd(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        if command.args and command.args.strip():
            await proposal_reply(message.chat.id, svc, user, tg, command.args)
            return
        await svc.conversation.expect(user.id, Awaited.MATTER_PROPOSAL)
        await tg.send(TgMessage(message.chat.id, t("civic.ask_proposal", user.locale)))

    @r.message(Command("vote", "yishi"), F.chat.type.in_(GROUPS))
    async def vote_cmd(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        unit = await tg.group_unit(svc, message.chat.id)
        matter = await svc.civic.matters.open(user, unit.code, parse_matter(command.args or ""))
        tg_text = t("civic.opened", tg.group_locale, id=matter.id, eligible=matter.eligible)
        await tg.send(TgMessage(message.chat.id, tg_text))

    @r.message(Command("decide"), F.chat.type.in_(GROUPS))
    async def decide_cmd(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        matter_id, decision, actions = parse_decision(command.args or "")
        follow_ups = await svc.civic.matters.decide(user, matter_id, decision, actions)
        numbers = "、".join(f.case_number for f in follow_ups) or "—"
        await tg.send(TgMessage(message.chat.id, t("civic.decided", tg.group_locale, id=matter_id, cases=numbers)))

    @r.message(Command("head"), F.chat.type.in_(GROUPS))
    async def head_cmd(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        args = (command.args or "").split()
        remove = bool(args) and args[0].lower() in ("remove", "撤销", "免去")
        args = args[1:] if remove else args
        head = await target_user(message, args, svc)
        place = " ".join(a for a in args if not a.startswith("@"))
        if not place:
            raise Invalid("building_head_usage")
        unit = await tg.group_unit(svc, message.chat.id)
        level, code = await svc.civic.places.resolve(place, unit.code)
        if level is not ScopeLevel.BUILDING:
            raise Invalid("building_head_usage")
        await svc.civic.homes.appoint(user, code, head, remove)
        label = await svc.civic.places.label(level, code)
        key = "civic.head_removed" if remove else "civic.head_named"
        await tg.send(TgMessage(message.chat.id, t(key, tg.group_locale, who=head.display_name, building=label)))

    @r.message(Command("heads"), F.chat.type.in_(GROUPS))
    async def heads_cmd(message: Message, svc: Services, user: User, tg: Tg) -> None:
        unit = await tg.group_unit(svc, message.chat.id)
        lines = await svc.civic.board.building_lines(unit.code)
        await tg.send(TgMessage(message.chat.id, views.heads_text(lines, tg.group_locale)))

    @r.message(Command("team4n", "4n"), F.chat.type.in_(GROUPS))
    async def team_cmd(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        args, loc = (command.args or "").split(), tg.group_locale
        unit = await tg.group_unit(svc, message.chat.id)
        teams = svc.civic.teams
        if not args:
            await tg.send(TgMessage(message.chat.id, views.teams_text(await teams.of_unit(unit.code), loc)))
            return
        verb = args[0].lower()
        if verb in ("new", "新建"):
            team = await teams.form(user, unit.code, args[1:])
        elif verb in ("add", "remove", "加入", "移出") and len(args) >= 3:
            member = await target_user(message, args[2:3], svc)
            role = ROLE_WORDS.get(args[3].lower(), "") if len(args) > 3 else "volunteer"
            team = await teams.name(user, bounded_id(args[1], "block_team_usage"), member, role or "?",
                                    remove=verb in ("remove", "移出"))  # fmt: skip
        else:
            raise Invalid("block_team_usage")
        await tg.send(TgMessage(message.chat.id, views.teams_text([team], loc)))

    @r.callback_query(HomeCb.filter())
    async def home_button(query: CallbackQuery, callback_data: HomeCb, svc: Services, user: User, tg: Tg) -> None:
        a, v, loc, chat = callback_data.a, callback_data.v, user.locale, reply_chat(query, user)
        if a in ("ok", "no"):
            await svc.civic.homes.decide(user, bounded_id(v), a == "ok")
            tg.answer(plain("civic.decided_ok" if a == "ok" else "civic.refused_ok", loc))
            return
        if query.message is not None and query.message.chat.type != ChatType.PRIVATE:
            raise Invalid("stale_button")  # registration happens in private only
        if a == "reg":
            await start_registration(chat, svc, user, tg)
        elif a == "comm":
            choices = [
                (c.name, "cpd", c.code) for c in await svc.civic.places.compounds_in((await svc.org.community(v)).code)
            ]
            await tg.send(views.pick(chat, "civic.pick_compound", choices, loc))
        elif a == "cpd":
            choices = [(b.name, "bld", b.code) for b in await svc.civic.places.buildings_of(v)]
            await tg.send(views.pick(chat, "civic.pick_building", choices, loc))
        elif a == "bld":
            label = await svc.civic.places.label(ScopeLevel.BUILDING, (await svc.civic.places.building(v)).code)
            await svc.conversation.expect(user.id, Awaited.HOME_FLAT, v)
            await tg.send(TgMessage(chat, t("civic.ask_flat", loc, building=label)))
        elif a == "pending":
            await pending(chat, svc, user, tg)
        elif a == "cases":
            await tg.send(views.head_cases(chat, await svc.civic.property.head_cases(user), loc))
        else:
            raise Invalid("stale_button")

    @r.message(Command("assess"), F.chat.type.in_(GROUPS))
    async def assess_cmd(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        quarter = quarter_label(command.args)
        if quarter is None and (command.args or "").strip():
            raise Invalid("assess_usage")
        unit = await tg.group_unit(svc, message.chat.id)
        if not await svc.civic.rating.level_ok(unit.code):
            raise Invalid("assess_where")
        label, rows = await svc.civic.rating.ranking(quarter)
        await tg.send(TgMessage(message.chat.id, views.ranking_text(label, rows, tg.group_locale)))

    @r.callback_query(AssessCb.filter(), F.message.chat.type == ChatType.PRIVATE)
    async def assess_button(query: CallbackQuery, callback_data: AssessCb, svc: Services, user: User, tg: Tg) -> None:
        a, rid, chat = callback_data.a, callback_data.r, reply_chat(query, user)
        if a == "go":
            await rating_step(chat, svc, user, tg, rid, await svc.civic.rating.start(user, rid))
        elif a == "s":
            index = await svc.civic.rating.score(user, rid, callback_data.i, callback_data.v)
            tg.answer(plain("civic.rating_scored", user.locale, v=callback_data.v))
            await rating_step(chat, svc, user, tg, rid, index)
        elif a == "done":
            await rating_done(chat, svc, user, tg, rid, "")
        else:
            raise Invalid("stale_button")

    @r.callback_query(MatterCb.filter())
    async def matter_button(query: CallbackQuery, callback_data: MatterCb, svc: Services, user: User, tg: Tg) -> None:
        a, matter_id, loc, chat = callback_data.a, callback_data.id, user.locale, reply_chat(query, user)
        if a == "v":
            if query.message is not None and query.message.chat.type != ChatType.PRIVATE:
                raise Invalid("stale_button")  # a vote is cast in private only
            _, changed = await svc.civic.matters.vote(user, matter_id, callback_data.o)
            tg.answer(plain("civic.vote_changed" if changed else "civic.vote_cast", loc), alert=True)
            await show_ballot(chat, svc, user, tg, matter_id)
        elif a == "show":
            await show_ballot(chat, svc, user, tg, matter_id)
        elif a == "how":
            tg.answer(plain("civic.vote_how", loc, id=matter_id), alert=True)
        elif a == "acc":
            await svc.civic.matters.accept(user, matter_id)
            tg.answer(plain("civic.accepted_ok", loc, id=matter_id))
        elif a == "dec":
            await svc.civic.matters.may_answer(user, matter_id)
            private = private_chat(user)
            if private is None:
                tg.answer(plain("civic.open_private_first", loc), alert=True)
                return
            await svc.conversation.expect(user.id, Awaited.MATTER_ANSWER, matter_id)
            await tg.send(TgMessage(private, t("civic.ask_answer", loc, id=matter_id)))
            tg.answer(plain("civic.answer_in_private", loc), alert=True)
        else:
            raise Invalid("stale_button")

    return r


async def pending(chat: int, svc: Services, user: User, tg: Tg) -> None:
    """Registrations waiting for this head's or staff member's tap."""
    waiting = await svc.civic.homes.pending_for(user)
    people = await svc.people.many({v.home.user_id for v in waiting})
    names = {k: u.display_name for k, u in people.items()}
    await tg.send(views.pending(chat, waiting, names, user.locale))
