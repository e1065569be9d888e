"""Group chats: binding to a unit, staff management, the case buttons and the resolve note by reply."""

from __future__ import annotations

import html
import logging

from aiogram import F, Router
from aiogram.enums import ChatType, MessageEntityType
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message
from aiogram.types import User as TgUser

from domain import render
from domain.errors import Forbidden, Invalid, NotFound
from domain.i18n import normalize_locale, t
from domain.model import Button, OutMessage, User, UserRef
from domain.ports import Classifier
from domain.services import Services
from handlers.callbacks import CaseCb, DispatchCb, OfferCb, RecatCb

log = logging.getLogger(__name__)
GROUPS = {ChatType.GROUP, ChatType.SUPERGROUP}


def display_name(tg: TgUser) -> str:
    """How a Telegram user is named to others (staff only; reporters are never named)."""
    return tg.full_name or (tg.username or str(tg.id))


async def domain_user(svc: Services, tg: TgUser, private_chat_id: int | None = None) -> User:
    """The one conversion of a Telegram user into a domain user (registered on first sight, refreshed after)."""
    return await svc.user(
        UserRef("telegram", str(tg.id)),
        display_name(tg),
        tg.username,
        normalize_locale(tg.language_code) if tg.language_code else None,
        private_chat_id,
    )


