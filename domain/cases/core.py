"""What every case move shares: reading a case, checking the table, recording, showing the post, telling."""

from __future__ import annotations

from datetime import datetime

from domain.cases import lifecycle
from domain.cases.deadlines import DeadlineClock
from domain.cases.lifecycle import Actor
from domain.cases.model import Case, CaseEvent, CaseState
from domain.cases.ports import Calls, Cases, Deadlines, Examples, Followers
from domain.cases.rules import CaseRules
from domain.kernel.awaiting import Conversation
from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.events import EventBus
from domain.kernel.notices import Action, Audience, Notice, Notices, Phrase, PostMode, Subject, Word
from domain.kernel.people import PeopleService, User
from domain.kernel.privacy import mask_personal_numbers
from domain.kernel.time import Clock
from domain.org.model import Level, Unit
from domain.org.service import OrgService

OPEN = (CaseState.NEW, CaseState.CLAIMED, CaseState.ON_SITE)
HISTORY_STEPS = 6  # an escalated post carries the case's last steps below, enough to pick it up without asking
# Which clock a post shows while the case is in a state.
SHOWN_CLOCK = {
    CaseState.NEW: ("claim", "resolve"),
    CaseState.CLAIMED: ("on_site", "resolve"),
    CaseState.ON_SITE: ("resolve",),
}


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
        "urgent": case.urgent,
    }


