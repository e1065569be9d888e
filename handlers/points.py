"""Points, stars, certificates and the credit supermarket: private-chat screens and staff commands in groups."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from domain.errors import Invalid
from domain.i18n import t
from domain.model import Button, OutMessage, User
from domain.points import Standing
from domain.render import local_time
from domain.services import Services
from handlers import ui
from handlers.callbacks import ShopCb, bounded_id
from handlers.group import GROUPS, target_user


def standing_message(chat_id: int, s: Standing, user: User) -> OutMessage:
    """我的积分: balance, hours, stars, distance to the next star, last ten entries."""
    loc = user.locale
    stars = "★" * s.star_level + "☆" * max(0, 5 - s.star_level)
    lines = [
        t("points.header", loc),
        t("points.balance", loc, points=s.balance),
        t("points.hours", loc, hours=f"{s.hours:g}"),
        t("points.stars", loc, stars=stars, level=s.star_level),
    ]
    if s.next_star_hours is not None:
        lines.append(t("points.next_star", loc, hours=f"{s.next_star_hours:g}"))
    if s.recent:
        lines.append(t("points.recent", loc))
        for e in s.recent:
            when = local_time(e.created_at) if e.created_at else ""
            lines.append(f"· {when} {t(f'points.kind.{e.kind}', loc)} {e.amount:+d} {html.escape(e.reason)}")
    else:
        lines.append(t("points.none_yet", loc))
    buttons = [[Button(t("shop.open", loc), cb=("shop", {"a": "comm", "v": ""}))]]
    if s.star_level >= 1:
        buttons.insert(0, [Button(t("points.certificate", loc), cb=("shop", {"a": "cert", "v": ""}))])
    return OutMessage(chat_id, "\n".join(lines), buttons=buttons)


async def show_standing(chat_id: int, svc: Services, user: User) -> None:
    """Send 我的积分."""
    await svc.send(standing_message(chat_id, await svc.points.standing(user), user))


async def show_communities(chat_id: int, svc: Services, user: User) -> None:
    """First step of 信用超市: which community's supermarket."""
    communities = await svc.reports.units_for_choice(None)
    buttons = [Button(u.name, cb=("shop", {"a": "items", "v": u.code})) for u in communities]
    await svc.send(
        OutMessage(
            chat_id,
            t("shop.pick_community", user.locale),
            buttons=[buttons[i : i + 2] for i in range(0, len(buttons), 2)],
        )
    )


