"""Replies of the volunteer side: the 志愿服务 menu, activities, registration, service orders, the activity form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.kernel.notices import Word
from domain.kernel.people import User
from domain.org.model import Unit
from domain.volunteering.activities import activity_params
from domain.volunteering.activity_form import FIELDS
from domain.volunteering.model import Activity, Signup, Team, Volunteer
from domain.volunteering.orders import WHEN_CHOICES
from domain.volunteering.registration import masked_phone
from handlers.callbacks import ActCb, FormCb, OrdCb, ShopCb, VolCb
from handlers.i18n import Markup, local_time, plain, t, value
from handlers.views.cards import activity_card
from handlers.views.messages import Button, TgMessage, rows


def volunteer_menu(chat_id: int, locale: str, registered: bool) -> TgMessage:
    """The 志愿服务 submenu (with 注册志愿者 for those not registered yet)."""
    second = [Button(plain("menu.points", locale), ShopCb(a="standing").pack())]
    if not registered:
        second.append(Button(plain("vol.register_button", locale), VolCb(a="reg").pack()))
    return TgMessage(
        chat_id,
        t("act.menu", locale),
        buttons=[
            [
                Button(plain("act.upcoming_button", locale), ActCb(a="list", id=0).pack()),
                Button(plain("act.mine_button", locale), ActCb(a="mine", id=0).pack()),
            ],
            second,
        ],
    )


def register_first(chat_id: int, title: str, locale: str) -> TgMessage:
    """Someone not yet registered asks to join an activity: register first, then sign up."""
    return TgMessage(
        chat_id,
        t("act.register_first", locale, title=title),
        buttons=[[Button(plain("vol.register_button", locale), VolCb(a="reg").pack())]],
    )


def upcoming(chat_id: int, acts: list[Activity], locale: str) -> TgMessage:
    """Upcoming activities with seats left and a sign-up button each."""
    if not acts:
        return TgMessage(chat_id, t("act.none", locale))
    text = "\n\n".join(activity_card(activity_params(a), locale) for a in acts)
    buttons = [
        [
            Button(
                plain("act.join_named", locale, title=a.title[:20], left=a.seats_left), ActCb(a="join", id=a.id).pack()
            )
        ]
        for a in acts
    ]
    return TgMessage(chat_id, t("act.upcoming_header", locale) + "\n\n" + text, buttons=buttons)


def my_activity(chat_id: int, act: Activity, signup: Signup, locale: str) -> TgMessage:
    """One of my activities, with check-in / check-out / cancel buttons."""
    lines = [
        Markup(f"<b>{value(act.title, locale)}</b>"),
        t("act.when", locale, start=local_time(act.start), end=local_time(act.end)[-5:]),
        t("act.state_line", locale, state=Word(f"activity.state.{signup.state}")),
    ]
    if signup.hours is not None:
        lines.append(t("act.hours_done", locale, hours=signup.hours))
    buttons: list[list[Button]] = []
    if signup.state in ("confirmed", "attended") and signup.checkout_at is None:
        buttons.append(
            [
                Button(plain("act.checkin_button", locale), ActCb(a="in", id=act.id).pack()),
                Button(plain("act.checkout_button", locale), ActCb(a="out", id=act.id).pack()),
            ]
        )
    if signup.state in ("confirmed", "waitlisted"):
        buttons.append([Button(plain("act.cancel_button", locale), ActCb(a="leave", id=act.id).pack())])
    return TgMessage(chat_id, "\n".join(lines), buttons=buttons)


def check_prompt(chat_id: int, out: bool, locale: str) -> TgMessage:
    """Ask for the location (one tap) or the organiser's code."""
    return TgMessage(
        chat_id,
        t(f"act.{'checkout' if out else 'checkin'}_ask", locale),
        request_location=plain("act.share_location", locale),
        reply_keyboard=[[plain("draft.cancel", locale)]],
    )


def attendance(chat_id: int, act: Activity, rows_: list[tuple[Signup, User | None]], locale: str) -> TgMessage:
    """Every sign-up of an activity, for its organisers."""
    lines = [t("act.attendance_header", locale, title=act.title, code=act.checkin_code)]
    for signup, person in rows_:
        hours = t("act.hours_done", locale, hours=signup.hours) if signup.hours is not None else ""
        lines.append(
            t(
                "act.attendance_line",
                locale,
                name=person.display_name if person else "?",
                state=Word(f"activity.state.{signup.state}"),
                hours=hours,
            )
        )
    return TgMessage(chat_id, "\n".join(lines))


