"""Carrying out the lifecycle table: each move compare-and-set, recorded, told, and shown on the group post."""

from __future__ import annotations

from domain.cases import lifecycle
from domain.cases.lifecycle import Actor
from domain.cases.model import CATEGORIES, MAX_TEXT, Case, CaseEvent, CaseState, LabelledExample
from domain.cases.ports import Cases, Examples
from domain.cases.rules import CaseRules
from domain.kernel.awaiting import Awaited, Conversation
from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.events import CaseResolved, EventBus
from domain.kernel.notices import Audience, Notice, Notices, Phrase, PostMode, Subject, Word
from domain.kernel.people import PeopleService, User
from domain.kernel.privacy import mask_personal_numbers
from domain.kernel.rating import Rating
from domain.kernel.time import Clock
from domain.org.model import Level, Unit
from domain.org.service import OrgService


def card(case: Case, unit: Unit) -> dict[str, object]:
    """What a group post of the case shows; the reporter only by role, personal numbers masked."""
    return {
        "number": case.number,
        "reopen_count": case.reopen_count,
        "category": Word(f"category.{case.category}"),
        "description": mask_personal_numbers(case.description),
        "address": case.address,
        "lat": case.lat,
        "lon": case.lon,
        "unit": unit.name,
        "fallback": case.fallback,
        "created_at": case.created_at,
        "role": Word(f"role.{case.reporter_role.value}"),
        "state": Word(f"state.{case.state.value}"),
    }