def router() -> Router:
    """Points and supermarket router (fresh instance per dispatcher)."""
    r = Router(name="points")

    @r.callback_query(ShopCb.filter(), F.message.chat.type == ChatType.PRIVATE)
    async def shop_button(query: CallbackQuery, callback_data: ShopCb, svc: Services, user: User) -> None:
        chat_id = ui.reply_chat(query, user)
        a, v, loc = callback_data.a, callback_data.v, user.locale
        if a == "comm":
            await show_communities(chat_id, svc, user)
        elif a == "standing":
            await show_standing(chat_id, svc, user)
        elif a == "items":
            items = await svc.shop.catalogue(v)
            balance = (await svc.points.standing(user)).balance
            if not items:
                await svc.send(OutMessage(chat_id, t("shop.empty", loc)))
            else:
                buttons = [
                    [
                        Button(
                            t("shop.item_button", loc, name=i.name, price=i.price, stock=i.stock),
                            cb=("shop", {"a": "item", "v": str(i.id)}),
                        )
                    ]
                    for i in items
                ]
                await svc.send(OutMessage(chat_id, t("shop.catalogue", loc, points=balance), buttons=buttons))
        elif a == "item":
            item = await svc.shop.item(bounded_id(v))
            await svc.send(
                OutMessage(
                    chat_id,
                    t("shop.confirm", loc, name=html.escape(item.name), price=item.price),
                    buttons=[
                        [
                            Button(t("shop.buy", loc), cb=("shop", {"a": "buy", "v": str(item.id)})),
                            Button(t("shop.back", loc), cb=("shop", {"a": "items", "v": item.community_code})),
                        ]
                    ],
                )
            )
        elif a == "buy":
            order, item = await svc.shop.redeem(user, bounded_id(v))
            await svc.send(
                OutMessage(
                    chat_id, t("shop.redeemed", loc, name=html.escape(item.name), code=order.code, price=item.price)
                )
            )
            await query.answer(t("shop.redeemed_short", loc))
            return
        elif a == "cert":
            standing = await svc.points.standing(user)
            if standing.star_level < 1:
                raise Invalid("no_star_yet")
            street = next((u.name for u in await svc.ctx.repos.units.all() if u.level.value == "street"), "")
            vol = await svc.volunteers.get(user)
            # A certificate bears the registered real name; the Telegram name is a nickname at best.
            name = vol.real_name if vol is not None and vol.real_name else user.display_name
            await svc.send(
                OutMessage(
                    chat_id,
                    t("points.certificate_caption", loc, level=standing.star_level),
                    certificate={
                        "name": name,
                        "level": standing.star_level,
                        "hours": standing.hours,
                        "issuer": t("points.issuer", loc, street=street),
                    },
                )
            )
        else:
            raise Invalid("stale_button")
        await query.answer()

    groups = Router(name="points-groups")
    groups.message.filter(F.chat.type.in_(GROUPS))

    @groups.message(Command("award"))
    async def award(message: Message, command: CommandObject, svc: Services, user: User) -> None:
        args = (command.args or "").split()
        if args and args[0].startswith("@"):
            args = args[1:]
        if not args:
            raise Invalid("award_usage")
        amount, reason = bounded_id(args[0], "award_usage"), " ".join(args[1:])
        target = await target_user(message, (command.args or "").split()[:1], svc)
        unit = await svc.points.award(user, target, amount, reason, message.chat.id)
        await svc.send(
            OutMessage(
                message.chat.id,
                t(
                    "points.award_done",
                    svc.ctx.group_locale,
                    who=html.escape(target.display_name),
                    points=amount,
                    reason=html.escape(reason),
                    unit=html.escape(unit),
                ),
            )
        )

    @groups.message(Command("item"))
    async def item(message: Message, command: CommandObject, svc: Services, user: User) -> None:
        args = (command.args or "").split()
        if len(args) < 3:
            raise Invalid("item_usage")
        name, price, stock = " ".join(args[:-2]), bounded_id(args[-2], "item_usage"), bounded_id(args[-1], "item_usage")
        shop_item, created = await svc.shop.upsert_item(user, message.chat.id, name, price, stock)
        key = "shop.item_added" if created else "shop.item_updated"
        await svc.send(
            OutMessage(
                message.chat.id,
                t(
                    key,
                    svc.ctx.group_locale,
                    name=html.escape(shop_item.name),
                    price=shop_item.price,
                    stock=shop_item.stock,
                ),
            )
        )

    @groups.message(Command("items"))
    async def items(message: Message, svc: Services) -> None:
        unit = await svc.org.chat_unit(message.chat.id)
        listing = await svc.shop.catalogue(unit.code)
        loc = svc.ctx.group_locale
        lines = [t("shop.list_header", loc, unit=html.escape(unit.name))]
        lines += [t("shop.list_line", loc, name=html.escape(i.name), price=i.price, stock=i.stock) for i in listing]
        await svc.send(OutMessage(message.chat.id, "\n".join(lines) if listing else t("shop.empty", loc)))

    @groups.message(Command("verify"))
    async def verify(message: Message, command: CommandObject, svc: Services, user: User) -> None:
        code = (command.args or "").strip()
        if not code:
            raise Invalid("verify_usage")
        order, shop_item = await svc.shop.verify(user, code)
        await svc.send(
            OutMessage(
                message.chat.id,
                t("shop.verified", svc.ctx.group_locale, code=order.code, name=html.escape(shop_item.name)),
            )
        )

    @groups.message(Command("refund"))
    async def refund(message: Message, command: CommandObject, svc: Services, user: User) -> None:
        code = (command.args or "").strip()
        if not code:
            raise Invalid("verify_usage")
        order, shop_item = await svc.shop.cancel(user, code)
        await svc.send(
            OutMessage(
                message.chat.id,
                t(
                    "shop.refunded",
                    svc.ctx.group_locale,
                    code=order.code,
                    name=html.escape(shop_item.name),
                    points=order.price,
                ),
            )
        )

    r.include_router(groups)
    return r
