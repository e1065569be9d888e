"""The report loop: drafts become cases, cases are routed, claimed, resolved, rated and reopened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain import render
from domain.activities import ActivityService, OrganiserTools
from domain.activity_form import ActivityFormService
from domain.board import BoardService
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.geo import GridIndex, Location, valid_coordinates
from domain.i18n import t
from domain.model import (
    CATEGORIES,
    INTENTS,
    Button,
    Case,
    CaseEvent,
    CaseState,
    Classification,
    Draft,
    GroupOffer,
    LabelledExample,
    Level,
    OutMessage,
    Rating,
    Role,
    Unit,
    User,
    UserRef,
)
from domain.orders import OrderService
from domain.points import DEFAULT_STAR_HOURS, PointsService, ShopService
from domain.ports import Repos, Units
from domain.volunteers import VolunteerService

MAX_TEXT = 2000


class GeoCache:
    """Keeps one GridIndex per process and rebuilds it when the unit table's revision moves."""

    def __init__(self, community_radius_m: float = 1500.0, street_radius_m: float = 5000.0) -> None:
        self.community_radius_m = community_radius_m
        self.street_radius_m = street_radius_m
        self._rev = -1
        self._index: GridIndex | None = None

    async def index(self, units: Units) -> GridIndex:
        """The current index, rebuilt only after an import or bind changed the units."""
        rev = await units.revision()
        if self._index is None or rev != self._rev:
            self._index = GridIndex(await units.all(), self.community_radius_m, self.street_radius_m)
            self._rev = rev
        return self._index


@dataclass
class Context:
    """What every service of one unit of work shares."""

    repos: Repos
    clock: Callable[[], datetime]
    geo: GeoCache
    admins: frozenset[UserRef] = field(default_factory=frozenset)
    group_locale: str = "zh-CN"
    # Categories handled above the grid (e.g. disputes go to the community's mediators).
    category_levels: dict[str, Level] = field(default_factory=dict)
    bot_username: str | None = None
    # A callable, so the classifier's calibration is read only when a group message is considered.
    group_offer_threshold: Callable[[], float] = lambda: 0.9
    star_hours: tuple[float, ...] = DEFAULT_STAR_HOURS
    # Points a reporter earns when their report is resolved, by category (default for the rest).
    report_points: dict[str, int] = field(default_factory=dict)
    report_points_default: int = 5
    checkin_radius_m: float = 300.0
    order_untaken_minutes: float = 120.0