class CaseService:
    """Case transitions: each checked against the table, recorded, and told to whom it concerns."""

    def __init__(
        self,
        cases: Cases,
        examples: Examples,
        org: OrgService,
        people: PeopleService,
        conversation: Conversation,
        notices: Notices,
        events: EventBus,
        clock: Clock,
        rules: CaseRules,
    ) -> None:
        self.cases = cases
        self.examples = examples
        self.org = org
        self.people = people
        self.conversation = conversation
        self.notices = notices
        self.events = events
        self.clock = clock
        self.rules = rules

    async def get(self, case_id: int) -> Case:
        """A case or NotFound."""
        case = await self.cases.get(case_id)
        if case is None:
            raise NotFound("case_not_found")
        return case

    async def actors(self, case: Case, user: User) -> set[Actor]:
        """The roles a person has towards a case."""
        out: set[Actor] = set()
        if case.reporter_id == user.id:
            out.add(Actor.REPORTER)
        if await self.org.may_handle(user, case.unit_code):
            out.add(Actor.HANDLER)
        return out

    async def allowed(self, case: Case, user: User) -> list[str]:
        """What this person may do with the case now (a front end shows exactly these)."""
        unit = await self.org.get(case.unit_code)
        return lifecycle.allowed(case, unit.level, await self.actors(case, user))

    # ---- telling

    async def show(
        self,
        case: Case,
        mode: PostMode,
        actor: User | None = None,
        status: Phrase | None = None,
        banner: str | None = None,
        note: Phrase | None = None,
        unit_code: str | None = None,
    ) -> None:
        """The case's group post in its unit's group: a new post, an update, or its last state."""
        unit = await self.org.get(unit_code or case.unit_code)
        params = card(case, unit)
        # Staff act under their names; the reporter is never named in a group.
        if actor is not None and actor.id != case.reporter_id:
            params["actor"] = actor.display_name
        if status is not None:
            params["status"] = status
        if banner is not None:
            params["banner"] = Phrase(banner)
        if note is not None:
            params["note"] = note
        actions = () if mode is PostMode.CLOSE else lifecycle.handler_actions(case, unit.level)
        await self.notices.emit(
            Notice(
                "case.card",
                Audience.unit(unit.code),
                params,
                actions,
                Subject("case", case.id),
                mode,
                photo=case.photo_file_id,
            )
        )

    async def tell_reporter(self, case: Case, kind: str, **params: object) -> None:
        """A private notice to the reporter."""
        await self.notices.emit(Notice(kind, Audience.person(case.reporter_id), {"number": case.number, **params}))

    # ---- moving

    async def _move(
        self, case: Case, actor: User | None, to: CaseState, action: str, note: str | None = None, **changes: object
    ) -> Case:
        photo = changes.pop("photo", None)
        if not await self.cases.transition(case.id, case.state, case.rev, to, **changes):
            await self._conflict(case.id)
        await self.cases.add_event(
            CaseEvent(
                case.id,
                actor.id if actor else None,
                self.clock(),
                case.state,
                to,
                action,
                note,
                photo if isinstance(photo, str) else None,
            )
        )
        return await self.get(case.id)

    async def _conflict(self, case_id: int) -> None:
        current = await self.get(case_id)
        who = None
        if current.assignee_id:
            assignee = await self.people.get(current.assignee_id)
            who = assignee.display_name if assignee else None
        raise Conflict("case_changed", state=Word(f"state.{current.state.value}"), who=who or "-")

    async def _check(self, case: Case, action: str, rev: int, actor: User) -> lifecycle.Transition:
        t = lifecycle.rule(action)
        if t is None:
            raise Invalid("unknown_action")
        if t.actor not in await self.actors(case, actor):
            raise Forbidden("not_your_report" if t.actor is Actor.REPORTER else "not_your_case")
        if case.rev != rev:
            if t.actor is Actor.REPORTER:
                raise Conflict("already_rated")
            await self._conflict(case.id)
        unit = await self.org.get(case.unit_code)
        if not lifecycle.permits(t, case, unit.level):
            if t.actor is Actor.REPORTER:
                raise Conflict("already_rated")
            if case.state in t.sources:
                raise Invalid("reject_not_grid" if action == "reject" else "unknown_action")
            await self._conflict(case.id)
        return t

    async def check(self, case_id: int, action: str, rev: int, actor: User) -> Case:
        """The case, if this person may take this action on it now (else the refusal the action would get)."""
        case = await self.get(case_id)
        await self._check(case, action, rev, actor)
        return case

    async def act(self, case_id: int, action: str, rev: int, actor: User, value: str = "") -> Case:
        """Take an action of the table on a case (a button press, or a console's action)."""
        case = await self.get(case_id)
        t = await self._check(case, action, rev, actor)
        if action in ("claim", "onsite"):
            if action == "claim":
                case = await self._move(case, actor, t.target or case.state, action, assignee_id=actor.id)
            else:
                case = await self._move(case, actor, t.target or case.state, action)
            await self.show(case, PostMode.UPDATE, actor)
            await self.tell_reporter(case, t.tell_reporter or "", who=actor.display_name)
            return case
        if action == "resolve":
            # The note (and photo) come in the person's next reply; until then nothing changes.
            await self.conversation.expect(actor.id, Awaited.RESOLVE_NOTE, case.id)
            await self.notices.emit(
                Notice(
                    "case.resolve_note_asked",
                    Audience.person(actor.id),
                    {"number": case.number, "who": actor.display_name},
                    subject=Subject("case", case.id),
                    fallback=Audience.unit(case.unit_code),
                )
            )
            return case
        if action == "reject":
            return await self._reject(case, actor)
        if action == "dispatch":
            return await self._dispatch(case, actor, value)
        if action == "recategorize":
            return await self._recategorize(case, actor, value)
        if action == "rate":
            return await self._rate(case, actor, value)
        if action == "reopen":
            return await self._reopen(case, actor)
        raise Invalid("unknown_action")

    async def resolve(self, actor: User, note: str, photo: str | None) -> Case:
        """The awaited resolve note: the case is resolved, the reporter told and asked to rate."""
        awaiting = await self.conversation.awaits(actor.id, Awaited.RESOLVE_NOTE)
        if awaiting is None:
            raise NotFound("nothing_pending")
        note = note.strip()
        if not note and not photo:
            raise Invalid("resolve_note_empty")
        if len(note) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)
        case = await self.get(awaiting.ref_id)
        t = await self._check(case, "resolve", case.rev, actor)
        await self.conversation.done(actor.id, Awaited.RESOLVE_NOTE)
        case = await self._move(case, actor, t.target or case.state, "resolve", note or None, photo=photo)
        await self.show(case, PostMode.UPDATE, actor)
        await self.events.publish(CaseResolved(case.id, case.number, case.reporter_id, case.category, case.unit_code))
        unit = await self.org.get(case.unit_code)
        await self.notices.emit(
            Notice(
                "case.resolved",
                Audience.person(case.reporter_id),
                {"number": case.number, "note": note or "-"},
                lifecycle.reporter_actions(case, unit.level),
                photo=photo,
            )
        )
        return case

    async def _relocate(
        self, case: Case, actor: User, to_unit: Unit, action: str, status: Phrase, note: str | None, **more: object
    ) -> Case:
        old = case.unit_code
        case = await self._move(case, actor, case.state if action == "recategorize" else CaseState.NEW, action, note,
                                unit_code=to_unit.code, **more)  # fmt: skip
        await self.show(case, PostMode.CLOSE, actor, status=status, unit_code=old)
        return case

    async def _reject(self, case: Case, actor: User) -> Case:
        unit = await self.org.get(case.unit_code)
        if not unit.parent_code:
            raise Invalid("reject_not_grid")
        parent = await self.org.get(unit.parent_code)
        status = Phrase("case.status.rejected_to", {"unit": parent.name})
        case = await self._relocate(case, actor, parent, "reject", status, None, assignee_id=None)
        await self.show(case, PostMode.NEW, banner="case.banner.redispatch")
        await self.tell_reporter(case, "case.sent_back")
        return case

    async def dispatch_options(self, case_id: int, actor: User) -> tuple[Case, list[Unit]]:
        """Grids under the case's unit that staff may send it down to."""
        case = await self.get(case_id)
        if not await self.org.may_handle(actor, case.unit_code):
            raise Forbidden("not_your_case")
        return case, await self.org.below(case.unit_code, Level.GRID)

    async def _dispatch(self, case: Case, actor: User, grid_code: str) -> Case:
        options = await self.org.below(case.unit_code, Level.GRID)
        grid = next((g for g in options if g.code == grid_code), None)
        if grid is None:
            raise Invalid("unknown_unit", code=grid_code[:40])
        status = Phrase("case.status.dispatched_to", {"unit": grid.name})
        case = await self._relocate(case, actor, grid, "dispatch", status, grid.code, fallback=False)
        await self.show(case, PostMode.NEW)
        return case

    async def _recategorize(self, case: Case, actor: User, category: str) -> Case:
        if category not in CATEGORIES:
            raise Invalid("unknown_category")
        if category == case.category:
            return case
        if case.description.strip():
            await self.examples.add(
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
        # The timeline keeps the codes; a front end names them in the reader's language.
        moved_note = f"{case.category}→{category}"
        change = Phrase("case.change", {"old": Word(f"category.{case.category}"), "new": Word(f"category.{category}")})
        # Where the case stands: the grid it came from (a case above the grid is located again by its place).
        base = case.unit_code
        unit = await self.org.get(base)
        if unit.level is not Level.GRID and case.lat is not None and case.lon is not None:
            where = (await self.org.geo.index(self.org.units)).locate(case.lat, case.lon)
            if where is not None and not where.fallback:
                base = where.unit_code
        target = await self.handling_unit(base, category)
        if target != case.unit_code and case.state is CaseState.NEW:
            to_unit = await self.org.get(target)
            status = Phrase("case.status.moved_to", {"unit": to_unit.name})
            case = await self._relocate(
                case, actor, to_unit, "recategorize", status, moved_note, category=category, assignee_id=None
            )
            await self.show(case, PostMode.NEW)
            return case
        case = await self._move(case, actor, case.state, "recategorize", moved_note, category=category)
        await self.show(case, PostMode.UPDATE, actor, note=Phrase("case.note.recategorized", {"change": change}))
        return case

    async def _rate(self, case: Case, actor: User, value: str) -> Case:
        try:
            verdict = Rating(value)
        except ValueError:
            raise Invalid("unknown_action") from None
        if verdict is Rating.UNSATISFIED:
            return await self._reopen(case, actor)
        case = await self._move(case, actor, CaseState.CLOSED, "rate", verdict.value, rating=verdict.value)
        await self.show(
            case, PostMode.UPDATE, note=Phrase("case.note.rated", {"rating": Word(f"rating.{verdict.value}")})
        )
        await self.tell_reporter(case, "case.closed")
        return case

    async def _reopen(self, case: Case, actor: User) -> Case:
        case = await self._move(
            case,
            actor,
            CaseState.NEW,
            "reopen",
            Rating.UNSATISFIED.value,
            rating=None,
            assignee_id=None,
            reopen_count=case.reopen_count + 1,
        )
        # The old post keeps its history but loses its buttons; the rework gets a fresh post.
        await self.show(case, PostMode.CLOSE, note=Phrase("case.note.reopened"))
        await self.show(case, PostMode.NEW, banner="case.banner.rework")
        await self.tell_reporter(case, "case.reopened")
        return case

    async def handling_unit(self, code: str, category: str) -> str:
        """The unit that handles this category at this place: the grid, or an ancestor for some categories."""
        level = self.rules.category_levels.get(category)
        return code if level is None else await self.org.at_level(code, level)

    async def timeline(self, case_id: int, user: User) -> tuple[Case, list[CaseEvent]]:
        """A case and its history, for its reporter or its staff."""
        case = await self.get(case_id)
        if not await self.actors(case, user):
            raise Forbidden("not_your_report")
        return case, await self.cases.events(case_id)

    async def mine(self, user: User, limit: int = 10) -> list[Case]:
        """The reporter's latest cases."""
        return await self.cases.by_reporter(user.id, limit)
