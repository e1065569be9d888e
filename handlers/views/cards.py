"""Posts that show a thing's state: a case, an activity, a service order."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from domain.kernel.notices import Word
from handlers.i18n import Markup, duration, local_time, t, value
from handlers.text import clip_plain

# A photo caption holds 1,024 characters; the post's other lines need about 300.
CAPTION_DESC_MAX = 600


def map_url(lat: float, lon: float) -> str:
    """A map link that opens in Amap with WGS84 coordinates (what Telegram sends)."""
    return f"https://uri.amap.com/marker?position={lon:.6f},{lat:.6f}&coordinate=wgs84&callnative=0"


def map_link(lat: float, lon: float, locale: str) -> Markup:
    """An HTML link to the map."""
    return Markup(f'<a href="{map_url(lat, lon)}">{t("case.map", locale)}</a>')


def place(params: Mapping[str, object], locale: str) -> Markup:
    """Address or coordinates, with a map link when there are coordinates."""
    address, lat, lon = params.get("address"), params.get("lat"), params.get("lon")
    parts: list[str] = []
    if address:
        parts.append(value(address, locale))
    if isinstance(lat, float | int) and isinstance(lon, float | int):
        if not address:
            parts.append(f"{lat:.5f}, {lon:.5f}")
        parts.append(map_link(float(lat), float(lon), locale))
    return Markup(" ".join(parts)) if parts else t("case.no_place", locale)


def case_card(params: Mapping[str, object], locale: str, above: str | None = None) -> str:
    """The group post of a case: what, where, when, who (by role only) and its state."""
    p = params
    description = str(p.get("description") or "")
    if not description:
        description = str(value(p["category"], locale))  # a photo-only report is described by its category
    title = t("case.title", locale, number=p["number"])
    if p.get("urgent"):
        title = Markup(title + " " + t("case.urgent_tag", locale))
    if p.get("reopen_count"):
        title = Markup(title + " " + t("case.reopened_tag", locale, n=p["reopen_count"]))
    lines: list[str] = []
    if "banner" in p:
        lines.append(value(p["banner"], locale))
    lines += [
        title,
        t("case.category_line", locale, category=p["category"]),
        t("case.description_line", locale, description=clip_plain(description, CAPTION_DESC_MAX)),
        t("case.place_line", locale, place=place(p, locale)),
        t("case.unit_line", locale, unit=p["unit"]),
    ]
    if p.get("fallback"):
        lines.append(t("case.fallback_line", locale))
    created = p.get("created_at")
    state = t("case.state_line", locale, state=p.get("status") or p["state"])
    if p.get("holder"):
        held = p.get("held_since")
        since = t("case.held_since", locale, since=local_time(held)[5:]) if isinstance(held, datetime) else ""
        state = Markup(state + " · " + value(p["holder"], locale) + since)
    lines += [
        t("case.time_line", locale, time=local_time(created) if isinstance(created, datetime) else ""),
        t("case.reporter_line", locale, role=p["role"]),
        state,
    ]
    if p.get("on_behalf"):
        lines.insert(-1, t("case.on_behalf_line", locale, who=p["on_behalf"]))
    lines += clock_lines(p, locale)
    if p.get("followers"):
        lines.append(t("case.followers_line", locale, n=p["followers"]))
    if p.get("departments"):
        items = [t("case.department_item", locale, name=n, state=s) for n, s in p["departments"]]  # type: ignore[attr-defined]
        lines.append(t("case.departments_line", locale, departments=Markup("、".join(items))))
    if p.get("department_note"):
        lines.append(t("case.department_note_line", locale, note=clip_plain(str(p["department_note"]), 200)))
    if above:
        lines.append(t("case.posted_above", locale, unit=above))
    if "note" in p:
        lines.append(value(p["note"], locale))
    history = p.get("history")
    if isinstance(history, list) and history:
        lines.append(t("case.history_header", locale))
        for at, what, who in history:
            step = t("case.history_step", locale, time=local_time(at)[5:], what=what)
            lines.append(Markup(step + " " + value(who, locale)) if who else step)
    return "\n".join(lines)


def clock_lines(p: Mapping[str, object], locale: str) -> list[str]:
    """The clock a case post shows now, and how late the case is."""
    out: list[str] = []
    due = p.get("due")
    if isinstance(due, datetime):
        line = t("case.due_line", locale, deadline=p.get("due_kind", ""), due=local_time(due)[5:])
        if p.get("estimated"):
            line = Markup(line + t("case.due_estimated", locale))
        out.append(line)
    overdue = p.get("overdue_minutes")
    if isinstance(overdue, int):
        out.append(
            t("case.overdue_line", locale, deadline=p.get("overdue_kind", ""), duration=duration(overdue, locale))
        )
    return out


def activity_card(params: Mapping[str, object], locale: str, header: bool = False) -> str:
    """An activity as people read it (with the 志愿活动 header on a group post)."""
    p = params
    start, end = p["start"], p["end"]
    assert isinstance(start, datetime) and isinstance(end, datetime)
    first = t("act.title", locale, title=p["title"]) if header else Markup(f"<b>{value(p['title'], locale)}</b>")
    lines = [
        first,
        t("act.when", locale, start=local_time(start), end=local_time(end)[-5:]),
        t("act.where", locale, place=p["place"]),
        t("act.seats", locale, left=p["left"], capacity=p["capacity"]),
        t(f"act.rule.{p['points_rule']}", locale, points=p["points"]),
    ]
    if p.get("description"):
        lines.append(value(clip_plain(str(p["description"]), 300), locale))
    return "\n".join(lines)


def order_card(params: Mapping[str, object], locale: str) -> str:
    """A service order in the community's group (the request, never the requester)."""
    p = params
    lines = [
        t("order.title", locale, id=p["id"]),
        t("order.what", locale, what=p["what"]),
        t("order.when", locale, when=p.get("when") or Word("order.when_choice.asap")),
        t("order.where", locale, unit=p["unit"]),
    ]
    if p.get("taker"):
        lines.append(t("order.taken_by", locale, who=p["taker"]))
    return "\n".join(lines)
