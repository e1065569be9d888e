"""Private chat: greeting, role, the report draft (photo, text, place in any order), my reports, rating.

A text message is read in one documented order (`domain/kernel/awaiting.py`): a menu label or command acts
at once; else the awaited reply (resolve note, check-in code, registration name, form answer); else an open
draft takes it; else the classifier decides.
"""

from __future__ import annotations

import re

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message

from domain.cases.model import Classification
from domain.cases.ports import Classifier
from domain.kernel.awaiting import Awaited, Awaiting
from domain.kernel.errors import Invalid
from domain.kernel.people import Role, User
from domain.services import Services
from handlers import activities, cases_admin, civic, forms, orders, points, volunteers
from handlers.callbacks import ClarifyCb, DraftCb, MyCaseCb, RateCb, RoleCb, bounded_id
from handlers.context import Tg, reply_chat
from handlers.i18n import plain, t
from handlers.views import reporting as views
from handlers.views.messages import Button, TgMessage


def router() -> Router:
    """Private-chat router (fresh instance per dispatcher)."""
    r = Router(name="private")
    r.message.filter(F.chat.type == ChatType.PRIVATE)
    r.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)

    @r.message(CommandStart())
    async def start(message: Message, command: CommandObject, svc: Services, user: User, tg: Tg) -> None:
        payload = (command.args or "").strip()
        if re.fullmatch(r"m\d{1,15}", payload):
            # From a group's [投票] button: the ballot, privately.
            await civic.show_ballot(message.chat.id, svc, user, tg, int(payload[1:]))
            return
        if payload == "home":
            await civic.start_registration(message.chat.id, svc, user, tg)
            return
        await tg.send(views.main_menu(message.chat.id, t("start.greeting", user.locale), user.locale))
        draft = await svc.reports.draft(user)
        if draft is not None and (draft.text or draft.photo_file_id):
            # e.g. arriving from a group's "open private chat" link with a draft waiting
            await status(message.chat.id, svc, user, tg, draft.unit_code)
        if user.role is None:
            await tg.send(
                TgMessage(
                    message.chat.id,
                    t("start.ask_role", user.locale),
                    buttons=[
                        [
                            Button(plain("role.rider", user.locale), RoleCb(r="rider").pack()),
                            Button(plain("role.resident", user.locale), RoleCb(r="resident").pack()),
                        ]
                    ],
                )
            )

    @r.callback_query(RoleCb.filter())
    async def choose_role(query: CallbackQuery, callback_data: RoleCb, svc: Services, user: User, tg: Tg) -> None:
        try:
            role = Role(callback_data.r)
        except ValueError:
            raise Invalid("stale_button") from None
        await svc.people.set_role(user, role)
        tg.answer(plain("start.role_set", user.locale, role=plain(f"role.{role.value}", user.locale)))

    @r.message(Command("console"))
    async def console(message: Message, svc: Services, user: User, tg: Tg) -> None:
        token = await svc.access.issue_link(user)
        if tg.console_url is None:
            await tg.send(TgMessage(message.chat.id, t("console.not_configured", user.locale)))
            return
        link = f"{tg.console_url}/console/login?t={token}"
        await tg.send(TgMessage(message.chat.id, t("console.link", user.locale, url=link), secret=True))

    @r.message(Command("help"))
    async def help_(message: Message, user: User, tg: Tg) -> None:
        await tg.send(views.main_menu(message.chat.id, t("help.text", user.locale), user.locale))

    @r.message(Command("cancel"))
    async def cancel_cmd(message: Message, svc: Services, user: User, tg: Tg) -> None:
        await cancel(message.chat.id, svc, user, tg)

    @r.message(Command("mine"))
    async def mine_cmd(message: Message, svc: Services, user: User, tg: Tg) -> None:
        await tg.send(views.my_cases(message.chat.id, await svc.cases.mine(user), user.locale))

    @r.message(F.photo)
    async def photo(message: Message, svc: Services, user: User, tg: Tg, classifier: Classifier) -> None:
        assert message.photo
        file_id, unique = message.photo[-1].file_id, message.photo[-1].file_unique_id
        if await svc.conversation.awaits(user.id, Awaited.RESOLVE_NOTE):
            await resolve(message.chat.id, svc, user, tg, message.caption or "", file_id)
            return
        if await svc.conversation.awaits(user.id, Awaited.DEPARTMENT_NOTE):
            await cases_admin.department_note(message.chat.id, svc, user, tg, message.caption or "", file_id)
            return
        cls = await classifier.classify(message.caption) if message.caption else None
        await emergency_first(message.chat.id, svc, user, tg, message.caption or "", cls)
        draft = await svc.reports.add_photo(user, file_id, message.caption, cls, unique)
        await status(message.chat.id, svc, user, tg, draft.unit_code)

    @r.message(F.location)
    async def location(message: Message, svc: Services, user: User, tg: Tg) -> None:
        assert message.location
        lat, lon = message.location.latitude, message.location.longitude
        awaiting = await svc.conversation.awaits(user.id, Awaited.CHECK_IN, Awaited.CHECK_OUT)
        if awaiting is not None:
            await activities.complete_check(message.chat.id, svc, user, tg, awaiting, None, lat, lon)
            return
        address = None
        if message.venue:
            address = " ".join(x for x in (message.venue.title, message.venue.address) if x)
        try:
            draft, where = await svc.reports.add_location(user, lat, lon, address)
        except Invalid as err:
            if err.code != "outside_area":
                raise
            await tg.send(
                TgMessage(
                    message.chat.id,
                    t("errors.outside_area", user.locale),
                    buttons=[[Button(plain("draft.pick_grid", user.locale), DraftCb(a="comm").pack())]],
                )
            )
            return
        await status(message.chat.id, svc, user, tg, draft.unit_code, where.fallback)

    @r.message(F.text & ~F.text.startswith("/"))
    async def text(message: Message, svc: Services, user: User, tg: Tg, classifier: Classifier) -> None:
        assert message.text
        body, chat, loc = message.text.strip(), message.chat.id, user.locale
        labels = views.menu_labels(loc)
        if body in labels:
            await menu(chat, svc, user, tg, labels[body])
            return
        if body == plain("draft.pick_grid", loc):
            await communities(chat, svc, user, tg)
            return
        if body == plain("draft.cancel", loc):
            await cancel(chat, svc, user, tg)
            return
        awaiting = await svc.conversation.current(user.id)
        if awaiting is not None:
            await awaited_reply(chat, svc, user, tg, awaiting, body)
            return
        svc.reports.screen(body)
        cls = await classifier.classify(body)
        danger = await emergency_first(chat, svc, user, tg, body, cls)
        if await svc.reports.draft(user) is not None:
            draft = await svc.reports.add_text(user, body, cls)
            await status(chat, svc, user, tg, draft.unit_code)
            return
        if danger:
            # Danger to life is a report whatever the words around it (a question, a cry for help).
            cls.intent, cls.intent_sure = "report_issue", True
        if not cls.intent_sure:
            example_id = await svc.reports.ask_intent(user, body, cls)
            await tg.send(views.clarify(chat, example_id, [i for i, _ in cls.ranking[:3]], loc))
            return
        await by_intent(chat, svc, user, tg, body, cls)

    @r.message(F.text.startswith("/"))
    async def unknown_command(message: Message, user: User, tg: Tg) -> None:
        await tg.send(TgMessage(message.chat.id, t("errors.unknown_command", user.locale)))

    @r.callback_query(DraftCb.filter())
    async def draft_button(query: CallbackQuery, callback_data: DraftCb, svc: Services, user: User, tg: Tg) -> None:
        chat, loc = reply_chat(query, user), user.locale
        a, v = callback_data.a, callback_data.v
        if a == "submit":
            draft = await svc.reports.draft(user)
            same = await svc.duplicates.candidate(draft) if draft is not None and v != "new" else None
            if same is not None:
                await tg.send(views.duplicate_question(chat, same, loc))
                return
            case, unit = await svc.reports.submit(user)
            await tg.send(views.submitted(chat, case, unit, loc))
            tg.answer(plain("report.submitted_short", loc, number=case.number))
        elif a == "follow":
            case = await svc.duplicates.follow(user, bounded_id(v))
            await tg.send(views.main_menu(chat, t("draft.followed", loc, number=case.number), loc))
        elif a == "urgent":
            draft = await svc.reports.set_urgent(user, v == "1")
            await status(chat, svc, user, tg, draft.unit_code)
        elif a == "cats":
            await tg.send(TgMessage(chat, t("draft.pick_category", loc), buttons=views.category_buttons(loc)))
        elif a == "cat":
            draft = await svc.reports.choose_category(user, v)
            await status(chat, svc, user, tg, draft.unit_code)
        elif a == "comm":
            await communities(chat, svc, user, tg)
        elif a == "grids":
            grids = await svc.reports.grids(v)
            await tg.send(
                TgMessage(chat, t("draft.pick_grid_in", loc), buttons=views.unit_buttons(grids, "place", loc, True))
            )
        elif a == "place":
            draft = await svc.reports.choose_unit(user, v)
            await status(chat, svc, user, tg, draft.unit_code)
        elif a == "cancel":
            await svc.reports.cancel(user)
            await tg.send(views.main_menu(chat, t("draft.cancelled", loc), loc))
        else:
            raise Invalid("stale_button")

    @r.callback_query(RateCb.filter())
    async def rate(query: CallbackQuery, callback_data: RateCb, svc: Services, user: User, tg: Tg) -> None:
        action = "reopen" if callback_data.r == "unsatisfied" else "rate"
        await svc.cases.act(callback_data.id, action, callback_data.rev, user, callback_data.r)
        tg.answer(plain("rating.thanks", user.locale))

    @r.callback_query(ClarifyCb.filter())
    async def clarified(
        query: CallbackQuery, callback_data: ClarifyCb, svc: Services, user: User, tg: Tg, classifier: Classifier
    ) -> None:
        example = await svc.reports.answer_intent(user, callback_data.id, callback_data.i)
        chat = reply_chat(query, user)
        cls = await classifier.classify(example.text)
        cls.intent, cls.intent_sure = callback_data.i, True
        tg.answer(plain("clarify.thanks", user.locale))
        await by_intent(chat, svc, user, tg, example.text, cls)

    @r.callback_query(MyCaseCb.filter())
    async def my_case(query: CallbackQuery, callback_data: MyCaseCb, svc: Services, user: User, tg: Tg) -> None:
        case, _ = await svc.cases.timeline(callback_data.id, user)
        chat = reply_chat(query, user)
        await tg.send(views.timeline(chat, case, await svc.cases.story(case), user.locale))

    return r


