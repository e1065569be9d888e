"""How a case is shown and told: its group post, the 督办 posts in the levels above, and its reporter's messages.

The domain says what a post shows (the case, its clock, who holds it since when, its story, its departments)
and which actions its audience has; a front end decides how that looks.
"""

from __future__ import annotations

import math
from datetime import datetime

from domain.cases import lifecycle
from domain.cases.access import CaseAccess
from domain.cases.deadlines import BINDING, current_round
from domain.cases.lifecycle import Actor
from domain.cases.model import Case, CaseEvent, CaseState, Deadline
from domain.cases.ports import Calls, Deadlines, Followers
from domain.cases.record import CaseRecord
from domain.cases.timeline import detail
from domain.kernel.notices import Action, Audience, Notice, Notices, Phrase, PostMode, Subject, Word
from domain.kernel.people import PeopleService
from domain.kernel.privacy import mask_personal_numbers
from domain.kernel.time import Clock
from domain.org.model import Unit
from domain.org.service import OrgService

HISTORY_STEPS = 6  # a climbed or supervised post carries the case's last steps, enough to pick it up without asking
HOLDING = ("claim", "reassign", "takeover")  # the steps after which someone holds the case
# Followers hear the outcome in their own words where the reporter's would not fit them.
FOLLOWERS_KIND = {"case.closed": "case.closed_followed", "case.closed_unrated": "case.closed_followed"}


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
        "on_behalf": mask_personal_numbers(case.on_behalf) if case.on_behalf else None,
    }


def supervisors(case: Case, events: list[CaseEvent]) -> list[str]:
    """The units above that were told of the case (督办) and still see it in their groups."""
    return list(
        dict.fromkeys(e.note for e in events if e.action == "supervise" and e.note and e.note != case.unit_code)
    )


def held_since(events: list[CaseEvent]) -> datetime | None:
    """When the current holder took the case."""
    return next((e.at for e in reversed(events) if e.action in HOLDING), None)


