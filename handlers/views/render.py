"""What each notice looks like on Telegram: its text (escaped in `handlers.i18n.t`), photo and buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from domain.cases.bodies import BodyFigures
from domain.cases.stats import Rates
from domain.kernel.notices import Action, Notice, PostMode, Word
from handlers.callbacks import (
    ActCb,
    AssessCb,
    BroadcastCb,
    CallCb,
    CaseCb,
    FixCb,
    HomeCb,
    MatterCb,
    OfferCb,
    OrdCb,
    RateCb,
    VolCb,
    WhistleCb,
)
from handlers.i18n import Markup, plain, t
from handlers.views import civic
from handlers.views.audience import Recipient, ViewContext
from handlers.views.cards import activity_card, case_card, order_card, place
from handlers.views.messages import Button, TgMessage, rows
from handlers.views.reporting import emergency_text

# Case actions as the buttons on a group post call them (the callback data predates the table's names).
_CASE_BUTTON = {"claim": "claim", "onsite": "onsite", "resolve": "resolve", "reject": "reject",
                "dispatch": "dispatch", "recategorize": "recat", "takeover": "takeover", "reassign": "reassign",
                "urge": "urge"}  # fmt: skip


def button(action: Action, locale: str) -> Button:
    """The Telegram button of a domain action: its label in the reader's language and its callback data."""
    name = action.name
    if name == "case.whistle":
        return Button(plain("case.btn.whistle", locale), WhistleCb(id=action.ref).pack())
    if name.startswith("call."):
        verb = name.removeprefix("call.")
        return Button(plain(f"call.btn.{verb}", locale), CallCb(a=verb, id=action.ref, d=action.value).pack())
    if name == "fixed.file":
        i = int(action.value)
        return Button(plain("fixed.file_btn", locale, i=i + 1), FixCb(id=action.ref, i=i).pack())
    if name in ("broadcast.send", "broadcast.cancel"):
        verb = name.removeprefix("broadcast.")
        return Button(plain(f"broadcast.btn_{verb}", locale), BroadcastCb(a=verb, id=action.ref).pack())
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
    if name in ("home.confirm", "home.refuse"):
        verb = name.removeprefix("home.")
        return Button(
            plain(f"civic.{verb}", locale), HomeCb(a="ok" if verb == "confirm" else "no", v=str(action.ref)).pack()
        )
    if name == "rating.start":
        return Button(plain("civic.rating_start", locale), AssessCb(a="go", r=action.ref).pack())
    if name in ("matter.accept", "matter.decline"):
        verb = name.removeprefix("matter.")
        return Button(plain(f"civic.{verb}", locale), MatterCb(a=verb[:3], id=action.ref).pack())
    raise ValueError(f"no Telegram button for action {name}")


def buttons(actions: tuple[Action, ...], locale: str, per_row: int = 3) -> list[list[Button]]:
    """All actions as buttons, a few to a row."""
    return rows([button(a, locale) for a in actions], per_row)


def case_buttons(actions: tuple[Action, ...], locale: str) -> list[list[Button]]:
    """A case post's buttons: the moves in one row, 改类别 (and 吹哨) in another."""
    second = ("case.recategorize", "case.whistle")
    main = [button(a, locale) for a in actions if a.name not in second]
    other = [button(a, locale) for a in actions if a.name in second]
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


