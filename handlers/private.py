"""Private chat: greeting, role, the report draft (photo, text, place in any order), my reports, rating."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message

from domain.errors import DomainError, Invalid
from domain.i18n import t
from domain.model import Button, Classification, OutMessage, Role, User
from domain.ports import Classifier
from domain.services import Services
from handlers import ui
from handlers.activities import complete_check, pending_check, show_upcoming, volunteer_menu
from handlers.callbacks import ClarifyCb, DraftCb, MyCaseCb, RateCb, RoleCb
from handlers.forms import form_answer
from handlers.orders import start_order
from handlers.points import show_communities, show_standing
from handlers.volunteers import give_name, registration_step

# Intents that have no flow of their own yet get a short, honest answer keyed by intent.
_ANSWER_ONLY = {
    "greet",
    "help",
    "out_of_scope",
    "service_request",
    "volunteer_signup",
    "activity_list",
    "points_query",
    "points_redeem",
}


def router() -> Router:
    """Private-chat router (fresh instance per dispatcher)."""
    r = Router(name="private")
    r.message.filter(F.chat.type == ChatType.PRIVATE)
    r.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)

    @r.message(CommandStart())
    async def start(message: Message, svc: Services, user: User) -> None:
        await svc.send(ui.main_menu(message.chat.id, t("start.greeting", user.locale), user.locale))
        draft = await svc.reports.draft(user)
        if draft is not None and (draft.text or draft.photo_file_id):
            # e.g. arriving from a group's "open private chat" link with a draft waiting
            await _status(message.chat.id, svc, user, draft.unit_code)
        if user.role is None:
            await svc.send(
                OutMessage(
                    message.chat.id,
                    t("start.ask_role", user.locale),
                    buttons=[
                        [
                            Button(t("role.rider", user.locale), cb=("role", {"r": "rider"})),
                            Button(t("role.resident", user.locale), cb=("role", {"r": "resident"})),
                        ]
                    ],
                )
            )

    @r.callback_query(RoleCb.filter())
    async def choose_role(query: CallbackQuery, callback_data: RoleCb, svc: Services, user: User) -> None:
        try:
            role = Role(callback_data.r)
        except ValueError:
            raise Invalid("stale_button") from None
        await svc.reports.set_role(user, role)
        await query.answer(t("start.role_set", user.locale, role=t(f"role.{role.value}", user.locale)))

    @r.message(Command("help"))
    async def help_(message: Message, svc: Services, user: User) -> None:
        await svc.send(ui.main_menu(message.chat.id, t("help.text", user.locale), user.locale))

    @r.message(Command("cancel"))
    async def cancel(message: Message, svc: Services, user: User) -> None:
        had = await svc.reports.cancel(user)
        await svc.send(
            ui.main_menu(message.chat.id, t("draft.cancelled" if had else "draft.nothing", user.locale), user.locale)
        )

    @r.message(Command("mine"))
    async def mine_cmd(message: Message, svc: Services, user: User) -> None:
        await svc.send(ui.my_cases(message.chat.id, await svc.cases.mine(user), user.locale))

    @r.message(F.photo)
    async def photo(message: Message, svc: Services, user: User, classifier: Classifier) -> None:
        assert message.photo
        file_id = message.photo[-1].file_id
        if await svc.cases.pending_resolve(user) is not None:
            await _resolve(message, svc, user, message.caption or "", file_id)
            return
        cls = await classifier.classify(message.caption) if message.caption else None
        draft = await svc.reports.add_photo(user, file_id, message.caption, cls)
        await _status(message.chat.id, svc, user, draft.unit_code)

    @r.message(F.location)
    async def location(message: Message, svc: Services, user: User) -> None:
        assert message.location
        if await pending_check(svc, user) is not None:
            await complete_check(
                message.chat.id, svc, user, None, message.location.latitude, message.location.longitude
            )
            return
        address = None
        if message.venue:
            address = " ".join(x for x in (message.venue.title, message.venue.address) if x)
        try:
            draft, where = await svc.reports.add_location(
                user, message.location.latitude, message.location.longitude, address
            )
        except Invalid as err:
            if err.code != "outside_area":
                raise
            await svc.send(
                OutMessage(
                    message.chat.id,
                    t("errors.outside_area", user.locale),
                    buttons=[[Button(t("draft.pick_grid", user.locale), cb=("d", {"a": "comm"}))]],
                )
            )
            return
        await _status(message.chat.id, svc, user, draft.unit_code, where.fallback)

    @r.message(F.text & ~F.text.startswith("/"))
    async def text(message: Message, svc: Services, user: User, classifier: Classifier) -> None:
        assert message.text
        body = message.text.strip()
        labels = ui.menu_labels(user.locale)
        if body in labels:
            await _menu(message, svc, user, labels[body])
            return
        if body == t("draft.pick_grid", user.locale):
            await _communities(message.chat.id, svc, user)
            return
        if await form_answer(message.chat.id, svc, user, body):
            return
        if await registration_step(svc, user) == "name":
            await give_name(message.chat.id, svc, user, body)
            return
        if await pending_check(svc, user) is not None:
            if body == t("draft.cancel", user.locale):
                await svc.ctx.repos.pending.clear(user.id)
                await svc.send(ui.main_menu(message.chat.id, t("act.check_cancelled", user.locale), user.locale))
            else:
                await complete_check(message.chat.id, svc, user, body, None, None)
            return
        if body == t("draft.cancel", user.locale):
            had = await svc.reports.cancel(user)
            await svc.send(
                ui.main_menu(
                    message.chat.id, t("draft.cancelled" if had else "draft.nothing", user.locale), user.locale
                )
            )
            return
        if await svc.cases.pending_resolve(user) is not None:
            await _resolve(message, svc, user, body, None)
            return
        if await svc.reports.draft(user) is not None:
            draft = await svc.reports.add_text(user, body, await classifier.classify(body))
            await _status(message.chat.id, svc, user, draft.unit_code)
            return
        cls = await classifier.classify(body)
        if not cls.intent_sure:
            example_id = await svc.reports.ask_intent(user, body, cls)
            await svc.send(ui.clarify(message.chat.id, example_id, [i for i, _ in cls.ranking[:3]], user.locale))
            return
        await _by_intent(message.chat.id, svc, user, body, cls)

    @r.message(F.text.startswith("/"))
    async def unknown_command(message: Message, svc: Services, user: User) -> None:
        await svc.send(OutMessage(message.chat.id, t("errors.unknown_command", user.locale)))

    @r.callback_query(DraftCb.filter())
    async def draft_button(query: CallbackQuery, callback_data: DraftCb, svc: Services, user: User) -> None:
        chat_id = ui.reply_chat(query, user)
        a, v = callback_data.a, callback_data.v
        if a == "submit":
            case = await svc.reports.submit(user)
            unit = await svc.ctx.repos.units.get(case.unit_code)
            assert unit is not None
            await svc.send(ui.submitted(chat_id, case, unit, user.locale))
            await query.answer(t("report.submitted_short", user.locale, number=case.number))
            return
        if a == "cats":
            await svc.send(
                OutMessage(chat_id, t("draft.pick_category", user.locale), buttons=ui.category_buttons(user.locale))
            )
        elif a == "cat":
            draft = await svc.reports.choose_category(user, v)
            await _status(chat_id, svc, user, draft.unit_code)
        elif a == "comm":
            await _communities(chat_id, svc, user)
        elif a == "grids":
            grids = await svc.reports.units_for_choice(v)
            await svc.send(
                OutMessage(
                    chat_id,
                    t("draft.pick_grid_in", user.locale),
                    buttons=ui.unit_buttons(grids, "place", user.locale, back=True),
                )
            )
        elif a == "place":
            draft = await svc.reports.choose_unit(user, v)
            await _status(chat_id, svc, user, draft.unit_code)
        elif a == "cancel":
            await svc.reports.cancel(user)
            await svc.send(ui.main_menu(chat_id, t("draft.cancelled", user.locale), user.locale))
        else:
            raise Invalid("stale_button")
        await query.answer()

    @r.callback_query(RateCb.filter())
    async def rate(query: CallbackQuery, callback_data: RateCb, svc: Services, user: User) -> None:
        await svc.cases.rate(callback_data.id, callback_data.rev, callback_data.r, user)
        await query.answer(t("rating.thanks", user.locale))

    @r.callback_query(ClarifyCb.filter())
    async def clarified(
        query: CallbackQuery, callback_data: ClarifyCb, svc: Services, user: User, classifier: Classifier
    ) -> None:
        example = await svc.reports.answer_intent(user, callback_data.id, callback_data.i)
        chat_id = ui.reply_chat(query, user)
        cls = await classifier.classify(example.text)
        cls.intent, cls.intent_sure = callback_data.i, True
        await query.answer(t("clarify.thanks", user.locale))
        await _by_intent(chat_id, svc, user, example.text, cls)

    @r.callback_query(MyCaseCb.filter())
    async def my_case(query: CallbackQuery, callback_data: MyCaseCb, svc: Services, user: User) -> None:
        case, events = await svc.cases.timeline(callback_data.id, user)
        chat_id = ui.reply_chat(query, user)
        await svc.send(ui.timeline(chat_id, case, events, user.locale))
        await query.answer()

    return r


async def _status(chat_id: int, svc: Services, user: User, unit_code: str | None, fallback: bool = False) -> None:
    draft = await svc.reports.draft(user)
    if draft is None:
        return
    unit = await svc.ctx.repos.units.get(unit_code) if unit_code else None
    await svc.send(ui.draft_status(chat_id, draft, unit, user.locale, fallback))


async def _communities(chat_id: int, svc: Services, user: User) -> None:
    await svc.reports.start(user)
    communities = await svc.reports.units_for_choice(None)
    await svc.send(
        OutMessage(
            chat_id, t("draft.pick_community", user.locale), buttons=ui.unit_buttons(communities, "grids", user.locale)
        )
    )


async def _menu(message: Message, svc: Services, user: User, action: str) -> None:
    if action == "report":
        await svc.reports.start(user)
        await svc.send(ui.place_keyboard(message.chat.id, t("draft.start", user.locale), user.locale))
    elif action == "mine":
        await svc.send(ui.my_cases(message.chat.id, await svc.cases.mine(user), user.locale))
    elif action == "points":
        await show_standing(message.chat.id, svc, user)
    elif action == "volunteer":
        await svc.send(volunteer_menu(message.chat.id, user.locale, await _registered(svc, user)))
    elif action == "shop":
        await show_communities(message.chat.id, svc, user)
    else:
        await svc.send(ui.main_menu(message.chat.id, t("help.text", user.locale), user.locale))


async def _registered(svc: Services, user: User) -> bool:
    vol = await svc.volunteers.get(user)
    return vol is not None and vol.state in ("pending", "active")


async def _resolve(message: Message, svc: Services, user: User, note: str, photo: str | None) -> None:
    case = await svc.cases.resolve(user, note, photo)
    await svc.send(OutMessage(message.chat.id, t("resolve.done", user.locale, number=case.number)))


async def _by_intent(chat_id: int, svc: Services, user: User, body: str, cls: Classification) -> None:
    if cls.intent == "report_issue":
        draft = await svc.reports.add_text(user, body, cls)
        await _status(chat_id, svc, user, draft.unit_code)
    elif cls.intent == "report_status":
        await svc.send(ui.my_cases(chat_id, await svc.cases.mine(user), user.locale))
    elif cls.intent == "service_request":
        await start_order(chat_id, svc, user, body)
    elif cls.intent == "activity_list":
        await show_upcoming(chat_id, svc, user)
    elif cls.intent == "volunteer_signup":
        await svc.send(volunteer_menu(chat_id, user.locale, await _registered(svc, user)))
    elif cls.intent == "points_query":
        await show_standing(chat_id, svc, user)
    elif cls.intent == "points_redeem":
        await show_communities(chat_id, svc, user)
    elif cls.intent in _ANSWER_ONLY:
        await svc.send(ui.main_menu(chat_id, t(f"intent_answer.{cls.intent}", user.locale), user.locale))
    else:
        raise DomainError("unknown_intent")