async def emergency_first(
    chat: int, svc: Services, user: User, tg: Tg, text: str, cls: Classification | None = None
) -> bool:
    """Danger to life: the numbers to call go out before anything else the bot says (True if there was some)."""
    advice = svc.reports.emergency(text, cls)
    if advice:
        await tg.send(views.emergency(chat, advice, user.locale))
    return bool(advice)


async def status(chat: int, svc: Services, user: User, tg: Tg, unit_code: str | None, fallback: bool = False) -> None:
    """Show the draft as it stands and what it still needs."""
    draft = await svc.reports.draft(user)
    if draft is None:
        return
    unit = await svc.org.find(unit_code) if unit_code else None
    promise = svc.reports.promise(draft) if draft.urgent else None
    await tg.send(views.draft_status(chat, draft, unit, user.locale, fallback, promise))


async def communities(chat: int, svc: Services, user: User, tg: Tg) -> None:
    """Pick the place by community, then grid."""
    await svc.reports.start(user)
    units = await svc.reports.communities()
    await tg.send(
        TgMessage(chat, t("draft.pick_community", user.locale), buttons=views.unit_buttons(units, "grids", user.locale))
    )


async def cancel(chat: int, svc: Services, user: User, tg: Tg) -> None:
    """End what is awaited (a form, a check-in, a registration, a resolve note), else drop the draft."""
    loc = user.locale
    awaiting = await svc.conversation.current(user.id)
    if awaiting is not None and awaiting.kind is Awaited.ACTIVITY_FORM:
        await svc.activity_form.cancel(user)
        await tg.send(views.main_menu(chat, t("form.cancelled", loc), loc))
        return
    if awaiting is not None:
        await svc.conversation.done(user.id)
        key = {
            Awaited.CHECK_IN: "act.check_cancelled",
            Awaited.CHECK_OUT: "act.check_cancelled",
            Awaited.RESOLVE_NOTE: "resolve.cancelled",
            Awaited.DEPARTMENT_NOTE: "resolve.cancelled",
            Awaited.HOME_FLAT: "civic.cancelled",
            Awaited.MATTER_PROPOSAL: "civic.cancelled",
            Awaited.MATTER_ANSWER: "civic.cancelled",
            Awaited.RATING_COMMENT: "civic.cancelled",
        }.get(awaiting.kind, "vol.cancelled")
        await tg.send(views.main_menu(chat, t(key, loc), loc))
        return
    had = await svc.reports.cancel(user)
    await tg.send(views.main_menu(chat, t("draft.cancelled" if had else "draft.nothing", loc), loc))


