"""Texts and buttons of the messages the domain itself causes (group posts, reporter notices)."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta, timezone

from domain.i18n import t
from domain.model import Button, Case, CaseState, Unit
from domain.privacy import mask_personal_numbers

CHINA_TZ = timezone(timedelta(hours=8))
# Telegram caps a photo caption at 1024 characters; the post's other lines need about 300.
_CAPTION_DESC_MAX = 600


def local_time(at: datetime) -> str:
    """A timestamp as people in China read it."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def map_url(lat: float, lon: float) -> str:
    """A map link that opens in Amap with WGS84 coordinates (what Telegram sends)."""
    return f"https://uri.amap.com/marker?position={lon:.6f},{lat:.6f}&coordinate=wgs84&callnative=0"


def place_line(case: Case, locale: str) -> str:
    """Address or coordinates, with a map link when there are coordinates."""
    parts: list[str] = []
    if case.address:
        parts.append(html.escape(case.address))
    if case.lat is not None and case.lon is not None:
        if not case.address:
            parts.append(f"{case.lat:.5f}, {case.lon:.5f}")
        parts.append(f'<a href="{map_url(case.lat, case.lon)}">{t("case.map", locale)}</a>')
    return " ".join(parts) if parts else t("case.no_place", locale)


def case_post(case: Case, unit: Unit, locale: str, status: str, actor: str | None = None) -> str:
    """The group post of a case: what, where, when, who (by role only) and its state."""
    desc = mask_personal_numbers(case.description)
    if len(desc) > _CAPTION_DESC_MAX:
        desc = desc[: _CAPTION_DESC_MAX - 1] + "…"
    lines = [
        t("case.title", locale, number=case.number)
        + (" " + t("case.reopened_tag", locale, n=case.reopen_count) if case.reopen_count else ""),
        t("case.category_line", locale, category=t(f"category.{case.category}", locale)),
        t("case.description_line", locale, description=html.escape(desc)),
        t("case.place_line", locale, place=place_line(case, locale)),
        t("case.unit_line", locale, unit=html.escape(unit.name)),
    ]
    if case.fallback:
        lines.append(t("case.fallback_line", locale))
    lines += [
        t("case.time_line", locale, time=local_time(case.created_at)),
        t("case.reporter_line", locale, role=t(f"role.{case.reporter_role.value}", locale)),
        t("case.state_line", locale, state=status) + (" · " + html.escape(actor) if actor else ""),
    ]
    return "\n".join(lines)


def case_buttons(case: Case, unit: Unit, locale: str) -> list[list[Button]]:
    """Buttons that follow the state; stale ones carry the old revision and are refused."""

    def cb(action: str) -> Button:
        return Button(t(f"case.btn.{action}", locale), cb=("case", {"a": action, "id": case.id, "rev": case.rev}))

    if case.state is CaseState.NEW:
        row = [cb("claim")]
        if unit.level.value == "grid":
            row.append(cb("reject"))
        else:
            row.append(cb("dispatch"))
        return [row, [cb("recat")]]
    if case.state is CaseState.CLAIMED:
        row = [cb("onsite"), cb("reject")] if unit.level.value == "grid" else [cb("onsite")]
        return [row, [cb("recat")]]
    if case.state is CaseState.ON_SITE:
        return [[cb("resolve"), cb("recat")]]
    return []


def category_choice(case: Case, locale: str) -> list[list[Button]]:
    """The nine categories for staff correcting a case (the current one marked)."""
    from domain.model import CATEGORIES

    buttons = [
        Button(
            ("✓ " if c == case.category else "") + t(f"category.{c}", locale),
            cb=("rc", {"id": case.id, "rev": case.rev, "c": c}),
        )
        for c in CATEGORIES
    ]
    return [buttons[i : i + 3] for i in range(0, len(buttons), 3)]


def state_label(state: CaseState, locale: str) -> str:
    """A state as a word."""
    return t(f"state.{state.value}", locale)


def rating_buttons(case: Case, locale: str) -> list[list[Button]]:
    """满意 / 基本满意 / 不满意 for the reporter."""
    return [
        [
            Button(t(f"rating.{r}", locale), cb=("rate", {"id": case.id, "r": r, "rev": case.rev}))
            for r in ("satisfied", "basic", "unsatisfied")
        ]
    ]
