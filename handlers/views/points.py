"""Replies of the points side: 我的积分, the credit supermarket, staff's item list."""

from __future__ import annotations

from domain.kernel.notices import Word
from domain.org.model import Unit
from domain.points.model import ShopItem, ShopOrder, Standing
from handlers.callbacks import ShopCb
from handlers.i18n import local_time, plain, t
from handlers.views.messages import Button, TgMessage, rows


def standing(chat_id: int, s: Standing, locale: str) -> TgMessage:
    """我的积分: balance, hours, stars, distance to the next star, last ten entries."""
    stars = "★" * s.star_level + "☆" * max(0, 5 - s.star_level)
    lines = [
        t("points.header", locale),
        t("points.balance", locale, points=s.balance),
        t("points.hours", locale, hours=s.hours),
        t("points.stars", locale, stars=stars, level=s.star_level),
    ]
    if s.next_star_hours is not None:
        lines.append(t("points.next_star", locale, hours=s.next_star_hours))
    if s.recent:
        lines.append(t("points.recent", locale))
        for e in s.recent:
            lines.append(
                t(
                    "points.recent_line",
                    locale,
                    when=local_time(e.created_at) if e.created_at else "",
                    kind=Word(f"points.kind.{e.kind}"),
                    amount=f"{e.amount:+d}",
                    reason=e.reason,
                )
            )
    else:
        lines.append(t("points.none_yet", locale))
    buttons = [[Button(plain("shop.open", locale), ShopCb(a="comm").pack())]]
    if s.star_level >= 1:
        buttons.insert(0, [Button(plain("points.certificate", locale), ShopCb(a="cert").pack())])
    return TgMessage(chat_id, "\n".join(lines), buttons=buttons)


def communities(chat_id: int, units: list[Unit], locale: str) -> TgMessage:
    """First step of 信用超市: which community's supermarket."""
    buttons = [Button(u.name, ShopCb(a="items", v=u.code).pack()) for u in units]
    return TgMessage(chat_id, t("shop.pick_community", locale), buttons=rows(buttons, 2))


def catalogue(chat_id: int, items: list[ShopItem], balance: int, locale: str) -> TgMessage:
    """A community's items, one button each."""
    if not items:
        return TgMessage(chat_id, t("shop.empty", locale))
    buttons = [
        [
            Button(
                plain("shop.item_button", locale, name=i.name, price=i.price, stock=i.stock),
                ShopCb(a="item", v=str(i.id)).pack(),
            )
        ]
        for i in items
    ]
    return TgMessage(chat_id, t("shop.catalogue", locale, points=balance), buttons=buttons)


def confirm(chat_id: int, item: ShopItem, locale: str) -> TgMessage:
    """Ask before taking the points."""
    return TgMessage(
        chat_id,
        t("shop.confirm", locale, name=item.name, price=item.price),
        buttons=[
            [
                Button(plain("shop.buy", locale), ShopCb(a="buy", v=str(item.id)).pack()),
                Button(plain("shop.back", locale), ShopCb(a="items", v=item.community_code).pack()),
            ]
        ],
    )


def redeemed(chat_id: int, order: ShopOrder, item: ShopItem, locale: str) -> TgMessage:
    """The pickup code."""
    return TgMessage(chat_id, t("shop.redeemed", locale, name=item.name, code=order.code, price=item.price))


def item_list(chat_id: int, unit: Unit, items: list[ShopItem], locale: str) -> TgMessage:
    """/items in a community group."""
    if not items:
        return TgMessage(chat_id, t("shop.empty", locale))
    lines = [t("shop.list_header", locale, unit=unit.name)]
    lines += [t("shop.list_line", locale, name=i.name, price=i.price, stock=i.stock) for i in items]
    return TgMessage(chat_id, "\n".join(lines))
