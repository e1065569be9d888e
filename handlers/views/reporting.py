"""Replies of the report side: the main menu, the draft and its buttons, my cases, a case's timeline."""

from __future__ import annotations

from domain.cases.model import CATEGORIES, Case, Draft
from domain.cases.sla import Levels
from domain.cases.timeline import Step
from domain.kernel.notices import Phrase, Word
from domain.org.model import Unit
from handlers.callbacks import ClarifyCb, DraftCb, MyCaseCb
from handlers.i18n import Markup, local_time, plain, t, value
from handlers.text import clip_plain
from handlers.views.cards import map_link
from handlers.views.messages import Button, TgMessage, rows


def menu_labels(locale: str) -> dict[str, str]:
    """Main reply-keyboard labels → action."""
    return {
        plain("menu.report", locale): "report",
        plain("menu.mine", locale): "mine",
        plain("menu.volunteer", locale): "volunteer",
        plain("menu.shop", locale): "shop",
        plain("menu.points", locale): "points",
        plain("menu.help", locale): "help",
    }


def main_menu(chat_id: int, text: str, locale: str) -> TgMessage:
    """A message that (re)shows the main reply keyboard."""
    labels = list(menu_labels(locale))
    return TgMessage(chat_id, text, reply_keyboard=[labels[:2], labels[2:4], labels[4:]])


def place_keyboard(chat_id: int, text: str, locale: str) -> TgMessage:
    """Ask for the place: share location with one tap, or pick a grid, or cancel."""
    return TgMessage(
        chat_id,
        text,
        request_location=plain("draft.send_location", locale),
        reply_keyboard=[[plain("draft.pick_grid", locale), plain("draft.cancel", locale)]],
    )


def category_buttons(locale: str, only: list[str] | None = None) -> list[list[Button]]:
    """Categories as buttons, three to a row."""
    return rows([Button(plain(f"category.{c}", locale), DraftCb(a="cat", v=c).pack()) for c in only or CATEGORIES], 3)


def emergency_text(advice: list[tuple[str, str]], locale: str, key: str = "emergency.first") -> str:
    """Whom to call first, in words."""
    items = [t("emergency.item", locale, service=Word(f"emergency.{s}"), number=n) for s, n in advice]
    return t(key, locale, numbers=Markup("、".join(items)))


def emergency(chat_id: int, advice: list[tuple[str, str]], locale: str) -> TgMessage:
    """Danger to life: whom to call first, before anything else."""
    return TgMessage(chat_id, emergency_text(advice, locale))


def promise(levels: Levels) -> Phrase:
    """What an urgent report is promised, from the policy in force (1 分钟内接单、10 分钟内到场)."""
    parts = [
        Phrase(f"promise.{kind}", {"d": d.words()})
        for kind in ("claim", "on_site", "resolve")
        if (d := levels.get(kind)) is not None
    ][:2]
    return Phrase("promise.join", {"a": parts[0], "b": parts[1]}) if len(parts) == 2 else parts[0]


def draft_status(
    chat_id: int, draft: Draft, unit: Unit | None, locale: str, fallback: bool, urgent: Levels | None = None
) -> TgMessage:
    """What the draft has and what it still needs, with the next buttons."""
    lines = [t("draft.header", locale)]
    if draft.text:
        lines.append(t("draft.desc", locale, text=clip_plain(draft.text, 300)))
    if draft.photo_file_id:
        lines.append(t("draft.has_photo", locale))
    if unit is not None:
        where = f"{draft.address} · {unit.name}" if draft.address else unit.name
        lines.append(t("draft.place", locale, place=where))
        if fallback:
            lines.append(t("draft.fallback", locale, unit=unit.name))
    if draft.category and not draft.candidates:
        lines.append(t("draft.category", locale, category=Word(f"category.{draft.category}")))
    if draft.place_hint:
        lines.append(t("draft.place_hint", locale, place=draft.place_hint))
    if draft.on_behalf:
        lines.append(t("draft.on_behalf", locale, who=draft.on_behalf))
    if draft.urgent and urgent is not None:
        lines.append(t("draft.urgent_line", locale, promise=promise(urgent)))
    if draft.candidates and draft.text:
        lines.append(t("draft.unsure_category", locale))
        return TgMessage(
            chat_id,
            "\n".join(lines),
            buttons=[
                category_buttons(locale, draft.candidates)[0],
                [Button(plain("draft.more_categories", locale), DraftCb(a="cats").pack())],
            ],
        )
    if not draft.has_description:
        if draft.photo_file_id:
            lines.append(t("draft.need_category", locale))
            return TgMessage(chat_id, "\n".join(lines), buttons=category_buttons(locale))
        lines.append(t("draft.need_description", locale))
        return TgMessage(chat_id, "\n".join(lines))
    if not draft.has_place:
        lines.append(t("draft.need_place", locale))
        return place_keyboard(chat_id, "\n".join(lines), locale)
    lines.append(t("draft.ready", locale))
    urgency = (
        Button(plain("draft.urgent_off", locale), DraftCb(a="urgent", v="0").pack())
        if draft.urgent
        else Button(plain("draft.urgent_on", locale), DraftCb(a="urgent", v="1").pack())
    )
    return TgMessage(
        chat_id,
        "\n".join(lines),
        buttons=[
            [
                Button(plain("draft.submit", locale), DraftCb(a="submit").pack()),
                Button(plain("draft.change_category", locale), DraftCb(a="cats").pack()),
            ],
            [urgency],
        ],
    )


