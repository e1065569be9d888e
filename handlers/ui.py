"""Replies to the acting user, built as domain OutMessages so they travel through the outbox."""

from __future__ import annotations

import html

from aiogram.types import CallbackQuery

from domain.i18n import t
from domain.model import CATEGORIES, Button, Case, CaseEvent, Draft, OutMessage, Unit, User
from domain.render import local_time, map_url, state_label


def reply_chat(query: CallbackQuery, user: User) -> int:
    """The chat a button press is answered in: the button's own chat, else the presser's private chat."""
    if query.message is not None:
        return query.message.chat.id
    return user.private_chat_id or 0


def menu_labels(locale: str) -> dict[str, str]:
    """Main reply-keyboard labels → action."""
    return {
        t("menu.report", locale): "report",
        t("menu.mine", locale): "mine",
        t("menu.volunteer", locale): "volunteer",
        t("menu.shop", locale): "shop",
        t("menu.points", locale): "points",
        t("menu.help", locale): "help",
    }


def main_menu(chat_id: int, text: str, locale: str) -> OutMessage:
    """A message that (re)shows the main reply keyboard."""
    labels = list(menu_labels(locale))
    return OutMessage(chat_id, text, reply_keyboard=[labels[:2], labels[2:4], labels[4:]])


def place_keyboard(chat_id: int, text: str, locale: str) -> OutMessage:
    """Ask for the place: share location with one tap, or pick a grid, or cancel."""
    return OutMessage(
        chat_id,
        text,
        request_location=t("draft.send_location", locale),
        reply_keyboard=[[t("draft.pick_grid", locale), t("draft.cancel", locale)]],
    )


def category_buttons(locale: str) -> list[list[Button]]:
    """Nine categories, three per row."""
    buttons = [Button(t(f"category.{c}", locale), cb=("d", {"a": "cat", "v": c})) for c in CATEGORIES]
    return [buttons[i : i + 3] for i in range(0, len(buttons), 3)]


def draft_status(chat_id: int, draft: Draft, unit: Unit | None, locale: str, fallback_note: bool) -> OutMessage:
    """What the draft has and what it still needs, with the next buttons."""
    lines = [t("draft.header", locale)]
    if draft.text:
        lines.append(t("draft.desc", locale, text=html.escape(draft.text[:300])))
    if draft.photo_file_id:
        lines.append(t("draft.has_photo", locale))
    if unit is not None:
        where = html.escape(draft.address) + " · " if draft.address else ""
        lines.append(t("draft.place", locale, place=where + html.escape(unit.name)))
        if fallback_note:
            lines.append(t("draft.fallback", locale, unit=html.escape(unit.name)))
    if draft.category and not draft.candidates:
        lines.append(t("draft.category", locale, category=t(f"category.{draft.category}", locale)))
    if draft.place_hint:
        lines.append(t("draft.place_hint", locale, place=html.escape(draft.place_hint)))
    if draft.candidates and draft.text:
        lines.append(t("draft.unsure_category", locale))
        buttons = [Button(t(f"category.{c}", locale), cb=("d", {"a": "cat", "v": c})) for c in draft.candidates]
        return OutMessage(
            chat_id,
            "\n".join(lines),
            buttons=[buttons, [Button(t("draft.more_categories", locale), cb=("d", {"a": "cats"}))]],
        )
    if not draft.has_description:
        if draft.photo_file_id:
            lines.append(t("draft.need_category", locale))
            return OutMessage(chat_id, "\n".join(lines), buttons=category_buttons(locale))
        lines.append(t("draft.need_description", locale))
        return OutMessage(chat_id, "\n".join(lines))
    if not draft.has_place:
        lines.append(t("draft.need_place", locale))
        return place_keyboard(chat_id, "\n".join(lines), locale)
    lines.append(t("draft.ready", locale))
    return OutMessage(
        chat_id,
        "\n".join(lines),
        buttons=[
            [
                Button(t("draft.submit", locale), cb=("d", {"a": "submit"})),
                Button(t("draft.change_category", locale), cb=("d", {"a": "cats"})),
            ]
        ],
    )


def clarify(chat_id: int, example_id: int, intents: list[str], locale: str) -> OutMessage:
    """Ask which of the top intents the sender meant."""
    buttons = [[Button(t(f"intent.{i}", locale), cb=("clr", {"id": example_id, "i": i}))] for i in intents]
    return OutMessage(chat_id, t("clarify.ask", locale), buttons=buttons)


def unit_buttons(units: list[Unit], action: str, locale: str, back: bool = False) -> list[list[Button]]:
    """Units as buttons, two per row."""
    buttons = [Button(u.name, cb=("d", {"a": action, "v": u.code})) for u in units]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if back:
        rows.append([Button(t("draft.back", locale), cb=("d", {"a": "comm"}))])
    return rows


def submitted(chat_id: int, case: Case, unit: Unit, locale: str) -> OutMessage:
    """Confirmation to the reporter, with the main menu back."""
    key = "report.submitted_fallback" if case.fallback else "report.submitted"
    return main_menu(chat_id, t(key, locale, number=case.number, unit=html.escape(unit.name)), locale)


def my_cases(chat_id: int, cases: list[Case], locale: str) -> OutMessage:
    """The reporter's cases, one button each."""
    if not cases:
        return OutMessage(chat_id, t("mine.empty", locale))
    rows = [
        [
            Button(
                f"{c.number} · {t(f'category.{c.category}', locale)} · {state_label(c.state, locale)}",
                cb=("my", {"id": c.id}),
            )
        ]
        for c in cases
    ]
    return OutMessage(chat_id, t("mine.header", locale, n=len(cases)), buttons=rows)


def timeline(chat_id: int, case: Case, events: list[CaseEvent], locale: str) -> OutMessage:
    """One case and its history."""
    lines = [
        t("case.title", locale, number=case.number),
        t("case.category_line", locale, category=t(f"category.{case.category}", locale)),
        t("case.description_line", locale, description=html.escape(case.description[:500])),
        t("case.state_line", locale, state=state_label(case.state, locale)),
    ]
    if case.lat is not None and case.lon is not None:
        lines.append(f'<a href="{map_url(case.lat, case.lon)}">{t("case.map", locale)}</a>')
    lines.append(t("mine.timeline", locale))
    for e in events:
        line = f"· {local_time(e.at)} {t(f'action.{e.action}', locale)}"
        if e.note:
            line += f"：{html.escape(e.note[:200])}"
        lines.append(line)
    return OutMessage(chat_id, "\n".join(lines))