async def awaited_reply(chat: int, svc: Services, user: User, tg: Tg, awaiting: Awaiting, body: str) -> None:
    """A text that answers the question the bot asked last."""
    if awaiting.kind is Awaited.ACTIVITY_FORM:
        await forms.form_answer(chat, svc, user, tg, body)
    elif awaiting.kind is Awaited.VOLUNTEER_NAME:
        await volunteers.give_name(chat, svc, user, tg, body)
    elif awaiting.kind is Awaited.VOLUNTEER_PHONE:
        await tg.send(TgMessage(chat, t("vol.use_button", user.locale)))
    elif awaiting.kind in (Awaited.CHECK_IN, Awaited.CHECK_OUT):
        await activities.complete_check(chat, svc, user, tg, awaiting, body, None, None)
    elif awaiting.kind is Awaited.DEPARTMENT_NOTE:
        await cases_admin.department_note(chat, svc, user, tg, body, None)
    elif awaiting.kind is Awaited.HOME_FLAT:
        await civic.flat_reply(chat, svc, user, tg, awaiting.ref, body)
    elif awaiting.kind is Awaited.MATTER_PROPOSAL:
        await civic.proposal_reply(chat, svc, user, tg, body)
    elif awaiting.kind is Awaited.MATTER_ANSWER:
        await civic.answer_reply(chat, svc, user, tg, awaiting.ref_id, body)
    elif awaiting.kind is Awaited.RATING_COMMENT:
        await civic.rating_done(chat, svc, user, tg, awaiting.ref_id, body)
    else:
        await resolve(chat, svc, user, tg, body, None)