def duplicate_question(chat_id: int, case: Case, locale: str) -> TgMessage:
    """附近已有相同问题 …，是同一件吗？ [是，关注它] [不是，继续上报]."""
    text = t(
        "draft.duplicate",
        locale,
        number=case.number,
        state=Word(f"state.{case.state.value}"),
        description=clip_plain(case.description or plain(f"category.{case.category}", locale), 80),
    )
    return TgMessage(
        chat_id,
        text,
        buttons=[
            [
                Button(plain("draft.dup_follow", locale), DraftCb(a="follow", v=str(case.id)).pack()),
                Button(plain("draft.dup_new", locale), DraftCb(a="submit", v="new").pack()),
            ]
        ],
    )


def clarify(chat_id: int, example_id: int, intents: list[str], locale: str) -> TgMessage:
    """Ask which of the top intents the sender meant."""
    buttons = [[Button(plain(f"intent.{i}", locale), ClarifyCb(id=example_id, i=i).pack())] for i in intents]
    return TgMessage(chat_id, t("clarify.ask", locale), buttons=buttons)


def unit_buttons(units: list[Unit], action: str, locale: str, back: bool = False) -> list[list[Button]]:
    """Units as draft buttons, two to a row."""
    out = rows([Button(u.name, DraftCb(a=action, v=u.code).pack()) for u in units], 2)
    if back:
        out.append([Button(plain("draft.back", locale), DraftCb(a="comm").pack())])
    return out


def submitted(chat_id: int, case: Case, unit: Unit, locale: str) -> TgMessage:
    """Confirmation to the reporter, with the main menu back."""
    key = "report.submitted_fallback" if case.fallback else "report.submitted"
    return main_menu(chat_id, t(key, locale, number=case.number, unit=unit.name), locale)


def my_cases(chat_id: int, cases: list[Case], locale: str) -> TgMessage:
    """The reporter's cases, one button each."""
    if not cases:
        return TgMessage(chat_id, t("mine.empty", locale))
    buttons = [
        [
            Button(
                f"{c.number} · {plain(f'category.{c.category}', locale)} · {plain(f'state.{c.state.value}', locale)}",
                MyCaseCb(id=c.id).pack(),
            )
        ]
        for c in cases
    ]
    return TgMessage(chat_id, t("mine.header", locale, n=len(cases)), buttons=buttons)


# What a reporter reads of a step besides what happened: the outcome and their own verdicts, never staff's
# internal notes or names.
REPORTER_DETAILS = frozenset({"resolve", "rate", "reopen", "follow_up", "recategorize", "overdue", "merge", "pause"})


def timeline(chat_id: int, case: Case, steps: list[Step], locale: str) -> TgMessage:
    """One case and its history."""
    description = case.description or plain(f"category.{case.category}", locale)
    lines: list[str] = [
        t("case.title", locale, number=case.number),
        t("case.category_line", locale, category=Word(f"category.{case.category}")),
        t("case.description_line", locale, description=clip_plain(description, 500)),
        t("case.state_line", locale, state=Word(f"state.{case.state.value}")),
    ]
    if case.lat is not None and case.lon is not None:
        lines.append(map_link(case.lat, case.lon, locale))
    lines.append(t("mine.timeline", locale))
    for step in steps:
        line = f"· {local_time(step.at)} {value(step.what, locale)}"
        if step.detail is not None and step.action in REPORTER_DETAILS:
            shown = step.detail if not isinstance(step.detail, str) else clip_plain(step.detail, 200)
            line += f"：{value(shown, locale)}"
        lines.append(line)
    return TgMessage(chat_id, "\n".join(lines))