class CasePost:
    """The posts of a case and the messages about it."""

    def __init__(
        self,
        record: CaseRecord,
        deadlines: Deadlines,
        followers: Followers,
        calls: Calls,
        access: CaseAccess,
        org: OrgService,
        people: PeopleService,
        notices: Notices,
        clock: Clock,
    ) -> None:
        self.record = record
        self.deadlines = deadlines
        self.followers = followers
        self.calls = calls
        self.access = access
        self.org = org
        self.people = people
        self.notices = notices
        self.clock = clock

    def clock_params(self, case: Case, clocks: list[Deadline]) -> dict[str, object]:
        """The clock that matters now, and how late the case is if a clock that binds it ran out."""
        out: dict[str, object] = {}
        if case.state not in BINDING:
            return out
        now = self.clock()
        binding = BINDING[case.state]
        mine = current_round(clocks)
        late = [
            d for d in mine if d.kind in binding and (d.state == "missed" or (d.state == "open" and d.due_at < now))
        ]
        if late:
            first = min(late, key=lambda d: d.due_at)
            # Rounded up: a case one second late is late by a minute, never by "0 minutes".
            out["overdue_minutes"] = max(1, math.ceil((now - first.due_at).total_seconds() / 60))
            out["overdue_kind"] = Word(f"deadline.{first.kind}")
        for kind in binding:
            running = [d for d in mine if d.kind == kind and d.state == "open" and d.due_at >= now]
            if running:
                out.update(due=running[0].due_at, due_kind=Word(f"deadline.{kind}"), estimated=running[0].estimated)
                break
        return out

    async def _names(self, ids: set[int]) -> dict[int, str]:
        out = {}
        for i in ids:
            person = await self.people.get(i)
            out[i] = person.display_name if person else ""
        return out

    async def history(self, case: Case, events: list[CaseEvent]) -> list[tuple[datetime, object, str]]:
        """The case's last steps as a post shows them: when, what, and which staff (never the reporter)."""
        last = events[-HISTORY_STEPS:]
        names = await self._names(
            {e.actor_id for e in last if e.actor_id is not None and e.actor_id != case.reporter_id}
        )
        units = {u.code: u.name for u in await self.org.all()}
        out: list[tuple[datetime, object, str]] = []
        for e in last:
            what: object = Word(f"action.{e.action}")
            said = detail(e.action, e.note, units, e.actor_id == case.reporter_id) if e.action != "resolve" else None
            if said is not None and e.action == "overdue":
                what = said  # 办结超时 says it all
            elif said is not None and e.action in ("escalate", "supervise", "takeover", "recategorize"):
                what = Phrase("case.history_detail", {"what": what, "detail": said})
            out.append((e.at, what, names.get(e.actor_id, "") if e.actor_id is not None else ""))
        return out

    async def _params(self, case: Case, unit: Unit, events: list[CaseEvent]) -> dict[str, object]:
        params = card(case, unit)
        params.update(self.clock_params(case, await self.deadlines.of_cases([case.id])))
        if case.assignee_id and case.state in (CaseState.CLAIMED, CaseState.ON_SITE):
            holder = await self.people.get(case.assignee_id)
            params["holder"] = holder.display_name if holder else "-"
            since = held_since(events)
            if since is not None:
                params["held_since"] = since
        followers = await self.followers.of_case(case.id)
        if followers:
            params["followers"] = len(followers)
        calls = await self.calls.of_case(case.id)
        if calls:
            names = {u.code: u.name for u in await self.org.all()}
            params["departments"] = [(names.get(c.department, c.department), Word(f"call.{c.state}")) for c in calls]
            notes = [e.note for e in events if e.action == "dept_note" and e.note]
            if notes:
                params["department_note"] = notes[-1]
        return params

    async def show(
        self,
        case: Case,
        mode: PostMode,
        status: Phrase | None = None,
        banner: str | None = None,
        note: Phrase | None = None,
        unit_code: str | None = None,
    ) -> None:
        """The case's group post in its unit's group (a new post, an update, or its last state), and the 督办
        posts of the levels above brought up to date with it."""
        unit = await self.org.get(unit_code or case.unit_code)
        events = await self.record.events(case.id)
        params = await self._params(case, unit, events)
        for key, v in (("status", status), ("note", note)):
            if v is not None:
                params[key] = v
        if banner is not None:
            params["banner"] = Phrase(banner)
        if case.origin_unit and case.origin_unit != unit.code and mode is not PostMode.CLOSE:
            params["history"] = await self.history(case, events)  # a case that climbed shows where it came from
        actions: tuple[Action, ...] = ()
        if mode is not PostMode.CLOSE and unit.code == case.unit_code:
            actions = lifecycle.group_actions(case, await self.access.of_group(case, unit))
        await self._emit(case, unit.code, params, actions, mode)
        if unit_code is None or unit_code == case.unit_code:
            for code in supervisors(case, events):
                await self._supervision(
                    case, code, events, PostMode.CLOSE if mode is PostMode.CLOSE else PostMode.UPDATE
                )

    async def _emit(
        self, case: Case, code: str, params: dict[str, object], actions: tuple[Action, ...], mode: PostMode
    ) -> None:
        await self.notices.emit(
            Notice(
                "case.card",
                Audience.unit(code),
                params,
                actions,
                Subject("case", case.id),
                mode,
                photo=case.photo_file_id,
                urgent=case.urgent,
            )
        )

    async def _supervision(self, case: Case, code: str, events: list[CaseEvent], mode: PostMode) -> None:
        unit = await self.org.get(code)
        here = await self.org.get(case.unit_code)
        params = await self._params(case, here, events)
        params["banner"] = Phrase("case.banner.supervised", {"unit": here.name})
        params["history"] = await self.history(case, events)
        actions: tuple[Action, ...] = ()
        if mode is not PostMode.CLOSE and case.state in lifecycle.HELD:
            standing = await self.access.standing(case, frozenset({Actor.SUPERVISOR}), here)
            actions = lifecycle.supervision_actions(case, standing)
        await self._emit(case, unit.code, params, actions, mode)

    async def supervise(self, case: Case, code: str) -> None:
        """督办: the level above gets the case with its story and who holds it since when."""
        await self._supervision(case, code, await self.record.events(case.id), PostMode.NEW)

    async def close_supervision(self, case: Case) -> None:
        """The case left the units below: the 督办 posts show their last state."""
        events = await self.record.events(case.id)
        for code in supervisors(case, events):
            await self._supervision(case, code, events, PostMode.CLOSE)

    async def tell_reporter(self, case: Case, kind: str, **params: object) -> None:
        """A private notice to the reporter and to everyone who follows the case (reported it too)."""
        await self.notices.emit(
            Notice(kind, Audience.person(case.reporter_id), {"number": case.number, **params}, urgent=case.urgent)
        )
        for person in await self.followers.of_case(case.id):
            await self.notices.emit(
                Notice(
                    FOLLOWERS_KIND.get(kind, kind),
                    Audience.person(person),
                    {"number": case.number, **params},
                    urgent=case.urgent,
                )
            )

    async def ask_rating(self, case: Case, kind: str, photo: str | None = None, **params: object) -> None:
        """Ask the reporter to rate the case (followers are told the outcome, not asked)."""
        standing = await self.access.standing(case, frozenset({Actor.REPORTER}))
        await self.notices.emit(
            Notice(
                kind,
                Audience.person(case.reporter_id),
                {"number": case.number, **params},
                lifecycle.reporter_actions(case, standing),
                photo=photo,
            )
        )
        if kind == "case.resolved":
            for person in await self.followers.of_case(case.id):
                await self.notices.emit(
                    Notice(
                        "case.resolved_followed",
                        Audience.person(person),
                        {"number": case.number, **params},
                        photo=photo,
                    )
                )

    async def tell(self, person: int, kind: str, case: Case, fallback: bool = False, **params: object) -> None:
        """A private notice about a case to one member of staff (in the case's group if they cannot be reached)."""
        await self.notices.emit(
            Notice(
                kind,
                Audience.person(person),
                {"number": case.number, "category": Word(f"category.{case.category}"), **params},
                subject=Subject("case", case.id) if fallback else None,
                fallback=Audience.unit(case.unit_code) if fallback else None,
                urgent=case.urgent,
            )
        )