async def _offer_made(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    # Danger to life: the group reads whom to call before the offer to file it.
    advice = n.params.get("advice")
    text = str(t("notice.offer.made", to.locale))
    if isinstance(advice, list) and advice:
        text = f"{emergency_text(advice, to.locale, 'emergency.group')}\n\n{text}"
    return TgMessage(to.chat_id, text, buttons=buttons(n.actions, to.locale))


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


async def _call_card(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    p = n.params
    lines = [t("call.card_title", to.locale, number=p["number"])]
    if p.get("urgent"):
        lines[0] = Markup(lines[0] + " " + t("case.urgent_tag", to.locale))
    lines += [
        t("case.category_line", to.locale, category=p["category"]),
        t("case.description_line", to.locale, description=p["description"] or p["category"]),
        t("case.place_line", to.locale, place=place(p, to.locale)),
    ]
    if p.get("note"):
        lines.append(t("call.card_note", to.locale, note=p["note"]))
    lines.append(t("call.card_state", to.locale, state=p["state"]))
    return TgMessage(to.chat_id, "\n".join(lines), n.photo, buttons(n.actions, to.locale))


async def _fixed_recorded(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    p = n.params
    lines = [t("fixed.recorded", to.locale, day=p["day"], received=p["received"])]
    matters = list(p.get("matters") or [])  # type: ignore[call-overload]
    lines += [t("fixed.matter_line", to.locale, i=i + 1, text=m) for i, m in enumerate(matters)]
    return TgMessage(to.chat_id, "\n".join(lines), buttons=buttons(n.actions, to.locale, per_row=4))


async def _broadcast_report(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    p = n.params
    failures = list(p.get("failures") or [])  # type: ignore[call-overload]
    items = Markup(
        "；".join(
            t("broadcast.failure_item", to.locale, name=a, reason=Word(f"broadcast_failure.{b}")) for a, b in failures
        )
    )
    text = t("notice.broadcast.report", to.locale, sent=p["sent"], failed=p["failed"], failures=items)
    return TgMessage(to.chat_id, text)


def _rate(value: float | None, locale: str) -> str:
    return f"{value:.0%}" if value is not None else plain("stats.none", locale)


def rates_lines(r: Rates, locale: str) -> list[str]:
    """The 三率 block of one unit."""
    return [
        t(
            "stats.line",
            locale,
            received=r.received,
            reports=r.reports,
            response=_rate(r.response_rate, locale),
            on_time=_rate(r.on_time_rate, locale),
            resolution=_rate(r.resolution_rate, locale),
            satisfaction=_rate(r.satisfaction_rate, locale),
            reopened=r.reopened,
            overdue=r.overdue_now,
            escalated=r.escalated,
            departments=r.department_cases,
        )
    ]


def body_text(name: str, month: str, f: BodyFigures, locale: str) -> str:
    """A called body's month: its calls, report-in on time, its part done, the cases' satisfaction."""
    if not f.calls:
        return str(t("stats.body_none", locale, unit=name, month=month))
    return str(t("stats.body", locale, unit=name, month=month, calls=f.calls,
                 on_time=_rate(f.on_time / f.calls, locale), done=_rate(f.done / f.calls, locale),
                 satisfied=_rate(f.satisfied / f.rated if f.rated else None, locale)))  # fmt: skip


RANK_SHOWN = 30


def stats_text(totals: Rates, grids: list[Rates], month: str, locale: str) -> str:
    """A unit's month, with its grids ranked."""
    lines = [t("stats.header", locale, unit=totals.name, month=month), *rates_lines(totals, locale)]
    if grids:
        lines.append(t("stats.ranking", locale))
        ranked: list[tuple[int, Rates | None]] = list(enumerate(grids, start=1))
        if len(ranked) > RANK_SHOWN:
            # One message must stay under Telegram's 4096 characters: the best and the worst, the rest elided.
            half = RANK_SHOWN // 2
            skipped = len(ranked) - 2 * half
            ranked = [*ranked[:half], (0, None), *ranked[-half:]]
        for rank, g in ranked:
            if g is None:
                lines.append(t("stats.rank_elided", locale, n=skipped))
                continue
            lines.append(
                t(
                    "stats.rank_line",
                    locale,
                    rank=rank,
                    name=g.name,
                    on_time=_rate(g.on_time_rate, locale),
                    satisfaction=_rate(g.satisfaction_rate, locale),
                    received=g.received,
                )
            )
    return "\n".join(lines)


async def _stats_month(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    totals, grids = n.params["rates"], n.params["grids"]
    assert isinstance(totals, Rates) and isinstance(grids, list)
    return TgMessage(to.chat_id, stats_text(totals, grids, str(n.params["month"]), to.locale))


async def _home_review(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    return TgMessage(to.chat_id, civic.review(n.params, to.locale), buttons=buttons(n.actions, to.locale, per_row=2))


async def _matter_card(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    closed = n.mode is PostMode.CLOSE
    text = civic.matter_text(n.params, to.locale, result=closed)
    votes = [] if closed else civic.vote_button(int(str(n.params["id"])), ctx.bot_username, to.locale)
    return TgMessage(to.chat_id, text, buttons=votes)


async def _matter_result(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    text = Markup(t("civic.result_header", to.locale) + "\n" + civic.matter_text(n.params, to.locale, result=True))
    return TgMessage(to.chat_id, text)


async def _matter_proposed(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    p = n.params
    lines = [t("civic.proposed", to.locale, id=p["id"], title=p["title"], scope=p["scope"])]
    if p.get("body"):
        lines.append(t("civic.matter_body", to.locale, body=p["body"]))
    if "accepted" in p:
        lines.append(t("civic.proposal_accepted", to.locale, who=p["accepted"]))
    if "declined" in p:
        lines.append(t("civic.proposal_declined", to.locale, who=p["declined"], answer=p["answer"]))
    return TgMessage(to.chat_id, "\n".join(lines), buttons=buttons(n.actions, to.locale, per_row=2))


async def _matter_decided(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    p = n.params
    lines = [t("notice.matter.decided", to.locale, id=p["id"], title=p["title"], decision=p["decision"])]
    for text, number in list(p.get("actions") or []):  # type: ignore[call-overload]
        lines.append(t("civic.follow_up_line", to.locale, text=text, number=number))
    return TgMessage(to.chat_id, "\n".join(lines))


async def _rating_closed(n: Notice, to: Recipient, ctx: ViewContext) -> TgMessage:
    p = n.params
    names = {i.key: i.name(to.locale) for i in ctx.svc.rules.civic.plan.items}
    lines = [
        t(
            "civic.rating_closed",
            to.locale,
            quarter=p["quarter"],
            compound=p["compound"],
            company=p["company"],
            n=p["respondents"],
            score=civic.score(p["score"], to.locale),  # type: ignore[arg-type]
        )
    ]
    for key, mean in list(p.get("means") or []):  # type: ignore[call-overload]
        lines.append(t("civic.rating_mean", to.locale, item=names.get(key, key), mean=f"{mean:.1f}"))
    return TgMessage(to.chat_id, "\n".join(lines))


RENDERERS: dict[str, Renderer] = {
    "rating.closed": _rating_closed,
    "home.review": _home_review,
    "matter.card": _matter_card,
    "matter.result": _matter_result,
    "matter.proposed": _matter_proposed,
    "matter.decided": _matter_decided,
    "call.card": _call_card,
    "fixed.recorded": _fixed_recorded,
    "broadcast.report": _broadcast_report,
    "stats.month": _stats_month,
    "case.card": _case_card,
    "case.resolve_note_asked": _resolve_asked,
    "offer.made": _offer_made,
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