async def resolve(chat: int, svc: Services, user: User, tg: Tg, note: str, photo: str | None) -> None:
    """The awaited resolve note."""
    case = await svc.cases.resolve(user, note, photo)
    await tg.send(TgMessage(chat, t("resolve.done", user.locale, number=case.number)))


async def menu(chat: int, svc: Services, user: User, tg: Tg, action: str) -> None:
    """A main-menu label."""
    loc = user.locale
    if action == "report":
        await svc.reports.start(user)
        await tg.send(views.place_keyboard(chat, t("draft.start", loc), loc))
    elif action == "mine":
        await tg.send(views.my_cases(chat, await svc.cases.mine(user), loc))
    elif action == "points":
        await points.show_standing(chat, svc, user, tg)
    elif action == "volunteer":
        await activities.show_menu(chat, svc, user, tg)
    elif action == "shop":
        await points.show_communities(chat, svc, user, tg)
    else:
        await tg.send(views.main_menu(chat, t("help.text", loc), loc))


async def by_intent(chat: int, svc: Services, user: User, tg: Tg, body: str, cls: Classification) -> None:
    """Do what the message asks for."""
    loc = user.locale
    if cls.intent == "report_issue":
        draft = await svc.reports.add_text(user, body, cls)
        await status(chat, svc, user, tg, draft.unit_code)
    elif cls.intent == "report_status":
        await tg.send(views.my_cases(chat, await svc.cases.mine(user), loc))
    elif cls.intent == "service_request":
        await orders.start_order(chat, svc, user, tg, body)
    elif cls.intent == "activity_list":
        await activities.show_upcoming(chat, svc, user, tg)
    elif cls.intent == "volunteer_signup":
        await activities.take_part(chat, svc, user, tg, body)
    elif cls.intent == "points_query":
        await points.show_standing(chat, svc, user, tg)
    elif cls.intent == "points_redeem":
        await points.show_communities(chat, svc, user, tg)
    elif cls.intent == "help":
        await tg.send(views.main_menu(chat, t("help.text", loc), loc))
    else:
        # greet, out_of_scope (and anything a newer model knows that this screen does not)
        key = "intent_answer.greet" if cls.intent == "greet" else "intent_answer.out_of_scope"
        await tg.send(views.main_menu(chat, t(key, loc), loc))