def ask_phone(chat_id: int, locale: str) -> TgMessage:
    """Registration step 1: the phone number, only through Telegram's own contact button."""
    return TgMessage(
        chat_id,
        t("vol.ask_phone", locale),
        request_contact=plain("vol.share_phone", locale),
        reply_keyboard=[[plain("draft.cancel", locale)]],
    )


def ask_community(chat_id: int, communities: list[Unit], locale: str) -> TgMessage:
    """Registration step 3: the community."""
    buttons = [Button(u.name, VolCb(a="comm", v=u.code).pack()) for u in communities]
    return TgMessage(chat_id, t("vol.ask_community", locale), buttons=rows(buttons, 2))


def ask_team(chat_id: int, teams: list[Team], locale: str) -> TgMessage:
    """Registration's last, optional step: a team."""
    buttons = [[Button(tm.name, VolCb(a="team", v=str(tm.id)).pack())] for tm in teams]
    buttons.append([Button(plain("vol.no_team", locale), VolCb(a="team").pack())])
    return TgMessage(chat_id, t("vol.ask_team", locale), buttons=buttons)


def volunteer_list(chat_id: int, entries: list[tuple[Volunteer, User]], locale: str) -> TgMessage:
    """A community's volunteers, for its staff, with approve buttons for those waiting."""
    if not entries:
        return TgMessage(chat_id, t("vol.list_empty", locale))
    lines = [t("vol.list_header", locale, n=len(entries))]
    lines += [
        t(
            "vol.list_line",
            locale,
            name=vol.real_name or u.display_name,
            phone=masked_phone(vol.phone),
            state=Word(f"volunteer.state.{vol.state}"),
        )
        for vol, u in entries
    ]
    buttons = [
        [Button(plain("vol.approve_named", locale, name=vol.real_name or "?"), VolCb(a="ok", v=str(u.id)).pack())]
        for vol, u in entries
        if vol.state == "pending"
    ]
    return TgMessage(chat_id, "\n".join(lines), buttons=buttons)


def order_when(chat_id: int, order_id: int, what: str, locale: str) -> TgMessage:
    """A service request: when is it needed?"""
    buttons = [
        Button(plain(f"order.when_choice.{w}", locale), OrdCb(a=f"w-{w}", id=order_id).pack()) for w in WHEN_CHOICES
    ]
    return TgMessage(chat_id, t("order.ask_when", locale, what=what), buttons=rows(buttons, 2))


def order_community(chat_id: int, order_id: int, communities: list[Unit], locale: str) -> TgMessage:
    """A service request: which community?"""
    buttons = [Button(u.name, OrdCb(a=f"c-{u.code}", id=order_id).pack()) for u in communities]
    return TgMessage(chat_id, t("order.ask_community", locale), buttons=rows(buttons, 2))


def form_communities(chat_id: int, options: list[Unit], locale: str) -> TgMessage:
    """/newactivity: which community."""
    buttons = [Button(u.name, FormCb(a="community", v=u.code).pack()) for u in options]
    return TgMessage(chat_id, t("form.ask.community", locale), buttons=rows(buttons, 2))


def form_prompt(chat_id: int, data: Mapping[str, Any], teams: list[Team], locale: str) -> TgMessage:
    """Ask for the form's current step (with buttons where the answer is a choice)."""
    step = data.get("step")
    if step == "points_rule":
        return TgMessage(
            chat_id,
            t("form.ask.points_rule", locale),
            buttons=[
                [
                    Button(plain("form.rule_per_hour", locale), FormCb(a="points_rule", v="per_hour").pack()),
                    Button(plain("form.rule_fixed", locale), FormCb(a="points_rule", v="fixed").pack()),
                ]
            ],
        )
    if step == "team":
        buttons = [[Button(tm.name, FormCb(a="team", v=str(tm.id)).pack())] for tm in teams]
        buttons.append([Button(plain("form.no_team", locale), FormCb(a="team").pack())])
        return TgMessage(chat_id, t("form.ask.team", locale), buttons=buttons)
    if step == "confirm":
        summary = "\n".join(
            t("form.summary_line", locale, field=Markup(t(f"form.field.{k}", locale)), value=str(data.get(k) or "-"))
            for k in FIELDS
        )
        return TgMessage(
            chat_id,
            t("form.confirm", locale) + "\n" + summary,
            buttons=[
                [
                    Button(plain("form.publish", locale), FormCb(a="publish").pack()),
                    Button(plain("form.cancel", locale), FormCb(a="cancel").pack()),
                ]
            ],
        )
    return TgMessage(chat_id, t(f"form.ask.{step}", locale))