class CaseCore:
    """Reading, checking, recording and telling — the parts of every move."""

    def __init__(
        self,
        cases: Cases,
        examples: Examples,
        deadlines: Deadlines,
        followers: Followers,
        calls: Calls,
        clocks: DeadlineClock,
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
        self.deadlines = deadlines
        self.followers = followers
        self.calls = calls
        self.clocks = clocks
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

    # ---- telling

    async def _clock_params(self, case: Case) -> dict[str, object]:
        # The post shows the clock that matters now, and how late the case is if a deadline passed.
        out: dict[str, object] = {}
        if case.state not in OPEN:
            return out
        now: datetime = self.clock()
        clocks = await self.deadlines.of_cases([case.id])
        # Only a clock that still binds counts: a claim made late is history once the case is claimed.
        late = [d for d in clocks if d.kind in SHOWN_CLOCK[case.state] and d.state == "missed"]
        if late:
            first = min(late, key=lambda d: d.due_at)
            out["overdue_minutes"] = int((now - first.due_at).total_seconds() // 60)
            out["overdue_kind"] = Word(f"deadline.{first.kind}")
        for kind in SHOWN_CLOCK[case.state]:
            running = [d for d in clocks if d.kind == kind and d.state == "open"]
            if running:
                out.update(due=running[0].due_at, due_kind=Word(f"deadline.{kind}"), estimated=running[0].estimated)
                break
        return out

    async def history(self, case: Case) -> list[tuple[datetime, object, str]]:
        """The case's last steps as a group post shows them: when, what, and which staff (never the reporter)."""
        names: dict[int, str] = {}
        out: list[tuple[datetime, object, str]] = []
        for e in (await self.cases.events(case.id))[-HISTORY_STEPS:]:
            who = ""
            if e.actor_id is not None and e.actor_id != case.reporter_id:
                if e.actor_id not in names:
                    person = await self.people.get(e.actor_id)
                    names[e.actor_id] = person.display_name if person else ""
                who = names[e.actor_id]
            what: object = Word(f"action.{e.action}")
            if e.action == "overdue" and e.note:
                what = Phrase("case.history_overdue", {"deadline": Word(f"deadline.{e.note}")})
            out.append((e.at, what, who))
        return out

    async def show(
        self,
        case: Case,
        mode: PostMode,
        actor: User | None = None,
        status: Phrase | None = None,
        banner: str | None = None,
        note: Phrase | None = None,
        unit_code: str | None = None,
        history: list[tuple[datetime, object, str]] | None = None,
    ) -> None:
        """The case's group post in its unit's group: a new post, an update, or its last state."""
        unit = await self.org.get(unit_code or case.unit_code)
        params = card(case, unit)
        params.update(await self._clock_params(case))
        followers = await self.followers.of_case(case.id)
        if followers:
            params["followers"] = len(followers)
        calls = await self.calls.of_case(case.id)
        if calls:
            names = {u.code: u.name for u in await self.org.all()}
            params["departments"] = [(names.get(c.department, c.department), Word(f"call.{c.state}")) for c in calls]
        # Staff act under their names; the reporter is never named in a group.
        if actor is not None and actor.id != case.reporter_id:
            params["actor"] = actor.display_name
        if status is not None:
            params["status"] = status
        if banner is not None:
            params["banner"] = Phrase(banner)
        if note is not None:
            params["note"] = note
        if history is None and case.origin_unit and case.origin_unit != unit.code and mode is not PostMode.CLOSE:
            history = await self.history(case)  # a case that climbed keeps showing where it came from
        if history:
            params["history"] = history
        actions = () if mode is PostMode.CLOSE else lifecycle.handler_actions(case, unit.level)
        if actions and unit.level in (Level.COMMUNITY, Level.STREET) and await self.org.of_level(Level.DEPARTMENT):
            # 吹哨: a community's or street's post may call departments to the case.
            actions = (*actions, Action("case.whistle", case.id, case.rev))
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

    async def tell_reporter(self, case: Case, kind: str, followers: str | None = None, **params: object) -> None:
        """A private notice to the reporter and to everyone who follows the case (reported it too), followers
        getting their own wording when the reporter's would not fit them."""
        await self.notices.emit(Notice(kind, Audience.person(case.reporter_id), {"number": case.number, **params}))
        for person in await self.followers.of_case(case.id):
            await self.notices.emit(
                Notice(followers or kind, Audience.person(person), {"number": case.number, **params})
            )

    # ---- moving

    async def _move(
        self, case: Case, actor: User | None, to: CaseState, action: str, note: str | None = None, **changes: object
    ) -> Case:
        photo = changes.pop("photo", None)
        if not await self.cases.transition(case.id, case.state, case.rev, to, **changes):
            await self._conflict(case.id)
        event_photo = photo if isinstance(photo, str) else None
        actor_id = actor.id if actor else None
        await self.cases.add_event(
            CaseEvent(case.id, actor_id, self.clock(), case.state, to, action, note, event_photo)
        )
        return await self.get(case.id)

    async def _conflict(self, case_id: int) -> None:
        current = await self.get(case_id)
        who = None
        if current.assignee_id:
            assignee = await self.people.get(current.assignee_id)
            who = assignee.display_name if assignee else None
        raise Conflict("case_changed", state=Word(f"state.{current.state.value}"), who=who or "-")

    async def _check(self, case: Case, action: str, rev: int, actor: User | None) -> lifecycle.Transition:
        t = lifecycle.rule(action)
        if t is None:
            raise Invalid("unknown_action")
        allowed = lifecycle.actors_of(t)
        mine = {Actor.SYSTEM} if actor is None else await self.actors(case, actor)
        if not allowed & mine:
            raise Forbidden("not_your_report" if Actor.REPORTER in allowed else "not_your_case")
        reporter_only = allowed == {Actor.REPORTER}
        if case.rev != rev:
            if reporter_only:
                raise Conflict("already_rated")
            await self._conflict(case.id)
        unit = await self.org.get(case.unit_code)
        if not lifecycle.permits(t, case, unit.level):
            if reporter_only:
                raise Conflict("already_rated")
            if case.state in t.sources:
                raise Invalid("reject_not_grid" if action == "reject" else "cannot_" + action)
            await self._conflict(case.id)
        return t

    async def handling_unit(self, code: str, category: str) -> str:
        """The unit that handles this category at this place: the grid, or an ancestor for some categories."""
        level = self.rules.category_levels.get(category)
        return code if level is None else await self.org.at_level(code, level)