class OrgService:
    """Hierarchy, chat binding and staff membership; answers who may act where."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.repos = ctx.repos

    def is_admin(self, user: User) -> bool:
        """A gridbot administrator from config."""
        return user.ref in self.ctx.admins

    async def lineage(self, code: str) -> list[Unit]:
        """The unit and its ancestors, bottom up."""
        out: list[Unit] = []
        unit = await self.repos.units.get(code)
        while unit is not None and len(out) < 8:
            out.append(unit)
            unit = await self.repos.units.get(unit.parent_code) if unit.parent_code else None
        return out

    async def may_handle(self, user: User, code: str) -> bool:
        """Staff of the unit or of any ancestor, or an admin."""
        if self.is_admin(user):
            return True
        mine = set(await self.repos.staff.units_of(user.id))
        return any(u.code in mine for u in await self.lineage(code))

    async def bind(self, user: User, code: str, chat_id: int) -> Unit:
        """Make a group chat the group of a unit; admins, or staff of an ancestor level, only."""
        unit = await self.repos.units.get(code.strip())
        if unit is None:
            raise NotFound("unknown_unit", code=code)
        allowed = self.is_admin(user)
        if not allowed and unit.parent_code:
            allowed = await self.may_handle(user, unit.parent_code)
        if not allowed:
            raise Forbidden("bind_forbidden", unit=unit.name)
        await self.repos.units.unbind_chat(chat_id)
        await self.repos.units.bind_chat(unit.code, chat_id)
        unit.chat_id = chat_id
        return unit

    async def chat_unit(self, chat_id: int) -> Unit:
        """The unit a group is bound to."""
        unit = await self.repos.units.by_chat(chat_id)
        if unit is None:
            raise NotFound("chat_not_bound")
        return unit

    async def add_staff(self, actor: User, chat_id: int, target: User) -> tuple[Unit, bool]:
        """Add someone to the staff of this group's unit (by an admin or staff of that level or above)."""
        unit = await self.chat_unit(chat_id)
        if not await self.may_handle(actor, unit.code):
            raise Forbidden("staff_forbidden")
        return unit, await self.repos.staff.add(unit.code, target.id, actor.id)

    async def remove_staff(self, actor: User, chat_id: int, target: User) -> tuple[Unit, bool]:
        """Remove someone from the staff of this group's unit."""
        unit = await self.chat_unit(chat_id)
        if not await self.may_handle(actor, unit.code):
            raise Forbidden("staff_forbidden")
        return unit, await self.repos.staff.remove(unit.code, target.id)

    async def community_of(self, code: str) -> str | None:
        """The community a unit belongs to (itself if it is one; None for a street)."""
        return next((u.code for u in await self.lineage(code) if u.level is Level.COMMUNITY), None)

    async def handling_unit(self, code: str, category: str) -> str:
        """The unit that handles this category at this place: the grid, or an ancestor for some categories."""
        level = self.ctx.category_levels.get(category)
        if level is None:
            return code
        order = [Level.GRID, Level.COMMUNITY, Level.STREET]
        for unit in await self.lineage(code):
            if order.index(unit.level) >= order.index(level):
                return unit.code
        return code

    async def route_chat(self, code: str) -> tuple[Unit, Unit | None]:
        """The unit and the nearest unit up the hierarchy that has a bound group (None: nobody bound)."""
        lineage = await self.lineage(code)
        if not lineage:
            raise NotFound("unknown_unit", code=code)
        for unit in lineage:
            if unit.chat_id is not None:
                return lineage[0], unit
        return lineage[0], None

    async def bot_removed(self, chat_id: int) -> list[str]:
        """The bot left or was removed from a group: its bindings end so cases route upwards."""
        return await self.repos.units.unbind_chat(chat_id)


