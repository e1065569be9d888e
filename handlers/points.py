"""Points, stars, certificates and the credit supermarket: private-chat screens and staff commands in groups."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from domain.kernel.errors import Invalid
from domain.kernel.people import User
from domain.org.model import Level
from domain.services import Services
from handlers.callbacks import ShopCb, bounded_id
from handlers.context import Tg, reply_chat, target_user
from handlers.group import GROUPS
from handlers.i18n import plain, t
from handlers.views import points as views
from handlers.views.messages import TgMessage


async def show_standing(chat: int, svc: Services, user: User, tg: Tg) -> None:
    """Send 我的积分."""
    await tg.send(views.standing(chat, await svc.points.standing(user), user.locale))


async def show_communities(chat: int, svc: Services, user: User, tg: Tg) -> None:
    """First step of 信用超市: which community's supermarket."""
    await tg.send(views.communities(chat, await svc.reports.communities(), user.locale))


async def certificate(chat: int, svc: Services, user: User, tg: Tg) -> None:
    """The star certificate, drawn when it is sent."""
    loc = user.locale
    standing = await svc.points.standing(user)
    if standing.star_level < 1:
        raise Invalid("no_star_yet")
    street = next(iter(await svc.org.of_level(Level.STREET)), None)
    vol = await svc.volunteers.get(user)
    # A certificate bears the registered real name; the Telegram name is a nickname at best.
    name = vol.real_name if vol is not None and vol.real_name else user.display_name
    await tg.send(
        TgMessage(
            chat,
            t("points.certificate_caption", loc, level=standing.star_level),
            certificate={
                "name": name,
                "level": standing.star_level,
                "hours": standing.hours,
                "issuer": plain("points.issuer", loc, street=street.name if street else ""),
            },
        )
    )


def router() -> Router:
    """Points and supermarket router (fresh instance per dispatcher)."""
    r = Router(name="points")

    @r.callback_query(ShopCb.filter(), F.message.chat.type == ChatType.PRIVATE)
    async def shop_button(query: CallbackQuery, callback_data: ShopCb, svc: Services, user: User, tg: Tg) -> None:
        chat = reply_chat(query, user)
        a, v, loc = callback_data.a, callback_data.v, user.locale
        if a == "comm":
            await show_communities(chat, svc, user, tg)
        elif a == "standing":
            await show_standing(chat, svc, user, tg)
        elif a == "items":
            items = await svc.shop.catalogue(v)
            balance = (await svc.points.standing(user)).balance
            await tg.send(views.catalogue(chat, items, balance, loc))
        elif a == "item":
            await tg.send(views.confirm(chat, await svc.shop.item(bounded_id(v)), loc))
        elif a == "buy":
            order, item = await svc.shop.redeem(user, bounded_id(v))
            await tg.send(views.redeemed(chat, order, item, loc))
            tg.answer(plain("shop.redeemed_short", loc))
        elif a == "cert":
            await certificate(chat, svc, user, tg)
        else:
            raise Invalid("stale_button")

    groups = Router(name="points-groups")
    groups.message.filter(F.chat.type.in_(GROUPS))

    @groups.message(Command("award"))
    async def award(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        args = (command.args or "").split()
        if args and args[0].startswith("@"):
            args = args[1:]
        if not args:
            raise Invalid("award_usage")
        amount, reason = bounded_id(args[0], "award_usage"), " ".join(args[1:])
        unit = await tg.group_unit(svc, message.chat.id)
        target = await target_user(message, (command.args or "").split()[:1], svc)
        await svc.points.award(user, target, amount, reason, unit.code)
        text = t("points.award_done", tg.group_locale, who=target.display_name, points=amount, reason=reason.strip())
        await tg.send(TgMessage(message.chat.id, text))

    @groups.message(Command("item"))
    async def item(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        args = (command.args or "").split()
        if len(args) < 3:
            raise Invalid("item_usage")
        name, price, stock = " ".join(args[:-2]), bounded_id(args[-2], "item_usage"), bounded_id(args[-1], "item_usage")
        unit = await tg.group_unit(svc, message.chat.id)
        shop_item, created = await svc.shop.upsert_item(user, unit.code, name, price, stock)
        key = "shop.item_added" if created else "shop.item_updated"
        text = t(key, tg.group_locale, name=shop_item.name, price=shop_item.price, stock=shop_item.stock)
        await tg.send(TgMessage(message.chat.id, text))

    @groups.message(Command("items"))
    async def items(message: Message, svc: Services, tg: Tg) -> None:
        unit = await tg.group_unit(svc, message.chat.id)
        await tg.send(views.item_list(message.chat.id, unit, await svc.shop.catalogue(unit.code), tg.group_locale))

    @groups.message(Command("verify"))
    async def verify(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        code = (command.args or "").strip()
        if not code:
            raise Invalid("verify_usage")
        order, shop_item = await svc.shop.verify(user, code)
        await tg.send(
            TgMessage(message.chat.id, t("shop.verified", tg.group_locale, code=order.code, name=shop_item.name))
        )

    @groups.message(Command("refund"))
    async def refund(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        code = (command.args or "").strip()
        if not code:
            raise Invalid("verify_usage")
        order, shop_item = await svc.shop.cancel(user, code)
        text = t("shop.refunded", tg.group_locale, code=order.code, name=shop_item.name, points=order.price)
        await tg.send(TgMessage(message.chat.id, text))

    r.include_router(groups)
    return r