def router() -> Router:
    """Group router (fresh instance per dispatcher)."""
    r = Router(name="group")
    r.message.filter(F.chat.type.in_(GROUPS))

    @r.message(Command("bind"))
    async def bind(message: Message, command: CommandObject, svc: Services, user: User) -> None:
        loc = svc.ctx.group_locale
        code = (command.args or "").strip()
        if not code:
            await svc.send(OutMessage(message.chat.id, t("bind.usage", loc)))
            return
        unit = await svc.org.bind(user, code, message.chat.id)
        await svc.send(OutMessage(message.chat.id, t("bind.done", loc, unit=html.escape(unit.name), code=unit.code)))

    @r.message(Command("staff"))
    async def staff(message: Message, command: CommandObject, svc: Services, user: User) -> None:
        loc = svc.ctx.group_locale
        args = (command.args or "").split()
        if not args or args[0] not in ("add", "remove"):
            unit = await svc.org.chat_unit(message.chat.id)
            members = await svc.ctx.repos.staff.members(unit.code)
            names = "、".join(html.escape(m.display_name) for m in members) or t("staff.none", loc)
            await svc.send(OutMessage(message.chat.id, t("staff.list", loc, unit=html.escape(unit.name), names=names)))
            return
        target = await target_user(message, args[1:], svc)
        if args[0] == "add":
            unit, changed = await svc.org.add_staff(user, message.chat.id, target)
            key = "staff.added" if changed else "staff.already"
        else:
            unit, changed = await svc.org.remove_staff(user, message.chat.id, target)
            key = "staff.removed" if changed else "staff.not_member"
        await svc.send(
            OutMessage(message.chat.id, t(key, loc, who=html.escape(target.display_name), unit=html.escape(unit.name)))
        )

    @r.message(Command("report"))
    async def report(message: Message, svc: Services, classifier: Classifier) -> None:
        src = message.reply_to_message
        if src is None or src.from_user is None or src.from_user.is_bot:
            raise Invalid("report_usage")
        text = src.text or src.caption or ""
        photo = src.photo[-1].file_id if src.photo else None
        author = await domain_user(svc, src.from_user)
        cls = await classifier.classify(text) if text else None
        await svc.groups.report_reply(message.chat.id, author, text, photo, cls)

    @r.message(F.reply_to_message.from_user.is_bot & (F.text | F.photo) & ~F.text.startswith("/"))
    async def resolve_reply(message: Message, svc: Services, user: User) -> None:
        # A reply to the bot is a resolve note when one is pending; otherwise it is not chatter to classify.
        if await svc.cases.pending_resolve(user) is None:
            return
        note = message.text or message.caption or ""
        photo = message.photo[-1].file_id if message.photo else None
        case = await svc.cases.resolve(user, note, photo)
        await svc.send(OutMessage(message.chat.id, t("resolve.done", svc.ctx.group_locale, number=case.number)))

    @r.message((F.text & ~F.text.startswith("/")) | F.photo)
    async def listen(message: Message, svc: Services, user: User, classifier: Classifier) -> None:
        text = message.text or message.caption or ""
        if not text.strip():
            return
        cls = await classifier.classify(text)
        photo = message.photo[-1].file_id if message.photo else None
        await svc.groups.consider(message.chat.id, user, text, photo, message.message_id, cls)

    @r.callback_query(OfferCb.filter())
    async def offer(
        query: CallbackQuery, callback_data: OfferCb, svc: Services, user: User, classifier: Classifier
    ) -> None:
        offer = await svc.ctx.repos.offers.get(callback_data.id)
        cls = await classifier.classify(offer.text) if offer and offer.text else None
        accepted = await svc.groups.answer(callback_data.id, callback_data.a == "yes", user, cls)
        await query.answer(t("group.offer_thanks" if accepted else "group.offer_ok", user.locale))

    @r.callback_query(RecatCb.filter())
    async def recategorize(query: CallbackQuery, callback_data: RecatCb, svc: Services, user: User) -> None:
        case = await svc.cases.recategorize(callback_data.id, callback_data.rev, callback_data.c, user)
        await query.answer(t("case.done.recat", user.locale, number=case.number))

    @r.callback_query(CaseCb.filter())
    async def case_button(query: CallbackQuery, callback_data: CaseCb, svc: Services, user: User) -> None:
        loc = user.locale
        if callback_data.a == "recat":
            case = await svc.cases.get(callback_data.id)
            if not await svc.org.may_handle(user, case.unit_code):
                raise Forbidden("not_your_case")
            chat_id = query.message.chat.id if query.message else 0
            await svc.send(
                OutMessage(
                    chat_id,
                    t("case.pick_category", svc.ctx.group_locale, number=case.number),
                    buttons=render.category_choice(case, svc.ctx.group_locale),
                )
            )
            await query.answer()
            return
        if callback_data.a == "dispatch":
            case, grids = await svc.cases.dispatch_options(callback_data.id, user)
            chat_id = query.message.chat.id if query.message else 0
            buttons = [Button(g.name, cb=("disp", {"id": case.id, "rev": case.rev, "g": g.code})) for g in grids]
            await svc.send(
                OutMessage(
                    chat_id,
                    t("dispatch.pick", svc.ctx.group_locale, number=case.number),
                    buttons=[buttons[i : i + 2] for i in range(0, len(buttons), 2)],
                )
            )
            await query.answer()
            return
        case = await svc.cases.act(callback_data.id, callback_data.a, callback_data.rev, user)
        if callback_data.a == "resolve":
            await query.answer(t("resolve.asked", loc), show_alert=True)
        else:
            await query.answer(t(f"case.done.{callback_data.a}", loc, number=case.number))

    @r.callback_query(DispatchCb.filter())
    async def dispatch(query: CallbackQuery, callback_data: DispatchCb, svc: Services, user: User) -> None:
        case = await svc.cases.dispatch(callback_data.id, callback_data.rev, callback_data.g, user)
        await query.answer(t("case.done.dispatch", user.locale, number=case.number))

    @r.my_chat_member()
    async def membership(event: ChatMemberUpdated, svc: Services) -> None:
        status = event.new_chat_member.status
        if event.chat.type not in GROUPS:
            return
        if status in ("left", "kicked"):
            codes = await svc.org.bot_removed(event.chat.id)
            log.warning("bot removed from chat %s; unbound units %s", event.chat.id, codes)
        elif status in ("member", "administrator") and event.old_chat_member.status in ("left", "kicked"):
            await svc.send(OutMessage(event.chat.id, t("bind.hello", svc.ctx.group_locale)))

    @r.message(F.migrate_to_chat_id)
    async def migrated(message: Message, svc: Services) -> None:
        # A group upgraded to a supergroup gets a new id; its binding follows.
        assert message.migrate_to_chat_id
        for code in await svc.ctx.repos.units.unbind_chat(message.chat.id):
            await svc.ctx.repos.units.bind_chat(code, message.migrate_to_chat_id)

    return r


async def target_user(message: Message, args: list[str], svc: Services) -> User:
    """The person a command is about: the replied-to author, a text mention, or @username."""
    if message.reply_to_message and message.reply_to_message.from_user:
        return await domain_user(svc, message.reply_to_message.from_user)
    for entity in message.entities or []:
        if entity.type == MessageEntityType.TEXT_MENTION and entity.user:
            return await domain_user(svc, entity.user)
    if args and args[0].startswith("@"):
        found = await svc.ctx.repos.users.by_username(args[0])
        if found is None:
            raise NotFound("staff_unknown_user", name=args[0])
        return found
    raise Invalid("staff_usage")