class CaseService:
    """Case transitions, each recorded, each telling the reporter, each updating the group post."""

    def __init__(self, ctx: Context, org: OrgService, points: PointsService) -> None:
        self.ctx = ctx
        self.repos = ctx.repos
        self.org = org
        self.points = points

    async def get(self, case_id: int) -> Case:
        """A case or NotFound."""
        case = await self.repos.cases.get(case_id)
        if case is None:
            raise NotFound("case_not_found")
        return case

    async def post(self, case: Case, note_key: str | None = None) -> None:
        """Post the case to the group responsible for its unit (or the nearest bound ancestor)."""
        unit, target = await self.org.route_chat(case.unit_code)
        loc = self.ctx.group_locale
        if target is None:
            await self._tell_admins("admin.no_group", number=case.number, unit=unit.name)
            return
        text = render.case_post(case, unit, loc, render.state_label(case.state, loc))
        if note_key:
            text = t(note_key, loc) + "\n" + text
        if target.code != unit.code:
            text += "\n" + t("case.posted_above", loc, unit=unit.name)
        post_id = await self.repos.outbox.add(
            OutMessage(
                chat_id=target.chat_id or 0,
                text=text,
                photo=case.photo_file_id,
                buttons=render.case_buttons(case, unit, loc),
            )
        )
        await self.repos.cases.set_fields(case.id, post_outbox_id=post_id)
        case.post_outbox_id = post_id

    async def refresh_post(
        self, case: Case, actor: User | None, extra: str | None = None, superseded: bool = False
    ) -> None:
        """Edit the group post to show the new state and who acted (no buttons once a new post replaces it)."""
        if case.post_outbox_id is None:
            return
        unit = await self.repos.units.get(case.unit_code)
        if unit is None:
            return
        loc = self.ctx.group_locale
        text = render.case_post(
            case, unit, loc, render.state_label(case.state, loc), actor.display_name if actor else None
        )
        if extra:
            text += "\n" + extra
        await self.repos.outbox.add(
            OutMessage(
                chat_id=0,
                text=text,
                photo=case.photo_file_id,
                buttons=[] if superseded else render.case_buttons(case, unit, loc),
                edit_outbox_id=case.post_outbox_id,
            )
        )

    async def _tell_admins(self, key: str, **params: object) -> None:
        for ref in self.ctx.admins:
            admin = await self.repos.users.by_ref(ref)
            if admin and admin.private_chat_id:
                await self.repos.outbox.add(OutMessage(admin.private_chat_id, t(key, admin.locale, **params)))

    async def tell_reporter(self, case: Case, key: str, **params: object) -> None:
        """A private message to the reporter, in their language."""
        reporter = await self.repos.users.get(case.reporter_id)
        if reporter and reporter.private_chat_id:
            await self.repos.outbox.add(
                OutMessage(reporter.private_chat_id, t(key, reporter.locale, number=case.number, **params))
            )

    async def _move(
        self,
        case: Case,
        actor: User | None,
        to: CaseState,
        action: str,
        note: str | None = None,
        photo: str | None = None,
        changes: dict[str, object] | None = None,
        **more: object,
    ) -> Case:
        changes = {**(changes or {}), **more}
        ok = await self.repos.cases.transition(case.id, case.state, case.rev, to, **changes)
        if not ok:
            await self._conflict(case.id)
        await self.repos.cases.add_event(
            CaseEvent(case.id, actor.id if actor else None, self.ctx.clock(), case.state, to, action, note, photo)
        )
        fresh = await self.repos.cases.get(case.id)
        assert fresh is not None
        return fresh

    async def _conflict(self, case_id: int) -> None:
        current = await self.repos.cases.get(case_id)
        if current is None:
            raise NotFound("case_not_found")
        who = None
        if current.assignee_id:
            assignee = await self.repos.users.get(current.assignee_id)
            who = assignee.display_name if assignee else None
        raise Conflict(
            "case_changed",
            state=render.state_label(current.state, self.ctx.group_locale),
            who=who or "-",
        )

    async def act(self, case_id: int, action: str, rev: int, actor: User) -> Case:
        """A staff button press: claim, on site, resolve (asks for a note), not ours."""
        case = await self.get(case_id)
        if not await self.org.may_handle(actor, case.unit_code):
            raise Forbidden("not_your_case")
        if case.rev != rev:
            await self._conflict(case_id)
        if action == "claim":
            self._expect(case, CaseState.NEW)
            case = await self._move(case, actor, CaseState.CLAIMED, action, assignee_id=actor.id)
            await self.tell_reporter(case, "notify.claimed", who=actor.display_name)
        elif action == "onsite":
            self._expect(case, CaseState.CLAIMED)
            case = await self._move(case, actor, CaseState.ON_SITE, action)
            await self.tell_reporter(case, "notify.onsite", who=actor.display_name)
        elif action == "resolve":
            self._expect(case, CaseState.ON_SITE)
            await self._ask_resolve_note(case, actor)
            return case
        elif action == "reject":
            case = await self._reject(case, actor)
            return case
        else:
            raise Invalid("unknown_action")
        await self.refresh_post(case, actor)
        return case

    def _expect(self, case: Case, *states: CaseState) -> None:
        if case.state not in states:
            raise Conflict("case_changed", state=render.state_label(case.state, self.ctx.group_locale), who="-")

    async def _ask_resolve_note(self, case: Case, actor: User) -> None:
        if actor.private_chat_id:
            chat, locale, force = actor.private_chat_id, actor.locale, False
        else:
            _, target = await self.org.route_chat(case.unit_code)
            chat, locale, force = (target.chat_id if target and target.chat_id else 0), self.ctx.group_locale, True
        prompt = await self.repos.outbox.add(
            OutMessage(
                chat_id=chat,
                text=t("resolve.ask", locale, number=case.number, who=actor.display_name),
                force_reply=force,
                reply_to_outbox_id=case.post_outbox_id if force else None,
            )
        )
        await self.repos.pending.set(actor.id, "resolve", case.id, prompt)

    async def pending_resolve(self, actor: User) -> int | None:
        """The case this staff member was asked to write a resolve note for."""
        got = await self.repos.pending.get(actor.id)
        return got[1] if got and got[0] == "resolve" else None

    async def resolve(self, actor: User, note: str, photo: str | None) -> Case:
        """Finish the resolve: record the note (and photo), tell the reporter, ask for a rating."""
        case_id = await self.pending_resolve(actor)
        if case_id is None:
            raise NotFound("nothing_pending")
        note = note.strip()
        if not note and not photo:
            raise Invalid("resolve_note_empty")
        if len(note) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)
        case = await self.get(case_id)
        if not await self.org.may_handle(actor, case.unit_code):
            raise Forbidden("not_your_case")
        self._expect(case, CaseState.ON_SITE)
        await self.repos.pending.clear(actor.id)
        case = await self._move(case, actor, CaseState.RESOLVED, "resolve", note or None, photo)
        await self.refresh_post(case, actor)
        await self._reward_reporter(case)
        reporter = await self.repos.users.get(case.reporter_id)
        if reporter and reporter.private_chat_id:
            await self.repos.outbox.add(
                OutMessage(
                    reporter.private_chat_id,
                    t("notify.resolved", reporter.locale, number=case.number, note=note or "-"),
                    photo=photo,
                    buttons=render.rating_buttons(case, reporter.locale),
                )
            )
        return case

    async def _reward_reporter(self, case: Case) -> None:
        # Keyed by case: a reopened case resolved again earns nothing more.
        amount = self.ctx.report_points.get(case.category, self.ctx.report_points_default)
        if amount <= 0:
            return
        community = await self.org.community_of(case.unit_code)
        earned = await self.points.earn(
            case.reporter_id,
            amount,
            t("points.reason_report", self.ctx.group_locale, number=case.number),
            f"report:{case.id}",
            f"case:{case.id}",
            None,
            community,
        )
        reporter = await self.repos.users.get(case.reporter_id)
        if earned and reporter and reporter.private_chat_id:
            await self.repos.outbox.add(
                OutMessage(
                    reporter.private_chat_id,
                    t("points.earned_report", reporter.locale, number=case.number, points=amount),
                )
            )

    async def _reject(self, case: Case, actor: User) -> Case:
        self._expect(case, CaseState.NEW, CaseState.CLAIMED)
        unit = await self.repos.units.get(case.unit_code)
        if unit is None or unit.level is not Level.GRID or not unit.parent_code:
            raise Invalid("reject_not_grid")
        old_post = case.post_outbox_id
        case = await self._move(case, actor, CaseState.NEW, "reject", unit_code=unit.parent_code, assignee_id=None)
        parent = await self.repos.units.get(unit.parent_code)
        note = t("case.rejected_to", self.ctx.group_locale, unit=parent.name if parent else unit.parent_code)
        if old_post is not None:
            await self.repos.outbox.add(
                OutMessage(
                    chat_id=0,
                    text=render.case_post(case, unit, self.ctx.group_locale, note, actor.display_name),
                    photo=case.photo_file_id,
                    edit_outbox_id=old_post,
                )
            )
        await self.post(case, "case.redispatch_tag")
        await self.tell_reporter(case, "notify.redispatch")
        return case

    async def dispatch_options(self, case_id: int, actor: User) -> tuple[Case, list[Unit]]:
        """Grids under the case's community that it may be dispatched to."""
        case = await self.get(case_id)
        if not await self.org.may_handle(actor, case.unit_code):
            raise Forbidden("not_your_case")
        units = await self.repos.units.all()
        below = {case.unit_code}
        changed = True
        while changed:
            changed = False
            for u in units:
                if u.parent_code in below and u.code not in below:
                    below.add(u.code)
                    changed = True
        return case, sorted((u for u in units if u.code in below and u.level is Level.GRID), key=lambda u: u.code)

    async def dispatch(self, case_id: int, rev: int, grid_code: str, actor: User) -> Case:
        """Community or street staff send a case down to a grid."""
        case, options = await self.dispatch_options(case_id, actor)
        if case.rev != rev:
            await self._conflict(case_id)
        self._expect(case, CaseState.NEW)
        grid = next((g for g in options if g.code == grid_code), None)
        if grid is None:
            raise Invalid("unknown_unit", code=grid_code)
        old_post = case.post_outbox_id
        old_unit = await self.repos.units.get(case.unit_code)
        case = await self._move(case, actor, CaseState.NEW, "dispatch", grid.code, unit_code=grid.code, fallback=False)
        if old_post is not None and old_unit is not None:
            await self.repos.outbox.add(
                OutMessage(
                    chat_id=0,
                    text=render.case_post(
                        case,
                        old_unit,
                        self.ctx.group_locale,
                        t("case.dispatched_to", self.ctx.group_locale, unit=grid.name),
                        actor.display_name,
                    ),
                    photo=case.photo_file_id,
                    edit_outbox_id=old_post,
                )
            )
        await self.post(case)
        return case

    async def recategorize(self, case_id: int, rev: int, category: str, actor: User) -> Case:
        """Staff correct the category; the case moves if the new category is handled elsewhere."""
        case = await self.get(case_id)
        if not await self.org.may_handle(actor, case.unit_code):
            raise Forbidden("not_your_case")
        if category not in CATEGORIES:
            raise Invalid("unknown_category")
        if case.rev != rev:
            await self._conflict(case_id)
        self._expect(case, CaseState.NEW, CaseState.CLAIMED, CaseState.ON_SITE)
        if category == case.category:
            return case
        loc = self.ctx.group_locale
        await self.repos.examples.add(
            LabelledExample(
                text=case.description,
                source="correction",
                intent="report_issue",
                category=category,
                user_id=actor.id,
                case_id=case.id,
                model_version=case.model_version,
                predicted_intent="report_issue",
                predicted_category=case.category,
            )
        )
        note = f"{t(f'category.{case.category}', loc)} → {t(f'category.{category}', loc)}"
        # Where the case stands: the grid it came from (a community-level case keeps its unit).
        base = case.unit_code
        unit = await self.repos.units.get(base)
        if unit is not None and unit.level is not Level.GRID and case.lat is not None and case.lon is not None:
            where = (await self.ctx.geo.index(self.repos.units)).locate(case.lat, case.lon)
            if where is not None and not where.fallback:
                base = where.unit_code
        target = await self.org.handling_unit(base, category)
        moved = target != case.unit_code and case.state is CaseState.NEW
        changes: dict[str, object] = {"category": category}
        if moved:
            changes.update(unit_code=target, assignee_id=None)
        old_post = case.post_outbox_id
        case = await self._move(case, actor, case.state, "recategorize", note, changes=changes)
        if moved:
            target_unit = await self.repos.units.get(target)
            if old_post is not None and unit is not None:
                await self.repos.outbox.add(
                    OutMessage(
                        chat_id=0,
                        text=render.case_post(
                            case,
                            unit,
                            loc,
                            t("case.moved_to", loc, unit=target_unit.name if target_unit else target),
                            actor.display_name,
                        ),
                        photo=case.photo_file_id,
                        edit_outbox_id=old_post,
                    )
                )
            await self.post(case)
        else:
            await self.refresh_post(case, actor, t("case.recategorized", loc, change=note))
        return case

    async def rate(self, case_id: int, rev: int, rating: str, actor: User) -> Case:
        """The reporter's rating: closes the case, or reopens it for rework when unsatisfied."""
        case = await self.get(case_id)
        if case.reporter_id != actor.id:
            raise Forbidden("not_your_report")
        try:
            verdict = Rating(rating)
        except ValueError:
            raise Invalid("unknown_action") from None
        if case.state is not CaseState.RESOLVED or case.rev != rev:
            raise Conflict("already_rated")
        if verdict is Rating.UNSATISFIED:
            case = await self._move(
                case,
                actor,
                CaseState.NEW,
                "reopen",
                t("rating.unsatisfied", self.ctx.group_locale),
                rating=None,
                assignee_id=None,
                reopen_count=case.reopen_count + 1,
            )
            # The old post keeps its history but loses its buttons; the rework gets a fresh post.
            await self.refresh_post(case, actor, t("case.reopened_note", self.ctx.group_locale), superseded=True)
            await self.post(case, "case.rework_banner")
            await self.tell_reporter(case, "notify.reopened")
        else:
            case = await self._move(
                case,
                actor,
                CaseState.CLOSED,
                "rate",
                t(f"rating.{verdict.value}", self.ctx.group_locale),
                rating=verdict.value,
            )
            await self.refresh_post(
                case,
                None,
                t("case.rated", self.ctx.group_locale, rating=t(f"rating.{verdict.value}", self.ctx.group_locale)),
            )
            await self.tell_reporter(case, "notify.thanks")
        return case

    async def timeline(self, case_id: int, user: User) -> tuple[Case, list[CaseEvent]]:
        """A case and its history, for its reporter or its staff."""
        case = await self.get(case_id)
        if case.reporter_id != user.id and not await self.org.may_handle(user, case.unit_code):
            raise Forbidden("not_your_report")
        return case, await self.repos.cases.events(case_id)

    async def mine(self, user: User, limit: int = 10) -> list[Case]:
        """The reporter's latest cases."""
        return await self.repos.cases.by_reporter(user.id, limit)


