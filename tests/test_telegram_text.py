"""Every message is one Telegram accepts: escaping, UTF-16 lengths, clipping on text boundaries, hostile values."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.demo_cast import ADMIN, COMMUNITY_GROUP, COMMUNITY_STAFF, GRID_GROUP, RESIDENT, WORKER
from bot.scripted import Person, Script
from domain.kernel.notices import Action, Audience, Notice, Phrase, PostMode, Subject, Word
from handlers.i18n import TEXTS, t
from handlers.text import (
    CAPTION_MAX,
    TEXT_MAX,
    HtmlError,
    check_html,
    clip_html,
    parse_html,
    utf16_len,
)
from handlers.views import render
from handlers.views.audience import Recipient
from handlers.views.messages import TgMessage

HOSTILE = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["<b>", "</b>", "<a href='x'>", "&", "&amp;", "<script>", "😀" * 3000, "x" * 5000, "\U0001f600<"]),
    st.text(alphabet=st.sampled_from("<>&\"'😀中a \n"), min_size=1, max_size=200),
)


def test_lengths_are_utf16_units() -> None:
    assert utf16_len("abc") == 3 and utf16_len("中文") == 2 and utf16_len("😀") == 2
    assert utf16_len("😀" * 4096) == 8192


def test_telegram_html_rules() -> None:
    assert parse_html("<b>a &lt;b&gt; &amp; c</b>") == "a <b> & c"
    for bad in ("<b>open", "</b>", "<div>x</div>", "a < b", "a & b", "<a>x</a>", "<b><i>x</b></i>"):
        with pytest.raises(HtmlError):
            parse_html(bad)
    with pytest.raises(HtmlError):
        check_html("😀" * 2049)  # 4,098 units
    check_html("😀" * 2048)
    with pytest.raises(HtmlError):
        check_html(" ")


def test_clipping_never_cuts_a_tag_or_an_entity() -> None:
    text = "<b>" + "&lt;" * 5000 + "</b>"
    clipped = clip_html(text, 100)
    assert parse_html(clipped).endswith("…") and utf16_len(parse_html(clipped)) <= 100
    assert clipped.endswith("</b>")
    emoji = clip_html("😀" * 4096, TEXT_MAX)
    check_html(emoji)


class _Ctx:
    bot_username = "gridbot_demo_bot"

    @property
    def svc(self) -> Any:
        raise AssertionError("no lookups in this test")


def _hostile_params(template: str, value: str) -> dict[str, object]:
    return {name: value for name in re.findall(r"\{(\w+)\}", template)}


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(value=HOSTILE, locale=st.sampled_from(["zh-CN", "en"]))
def test_every_template_renders_to_html_telegram_accepts(value: str, locale: str) -> None:
    for key in sorted(TEXTS.keys(locale)):
        template = TEXTS.template(key, locale) or ""
        if not re.sub(r"\{\w+\}", "", template).strip():
            continue  # a fragment ('{state}'), only ever part of a larger message
        message = TgMessage(1, t(key, locale, **_hostile_params(template, value)) or "-")
        check_html(message.payload()["text"], TEXT_MAX)
        check_html(TgMessage(1, message.text, photo="p").payload()["text"], CAPTION_MAX, allow_empty=True)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(value=HOSTILE, other=HOSTILE)
async def test_notices_with_hostile_values_render_to_accepted_messages(value: str, other: str) -> None:
    when = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    card = {
        "number": "SB1",
        "reopen_count": 2,
        "category": Word("category.parking"),
        "description": value,
        "address": other,
        "lat": 36.6,
        "lon": 117.0,
        "unit": other,
        "fallback": True,
        "created_at": when,
        "role": Word("role.rider"),
        "state": Word("state.new"),
        "actor": value,
        "status": Phrase("case.status.moved_to", {"unit": value}),
        "banner": Phrase("case.banner.rework"),
        "note": Phrase("case.note.recategorized", {"change": value}),
    }
    activity = {
        "id": 1,
        "title": value,
        "description": other,
        "place": value,
        "start": when,
        "end": when,
        "left": 1,
        "capacity": 2,
        "points_rule": "fixed",
        "points": 5,
    }
    notices = [
        Notice("case.card", Audience.unit("G1"), card, (Action("case.claim", 1, 1),), Subject("case", 1), PostMode.NEW),
        Notice("activity.card", Audience.unit("C1"), activity, (Action("activity.join", 1),)),
        Notice("order.card", Audience.unit("C1"), {"id": 1, "what": value, "unit": other, "taker": value}),
        Notice("volunteer.review", Audience.unit("C1"), {"name": value, "phone": other}),
        Notice(
            "points.board",
            Audience.unit("C1"),
            {"year": 2026, "month": 11, "unit": value, "entries": [(value, 3), (other, 2)]},
        ),
        Notice("case.resolved", Audience.person(1), {"number": "SB1", "note": value}, photo="p"),
        Notice("points.awarded", Audience.person(1), {"points": 5, "reason": value}),
    ]
    for notice in notices:
        message = await render.notice(notice, Recipient(1, "zh-CN", None, True), _Ctx())
        assert message is not None
        payload = message.payload()
        check_html(payload["text"], CAPTION_MAX if payload.get("photo") else TEXT_MAX, allow_empty=True)
        for row in payload.get("buttons", []):
            for b in row:
                assert b["text"] and utf16_len(b["text"]) <= 64 and len(b.get("data", "").encode()) <= 64


HOSTILE_NAME = Person(880777, "<b>坏</b> & <i>", "bad_name")


async def test_hostile_commands_and_names_are_answered_with_valid_messages(district: Script) -> None:
    """Replies echo what people typed; every one must still be a message Telegram accepts (the strict session
    fails the test otherwise)."""
    s = district
    await s.say(ADMIN, "/bind <b>", group=GRID_GROUP)
    await s.say(ADMIN, "/staff add @<b>", group=GRID_GROUP)
    await s.say(COMMUNITY_STAFF, "/verify <b>&", group=COMMUNITY_GROUP)
    await s.say(COMMUNITY_STAFF, "/refund </i>", group=COMMUNITY_GROUP)
    await s.say(COMMUNITY_STAFF, "/item <b>洗衣液</b> 10 5", group=COMMUNITY_GROUP)
    await s.say(COMMUNITY_STAFF, "/team <script>", group=COMMUNITY_GROUP)
    await s.say(HOSTILE_NAME, "/start")
    await s.say(HOSTILE_NAME, "楼道里堆满了纸箱子 <b>着火了怎么办</b> " + "😀" * 2500)
    message = s.message_dict(HOSTILE_NAME, "楼道有人充电 <b>", GRID_GROUP)
    await s.say(WORKER, "/report", group=GRID_GROUP, reply_to_message=message)
    await s.say(RESIDENT, "<" * 4000)
    sent = [c for c in s.session.calls if c.method in ("sendMessage", "sendPhoto")]
    assert len(sent) >= 8 and all(c.result != "error" for c in sent)
    group_texts = [str(c.params.get("text")) for c in sent if c.chat_id == GRID_GROUP.id]
    assert not any("坏" in text for text in group_texts)  # /report names nobody in the group


CALLBACK_PREFIXES = ["case", "rate", "disp", "d", "role", "my", "rc", "grp", "clr", "shop", "act", "vol", "ord", "form"]
FUZZ_TEXT = st.one_of(
    HOSTILE,
    st.sampled_from(
        [
            "/start",
            "/help",
            "/cancel",
            "/mine",
            "/bind",
            "/staff",
            "/report",
            "/award",
            "/item",
            "/items",
            "/verify",
            "/refund",
            "/attendance",
            "/noshow",
            "/backfill",
            "/fixtime",
            "/assign",
            "/newactivity",
            "/volunteers",
            "/deactivate",
            "/team",
            "📷 随手拍",
            "✖️ 取消",
        ]
    ),
)
FUZZ_DATA = st.builds(
    lambda p, parts: ":".join([p, *parts])[:64],
    st.sampled_from(CALLBACK_PREFIXES),
    st.lists(st.one_of(st.integers(-(2**70), 2**70).map(str), st.text(max_size=12)), max_size=4),
)


@settings(
    max_examples=120,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    deadline=None,
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["say", "group", "press", "press_group"]), FUZZ_TEXT, FUZZ_DATA, st.integers(0, 3)),
        min_size=1,
        max_size=4,
    )
)
async def test_fuzzed_updates_never_break_a_handler_or_send_what_telegram_refuses(
    district: Script, steps: list[tuple[str, str, str, int]]
) -> None:
    from sqlalchemy import func, select

    from storage.orm import FailedUpdateRow

    people = [RESIDENT, WORKER, COMMUNITY_STAFF, HOSTILE_NAME]
    for kind, text, data, who in steps:
        person = people[who]
        if kind == "say":
            await district.say(person, text or "x")
        elif kind == "group":
            await district.say(person, text or "x", group=GRID_GROUP)
        else:
            await district.press(person, "x", group=GRID_GROUP if kind == "press_group" else None, data=data)
    async with district.app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(FailedUpdateRow))).scalar_one() == 0
    assert district.session.rejected == []
