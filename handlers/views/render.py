"""What each notice looks like on Telegram: its text (escaped in `handlers.i18n.t`), photo and buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from domain.kernel.notices import Action, Notice, PostMode
from handlers.callbacks import ActCb, CaseCb, OfferCb, OrdCb, RateCb, VolCb
from handlers.i18n import Markup, plain, t
from handlers.views.audience import Recipient, ViewContext
from handlers.views.cards import activity_card, case_card, order_card
from handlers.views.messages import Button, TgMessage, rows

# Case actions as the buttons on a group post call them (the callback data predates the table's names).
_CASE_BUTTON = {"claim": "claim", "onsite": "onsite", "resolve": "resolve", "reject": "reject",
                "dispatch": "dispatch", "recategorize": "recat"}  # fmt: skip


def button(action: Action, locale: str) -> Button:
    """The Telegram button of a domain action: its label in the reader's language and its callback data."""
    name = action.name
    if name.startswith("case."):
        verb = name.removeprefix("case.")
        if verb in ("rate", "reopen"):
            return Button(
                plain(f"rating.{action.value}", locale), RateCb(id=action.ref, r=action.value, rev=action.rev).pack()
            )
        code = _CASE_BUTTON[verb]
        return Button(plain(f"case.btn.{code}", locale), CaseCb(a=code, id=action.ref, rev=action.rev).pack())
    if name in ("offer.accept", "offer.decline"):
        answer = "yes" if name == "offer.accept" else "no"
        return Button(plain(f"group.offer_{answer}", locale), OfferCb(a=answer, id=action.ref).pack())
    if name == "activity.join":
        return Button(plain("act.signup_button", locale), ActCb(a="join", id=action.ref).pack())
    if name in ("volunteer.approve", "volunteer.reject"):
        verb = "ok" if name == "volunteer.approve" else "no"
        return Button(
            plain(f"vol.{'approve' if verb == 'ok' else 'reject'}", locale), VolCb(a=verb, v=str(action.ref)).pack()
        )
    if name == "order.take":
        return Button(plain("order.take", locale), OrdCb(a="take", id=action.ref).pack())
    if name == "order.done":
        return Button(plain("order.done_button", locale), OrdCb(a="done", id=action.ref).pack())
    if name == "order.rate":
        return Button(plain(f"rating.{action.value}", locale), OrdCb(a=action.value, id=action.ref).pack())
    raise ValueError(f"no Telegram button for action {name}")


def buttons(actions: tuple[Action, ...], locale: str, per_row: int = 3) -> list[list[Button]]:
    """All actions as buttons, a few to a row."""
    return rows([button(a, locale) for a in actions], per_row)


def case_buttons(actions: tuple[Action, ...], locale: str) -> list[list[Button]]:
    """A case post's buttons: the moves in one row, 改类别 on its own."""
    main = [button(a, locale) for a in actions if a.name != "case.recategorize"]
    other = [button(a, locale) for a in actions if a.name == "case.recategorize"]
    return [r for r in (main, other) if r]


def start_link(ctx: ViewContext, locale: str) -> list[list[Button]]:
    """A button opening the private chat with the bot (when its username is known)."""
    if not ctx.bot_username:
        return []
    return [[Button(plain("group.open_private", locale), url=f"https://t.me/{ctx.bot_username}?start=draft")]]


Renderer = Callable[[Notice, Recipient, ViewContext], Awaitable[TgMessage | None]]


async def _generic(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    return TgMessage(to.chat_id, t(f"notice.{n.kind}", to.locale, **n.params), n.photo, buttons(n.actions, to.locale))


async def _case_card(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    text = case_card(n.params, to.locale, above=to.unit.name if to.above and to.unit else None)
    return TgMessage(to.chat_id, text, n.photo, case_buttons(n.actions, to.locale))


async def _resolve_asked(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    text = t("notice.case.resolve_note_asked", to.locale, **n.params)
    return TgMessage(to.chat_id, text, force_reply=to.fallback)


async def _offer_closed(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    accepted = n.kind == "offer.accepted"
    text = t(f"notice.{n.kind}", to.locale, bot=ctx.bot_username or "")
    return TgMessage(to.chat_id, text, buttons=start_link(ctx, to.locale) if accepted else [])


async def _report_filed(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    return TgMessage(to.chat_id, t("notice.offer.report_filed", to.locale), buttons=start_link(ctx, to.locale))


async def _activity_card(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    return TgMessage(to.chat_id, activity_card(n.params, to.locale, header=True), buttons=buttons(n.actions, to.locale))


async def _volunteer_review(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    lines = [t("vol.review", to.locale, name=n.params.get("name", ""), phone=n.params.get("phone", ""))]
    if "status" in n.params:
        lines.append(t("vol.review_status", to.locale, status=n.params["status"]))
    return TgMessage(to.chat_id, "\n".join(lines), buttons=buttons(n.actions, to.locale, per_row=2))


async def _order_card(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    return TgMessage(to.chat_id, order_card(n.params, to.locale), buttons=buttons(n.actions, to.locale))


async def _order_yours(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage | None:
    requester = await ctx.svc.people.get(int(str(n.params["requester"])))
    if requester is None:
        return None
    # A Telegram link opens the resident's profile; the group never sees who asked.
    name = t("order.link", to.locale, name=requester.display_name)
    link = Markup(f'<a href="tg://user?id={int(requester.ref.external_id)}">{name}</a>')
    text = t("notice.order.yours", to.locale, id=n.params["id"], what=n.params["what"], link=link)
    return TgMessage(to.chat_id, text, buttons=buttons(n.actions, to.locale))


async def _board(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    p = n.params
    month = t("board.month", to.locale, year=p["year"], month=p["month"])
    entries = list(p.get("entries") or [])  # type: ignore[call-overload]
    if not entries:
        return TgMessage(to.chat_id, t("board.empty", to.locale, month=month, unit=p["unit"]))
    lines = [t("board.title", to.locale, month=month, unit=p["unit"])]
    for rank, (name, points) in enumerate(entries, start=1):
        medal = {1: "🥇", 2: "🥈", 3: "🥉"}.get(rank, f"{rank}.")
        lines.append(t("board.line", to.locale, medal=medal, name=name, points=points))
    lines.append(t("board.footer", to.locale))
    return TgMessage(to.chat_id, "\n".join(lines))


async def _star(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    return TgMessage(to.chat_id, t("notice.points.star_reached", to.locale, **n.params))


RENDERERS: dict[str, Renderer] = {
    "case.card": _case_card,
    "case.resolve_note_asked": _resolve_asked,
    "offer.accepted": _offer_closed,
    "offer.declined": _offer_closed,
    "offer.report_filed": _report_filed,
    "activity.card": _activity_card,
    "volunteer.review": _volunteer_review,
    "order.card": _order_card,
    "order.yours": _order_yours,
    "points.board": _board,
    "points.star_reached": _star,
}


async def notice(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage | None:
    """The Telegram message of a notice for one recipient (None: nothing to show there)."""
    message = await RENDERERS.get(n.kind, _generic)(n, to, ctx)
    if message is not None and n.mode is PostMode.CLOSE:
        message.buttons = []
    return message