class ReportService:
    """A private-chat draft that becomes a case once it has a description and a place."""

    def __init__(self, ctx: Context, org: OrgService, cases: CaseService) -> None:
        self.ctx = ctx
        self.repos = ctx.repos
        self.org = org
        self.cases = cases

    async def draft(self, user: User) -> Draft | None:
        """The user's open draft."""
        return await self.repos.drafts.get(user.id)

    async def _draft(self, user: User) -> Draft:
        return await self.repos.drafts.get(user.id) or Draft(user_id=user.id)

    def _apply_classification(self, draft: Draft, cls: Classification | None) -> None:
        if cls is None:
            return
        draft.model_version = cls.model_version
        if cls.place_hint:
            draft.place_hint = cls.place_hint
        if cls.category in CATEGORIES and draft.confidence != 1.0:
            draft.category = cls.category
            draft.confidence = cls.category_confidence
            # Unsure: the reporter picks from the top three instead of us guessing.
            draft.candidates = None if cls.category_sure else [c for c, _ in cls.category_ranking[:3]]

    async def start(self, user: User) -> Draft:
        """Open (or keep) a draft."""
        draft = await self._draft(user)
        await self.repos.drafts.save(draft)
        return draft

    async def add_text(self, user: User, text: str, cls: Classification | None) -> Draft:
        """Add a description; a second text extends the first."""
        text = text.strip()
        if not text:
            raise Invalid("empty_text")
        draft = await self._draft(user)
        combined = f"{draft.text}\n{text}" if draft.text else text
        if len(combined) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)
        draft.text = combined
        self._apply_classification(draft, cls)
        await self.repos.drafts.save(draft)
        return draft

    async def add_photo(self, user: User, file_id: str, caption: str | None, cls: Classification | None) -> Draft:
        """Attach a photo (the latest one wins) and its caption."""
        draft = await self._draft(user)
        draft.photo_file_id = file_id
        await self.repos.drafts.save(draft)
        if caption and caption.strip():
            return await self.add_text(user, caption, cls)
        return draft

    async def add_location(self, user: User, lat: float, lon: float, address: str | None) -> tuple[Draft, Location]:
        """Fix the place by coordinates; a place outside the district is refused and not stored."""
        if not valid_coordinates(lat, lon):
            raise Invalid("bad_coordinates")
        index = await self.ctx.geo.index(self.repos.units)
        where = index.locate(lat, lon)
        if where is None:
            raise Invalid("outside_area")
        draft = await self._draft(user)
        draft.lat, draft.lon, draft.unit_code = lat, lon, where.unit_code
        draft.address = address.strip()[:200] if address and address.strip() else None
        await self.repos.drafts.save(draft)
        return draft, where

    async def choose_unit(self, user: User, code: str) -> Draft:
        """Fix the place by picking a grid (or community) from buttons."""
        unit = await self.repos.units.get(code)
        if unit is None or unit.level is Level.STREET:
            raise Invalid("unknown_unit", code=code)
        draft = await self._draft(user)
        draft.unit_code = unit.code
        draft.lat = draft.lon = None
        await self.repos.drafts.save(draft)
        return draft

    async def choose_category(self, user: User, category: str) -> Draft:
        """The reporter (or a photo-only report) picks the category."""
        if category not in CATEGORIES:
            raise Invalid("unknown_category")
        draft = await self.repos.drafts.get(user.id)
        if draft is None:
            raise NotFound("no_draft")
        if draft.text:
            await self.repos.examples.add(
                LabelledExample(
                    text=draft.text,
                    source="clarification" if draft.candidates else "reporter",
                    intent="report_issue",
                    category=category,
                    user_id=user.id,
                    model_version=draft.model_version,
                    predicted_intent="report_issue",
                    predicted_category=draft.category,
                )
            )
        draft.category = category
        draft.confidence = 1.0
        draft.candidates = None
        await self.repos.drafts.save(draft)
        return draft

    async def ask_intent(self, user: User, text: str, cls: Classification) -> int:
        """Keep an unsure message as a question to the sender; returns its id for the answer buttons."""
        if len(text) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)
        return await self.repos.examples.add(
            LabelledExample(
                text=text,
                source="clarification",
                user_id=user.id,
                model_version=cls.model_version,
                predicted_intent=cls.intent,
                predicted_category=cls.category,
            )
        )

    async def answer_intent(self, user: User, example_id: int, intent: str) -> LabelledExample:
        """The sender says what they meant; the answer becomes a labelled example (once)."""
        example = await self.repos.examples.get(example_id)
        if example is None or example.user_id != user.id:
            raise NotFound("stale_button")
        if intent not in INTENTS:
            raise Invalid("unknown_action")
        if not await self.repos.examples.answer(example_id, intent, None):
            raise Conflict("already_answered")
        example.intent = intent
        return example

    async def cancel(self, user: User) -> bool:
        """Drop the draft."""
        had = await self.repos.drafts.get(user.id) is not None
        await self.repos.drafts.delete(user.id)
        return had

    async def set_role(self, user: User, role: Role) -> None:
        """Rider or resident: how the reporter is shown to staff."""
        await self.repos.users.set_role(user.id, role)
        user.role = role

    async def units_for_choice(self, parent: str | None) -> list[Unit]:
        """Communities (parent None) or the grids of one community, for place buttons."""
        units = await self.repos.units.all()
        if parent is None:
            return sorted((u for u in units if u.level is Level.COMMUNITY), key=lambda u: u.code)
        return sorted((u for u in units if u.parent_code == parent and u.level is Level.GRID), key=lambda u: u.code)

    async def submit(self, user: User) -> Case:
        """Turn a complete draft into a case, post it to the responsible group and tell the reporter."""
        draft = await self.repos.drafts.get(user.id)
        if draft is None:
            raise NotFound("no_draft")
        if not draft.has_description:
            raise Invalid("draft_needs_description")
        if not draft.has_place or draft.unit_code is None:
            raise Invalid("draft_needs_place")
        category = draft.category or "other"
        unit = await self.repos.units.get(await self.org.handling_unit(draft.unit_code, category))
        if unit is None:
            raise Invalid("draft_needs_place")
        now = self.ctx.clock()
        day = now.astimezone(render.CHINA_TZ).strftime("%Y%m%d")
        seq = await self.repos.cases.next_seq(day)
        case = await self.repos.cases.add(
            Case(
                id=0,
                number=f"SB{day}-{seq:04d}",
                reporter_id=user.id,
                reporter_role=user.role or Role.RESIDENT,
                description=draft.text or t(f"category.{category}", self.ctx.group_locale),
                category=category,
                unit_code=unit.code,
                state=CaseState.NEW,
                rev=1,
                created_at=now,
                photo_file_id=draft.photo_file_id,
                lat=draft.lat,
                lon=draft.lon,
                address=" · ".join(x for x in (draft.address, draft.place_hint) if x) or None,
                fallback=unit.level is not Level.GRID and unit.code == draft.unit_code,
                confidence=draft.confidence,
                model_version=draft.model_version,
            )
        )
        await self.repos.cases.add_event(
            CaseEvent(case.id, user.id, now, None, CaseState.NEW, "submit", None, draft.photo_file_id)
        )
        await self.repos.drafts.delete(user.id)
        await self.cases.post(case)
        return case


