"""Group chats: binding to a unit, staff management, the case buttons, the resolve note by reply, listening."""

from __future__ import annotations

import logging
import re

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message

from domain.cases.model import CATEGORIES
from domain.cases.ports import Classifier
from domain.kernel.awaiting import Awaited
from domain.kernel.errors import Invalid
from domain.kernel.people import User
from domain.services import Services
from handlers.callbacks import AssignCb, CaseCb, DispatchCb, OfferCb, RecatCb
from handlers.context import Tg, channel, domain_user, reply_chat, target_user
from handlers.i18n import plain, t
from handlers.views.messages import Button, TgMessage, rows
from handlers.views.notices import origin

log = logging.getLogger(__name__)
GROUPS = {ChatType.GROUP, ChatType.SUPERGROUP}
# Case buttons name the table's actions in short (the callback data predates the table).
CASE_ACTIONS = {"claim": "claim", "onsite": "onsite", "resolve": "resolve", "reject": "reject",
                "takeover": "takeover", "urge": "urge"}  # fmt: skip


def router() -> Router:
    """Group router (fresh instance per dispatcher)."""
    r = Router(name="group")
    r.message.filter(F.chat.type.in_(GROUPS))

    @r.message(Command("bind"))
    async def bind(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        loc = tg.group_locale
        code = (command.args or "").strip()
        if not code:
            await tg.send(TgMessage(message.chat.id, t("bind.usage", loc)))
            return
        unit = await svc.org.bind(user, code, channel(message.chat.id))
        await tg.send(TgMessage(message.chat.id, t("bind.done", loc, unit=unit.name, code=unit.code)))

    @r.message(Command("staff"))
    async def staff(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        loc = tg.group_locale
        args = (command.args or "").split()
        unit = await tg.group_unit(svc, message.chat.id)
        if args and args[0] == "head":
            target = await target_user(message, args[1:], svc)
            await svc.org.set_head(user, unit.code, target)
            await tg.send(TgMessage(message.chat.id, t("done.head", loc, who=target.display_name, unit=unit.name)))
            return
        if not args or args[0] not in ("add", "remove"):
            members = await svc.org.members(unit.code)
            names = "、".join(m.display_name for m in members) or plain("staff.none", loc)
            await tg.send(TgMessage(message.chat.id, t("staff.list", loc, unit=unit.name, names=names)))
            return
        target = await target_user(message, args[1:], svc)
        if args[0] == "add":
            key = "staff.added" if await svc.org.add_staff(user, unit.code, target) else "staff.already"
        else:
            key = "staff.removed" if await svc.org.remove_staff(user, unit.code, target) else "staff.not_member"
        await tg.send(TgMessage(message.chat.id, t(key, loc, who=target.display_name, unit=unit.name)))

    @r.message(Command("report"))
    async def report(message: Message, svc: Services, tg: Tg, classifier: Classifier) -> None:
        src = message.reply_to_message
        if src is None or src.from_user is None or src.from_user.is_bot:
            raise Invalid("report_usage")
        text = src.text or src.caption or ""
        photo = src.photo[-1].file_id if src.photo else None
        author = await domain_user(svc, src.from_user)
        cls = await classifier.classify(text) if text else None
        unit = await svc.org.find_unit_for(channel(message.chat.id))
        await svc.groups.report_reply(unit, author, text, photo, cls)

    @r.message(F.reply_to_message.from_user.is_bot & (F.text | F.photo) & ~F.text.startswith("/"))
    async def resolve_reply(message: Message, svc: Services, user: User, tg: Tg) -> None:
        # A reply to the bot is a resolve (or department) note when one is awaited; otherwise it is not chatter.
        awaited = await svc.conversation.awaits(user.id, Awaited.RESOLVE_NOTE, Awaited.DEPARTMENT_NOTE)
        if awaited is None:
            return
        note = message.text or message.caption or ""
        photo = message.photo[-1].file_id if message.photo else None
        if awaited.kind is Awaited.DEPARTMENT_NOTE:
            noted = await svc.whistle.note(user, note, photo)
            await tg.send(TgMessage(message.chat.id, t("call.note_done", tg.group_locale, number=noted.number)))
            return
        case = await svc.cases.resolve(user, note, photo)
        await tg.send(TgMessage(message.chat.id, t("resolve.done", tg.group_locale, number=case.number)))

    @r.message(Command("listen"))
    async def listen_mode(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        unit = await tg.group_unit(svc, message.chat.id)
        mode = (command.args or "").strip().lower()
        if not mode:
            current = await svc.groups.listening(unit.code)
            await tg.send(TgMessage(message.chat.id, t(f"listen.now_{current}", tg.group_locale)))
            return
        await svc.groups.set_listening(user, unit.code, mode)
        await tg.send(TgMessage(message.chat.id, t(f"listen.now_{mode}", tg.group_locale)))

    @r.message((F.text & ~F.text.startswith("/")) | F.photo)
    async def listen(message: Message, svc: Services, user: User, tg: Tg, classifier: Classifier) -> None:
        text = message.text or message.caption or ""
        if not text.strip():
            return
        handle = f"@{tg.bot_username}" if tg.bot_username else None
        mentioned = handle is not None and handle.lower() in text.lower()
        if handle is not None and mentioned:
            # The bot's own name says who is addressed, not what about: it is not part of the message.
            text = re.sub(re.escape(handle), " ", text, flags=re.IGNORECASE).strip() or text
        cls = await classifier.classify(text)
        photo = message.photo[-1].file_id if message.photo else None
        where = origin(message.chat.id, message.message_id)
        # What a reply answers is part of what it says: a follow-up to a neighbour's report is not a new one.
        parent = message.reply_to_message
        replying_to = None
        if parent is not None and parent.from_user is not None and not parent.from_user.is_bot:
            said = parent.text or parent.caption or ""
            replying_to = await classifier.classify(said) if said.strip() else None
        await svc.groups.consider(channel(message.chat.id), user, text, photo, where, cls, mentioned, replying_to)

    @r.callback_query(OfferCb.filter())
    async def offer(
        query: CallbackQuery, callback_data: OfferCb, svc: Services, user: User, tg: Tg, classifier: Classifier
    ) -> None:
        accept = callback_data.a == "yes"
        found = await svc.groups.offer(callback_data.id)
        cls = await classifier.classify(found.text) if accept and found.text else None
        accepted = await svc.groups.answer(callback_data.id, accept, user, cls)
        tg.answer(plain("group.offer_thanks" if accepted else "group.offer_ok", user.locale))

    @r.callback_query(RecatCb.filter())
    async def recategorize(query: CallbackQuery, callback_data: RecatCb, svc: Services, user: User, tg: Tg) -> None:
        case = await svc.cases.act(callback_data.id, "recategorize", callback_data.rev, user, callback_data.c)
        tg.answer(plain("case.done.recat", user.locale, number=case.number))

    @r.callback_query(CaseCb.filter())
    async def case_button(query: CallbackQuery, callback_data: CaseCb, svc: Services, user: User, tg: Tg) -> None:
        loc, group = user.locale, tg.group_locale
        chat = reply_chat(query, user)
        if callback_data.a == "recat":
            case = await svc.cases.check(callback_data.id, "recategorize", callback_data.rev, user)
            choices = [
                Button(
                    ("✓ " if c == case.category else "") + plain(f"category.{c}", group),
                    RecatCb(id=case.id, rev=case.rev, c=c).pack(),
                )
                for c in CATEGORIES
            ]
            await tg.send(TgMessage(chat, t("case.pick_category", group, number=case.number), buttons=rows(choices, 3)))
            return
        if callback_data.a == "dispatch":
            case, grids = await svc.cases.dispatch_options(callback_data.id, user)
            choices = [Button(g.name, DispatchCb(id=case.id, rev=case.rev, g=g.code).pack()) for g in grids]
            await tg.send(TgMessage(chat, t("dispatch.pick", group, number=case.number), buttons=rows(choices, 2)))
            return
        if callback_data.a == "reassign":
            case = await svc.cases.check(callback_data.id, "reassign", callback_data.rev, user)
            staff = [p for p in await svc.cases.claimants(case) if p.id != case.assignee_id]
            if not staff:
                raise Invalid("reassign_nobody")
            choices = [Button(p.display_name, AssignCb(id=case.id, rev=case.rev, u=p.id).pack()) for p in staff]
            await tg.send(TgMessage(chat, t("case.pick_person", group, number=case.number), buttons=rows(choices, 2)))
            return
        action = CASE_ACTIONS.get(callback_data.a)
        if action is None:
            raise Invalid("stale_button")
        case = await svc.cases.act(callback_data.id, action, callback_data.rev, user)
        if action == "resolve":
            tg.answer(plain("resolve.asked", loc), alert=True)
        else:
            tg.answer(plain(f"case.done.{callback_data.a}", loc, number=case.number))

    @r.callback_query(AssignCb.filter())
    async def reassign(query: CallbackQuery, callback_data: AssignCb, svc: Services, user: User, tg: Tg) -> None:
        case = await svc.cases.act(callback_data.id, "reassign", callback_data.rev, user, str(callback_data.u))
        tg.answer(plain("case.done.reassign", user.locale, number=case.number))

    @r.callback_query(DispatchCb.filter())
    async def dispatch(query: CallbackQuery, callback_data: DispatchCb, svc: Services, user: User, tg: Tg) -> None:
        case = await svc.cases.act(callback_data.id, "dispatch", callback_data.rev, user, callback_data.g)
        tg.answer(plain("case.done.dispatch", user.locale, number=case.number))

    @r.my_chat_member()
    async def membership(event: ChatMemberUpdated, svc: Services, tg: Tg) -> None:
        status = event.new_chat_member.status
        if event.chat.type not in GROUPS:
            return
        if status in ("left", "kicked"):
            codes = await svc.org.channel_gone(channel(event.chat.id))
            log.warning("bot removed from chat %s; unbound units %s", event.chat.id, codes)
        elif status in ("member", "administrator") and event.old_chat_member.status in ("left", "kicked"):
            await tg.send(TgMessage(event.chat.id, t("bind.hello", tg.group_locale)))

    @r.message(F.migrate_to_chat_id)
    async def migrated(message: Message, svc: Services) -> None:
        # A group upgraded to a supergroup gets a new id; its binding follows.
        assert message.migrate_to_chat_id
        await svc.org.channel_moved(channel(message.chat.id), channel(message.migrate_to_chat_id))

    return r