OFFER_COOLDOWN = timedelta(minutes=30)


class GroupService:
    """Residents talk in groups; a clear report gets one discreet offer, and only its author may accept."""

    def __init__(self, ctx: Context, org: OrgService, reports: ReportService) -> None:
        self.ctx = ctx
        self.repos = ctx.repos
        self.org = org
        self.reports = reports

    async def consider(
        self, chat_id: int, author: User, text: str, photo: str | None, message_id: int, cls: Classification
    ) -> bool:
        """Offer [上报][不用了] under a message that reads as a report; at most once per author per 30 min."""
        unit = await self.repos.units.by_chat(chat_id)
        if unit is None or cls.intent != "report_issue" or cls.confidence < self.ctx.group_offer_threshold():
            return False
        if await self.org.may_handle(author, unit.code):
            return False
        now = self.ctx.clock()
        last = await self.repos.offers.last_offer_at(chat_id, author.id)
        if last is not None and now - last < OFFER_COOLDOWN:
            return False
        offer_id = await self.repos.offers.add(GroupOffer(0, chat_id, author.id, text[:MAX_TEXT], photo, "open"), now)
        loc = self.ctx.group_locale
        out = await self.repos.outbox.add(
            OutMessage(
                chat_id,
                t("group.offer", loc),
                buttons=[
                    [
                        Button(t("group.offer_yes", loc), cb=("grp", {"a": "yes", "id": offer_id})),
                        Button(t("group.offer_no", loc), cb=("grp", {"a": "no", "id": offer_id})),
                    ]
                ],
                reply_to_message_id=message_id,
            )
        )
        await self.repos.offers.set_outbox(offer_id, out)
        return True

    async def answer(self, offer_id: int, accept: bool, user: User, cls: Classification | None) -> bool:
        """The author's tap; anyone else is refused. Accepting turns the message into their draft."""
        offer = await self.repos.offers.get(offer_id)
        if offer is None:
            raise NotFound("stale_button")
        if offer.user_id != user.id:
            raise Forbidden("offer_not_yours")
        if not await self.repos.offers.close(offer_id, "accepted" if accept else "declined"):
            raise Conflict("already_answered")
        loc = self.ctx.group_locale
        if accept:
            await self.file_for(user, offer.text, offer.photo_file_id, cls)
        if offer.offer_outbox_id is not None:
            key = "group.offer_accepted" if accept else "group.offer_declined"
            await self.repos.outbox.add(
                OutMessage(
                    0,
                    t(key, loc, bot=self.ctx.bot_username or ""),
                    buttons=self._start_button(accept),
                    edit_outbox_id=offer.offer_outbox_id,
                )
            )
        return accept

    def _start_button(self, show: bool) -> list[list[Button]]:
        if not show or not self.ctx.bot_username:
            return []
        url = f"https://t.me/{self.ctx.bot_username}?start=draft"
        return [[Button(t("group.open_private", self.ctx.group_locale), url=url)]]

    async def file_for(self, author: User, text: str, photo: str | None, cls: Classification | None) -> Draft:
        """A group message becomes its author's draft; they finish and submit it in private."""
        draft = await self.reports.start(author)
        if photo:
            draft = await self.reports.add_photo(author, photo, None, None)
        if text.strip():
            draft = await self.reports.add_text(author, text, cls)
        if author.private_chat_id:
            await self.repos.outbox.add(OutMessage(author.private_chat_id, t("group.draft_ready", author.locale)))
        return draft

    async def report_reply(
        self, chat_id: int, author: User, text: str, photo: str | None, cls: Classification | None
    ) -> Draft:
        """`/report` in reply to a message: its author gets a draft (nothing is filed without their tap)."""
        if await self.repos.units.by_chat(chat_id) is None:
            raise NotFound("chat_not_bound")
        if not text.strip() and not photo:
            raise Invalid("empty_text")
        draft = await self.file_for(author, text, photo, cls)
        await self.repos.outbox.add(
            OutMessage(
                chat_id,
                t("group.report_filed", self.ctx.group_locale, who=author.display_name),
                buttons=self._start_button(True),
            )
        )
        return draft


class Services:
    """The domain services of one unit of work."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.org = OrgService(ctx)
        self.points = PointsService(ctx, self.org)
        self.cases = CaseService(ctx, self.org, self.points)
        self.reports = ReportService(ctx, self.org, self.cases)
        self.groups = GroupService(ctx, self.org, self.reports)
        self.shop = ShopService(ctx, self.org, self.points)
        self.board = BoardService(ctx)
        self.activities = ActivityService(ctx, self.org, self.points)
        self.organiser = OrganiserTools(self.activities)
        self.activity_form = ActivityFormService(ctx, self.org, self.activities)
        self.volunteers = VolunteerService(ctx, self.org)
        self.orders = OrderService(ctx, self.org, self.points)

    async def send(self, message: OutMessage) -> int:
        """Queue a reply through the outbox (same transaction as whatever caused it)."""
        return await self.ctx.repos.outbox.add(message)

    async def user(
        self,
        ref: UserRef,
        display_name: str,
        username: str | None = None,
        locale: str | None = None,
        private_chat_id: int | None = None,
    ) -> User:
        """Find or register the acting person, refreshing what the platform tells us of them."""
        return await self.ctx.repos.users.upsert(ref, display_name, username, locale, private_chat_id)
