"""议事: a matter is put to the residents, voted on privately, counted once, decided, and followed up.

| step    | from     | to       | who                          | what happens                                      |
|---------|----------|----------|------------------------------|---------------------------------------------------|
| propose | –        | proposed | resident with confirmed home | the grid's group gets it to accept or decline     |
| decline | proposed | declined | staff of the unit or above   | the proposer is told why                          |
| accept  | proposed | open     | staff                        | as open, with the office's defaults               |
| open    | –        | open     | staff                        | the group gets the card with [投票]                 |
| vote    | open     | open     | eligible resident, privately | one ballot per person or household, changeable    |
| close   | open     | closed   | the sweeper, window's end    | counted once; the group gets the result           |
| decide  | closed   | decided  | staff                        | decision kept; follow-ups become cases; voters told |

Nobody sees who voted what: ballots are counted, never listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from domain.civic.homes import HomeService
from domain.civic.model import FollowUp, Matter, MatterState, Per, ScopeLevel
from domain.civic.places import PlaceBook
from domain.civic.ports import FileCase, Matters
from domain.civic.rules import CivicRules
from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.events import CaseResolved
from domain.kernel.i18n import memo
from domain.kernel.notices import Action, Audience, Notice, Notices, PostMode, Subject
from domain.kernel.people import User
from domain.kernel.privacy import mask_personal_numbers
from domain.kernel.time import CHINA_TZ, Clock, local
from domain.org.service import OrgService

TITLE_MAX = 60
BODY_MAX = 1000
OPTION_MAX = 20
DECISION_MAX = 1000
ACTIONS_MAX = 5


@dataclass
class MatterDraft:
    """What staff say when they open a matter; what they leave out takes the office's defaults."""

    title: str
    body: str = ""
    options: list[str] = field(default_factory=list)
    scope: str = ""
    days: int | None = None
    quorum_pct: int | None = None
    per: Per = Per.PERSON
    # A closing day instead of a number of days: (month, day) this year or next, or a full date.
    closes_on: tuple[int, int, int | None] | None = None


@dataclass(frozen=True)
class Ballot:
    """A matter as one resident sees it before voting."""

    matter: Matter
    scope: str
    eligible: bool
    choice: int | None


class MatterService:
    """Opens, counts and closes matters; every vote passes eligibility and the window, under the matter's lock."""

    def __init__(
        self,
        matters: Matters,
        homes: HomeService,
        book: PlaceBook,
        org: OrgService,
        notices: Notices,
        clock: Clock,
        rules: CivicRules,
        file_case: FileCase,
    ) -> None:
        self.matters = matters
        self.homes = homes
        self.book = book
        self.org = org
        self.notices = notices
        self.clock = clock
        self.rules = rules
        self.file_case = file_case

    async def get(self, matter_id: int) -> Matter:
        """A matter or NotFound."""
        matter = await self.matters.get(matter_id)
        if matter is None:
            raise NotFound("matter_missing")
        return matter

    def _closes(self, days: int) -> datetime:
        day = local(self.clock()).date() + timedelta(days=days)
        return datetime.combine(day, time(self.rules.close_hour), tzinfo=CHINA_TZ).astimezone(UTC)

    def _check(self, draft: MatterDraft) -> MatterDraft:
        title, body = draft.title.strip(), draft.body.strip()
        options = [o.strip() for o in draft.options if o.strip()] or [
            memo("matter_option.yes", self.rules.locale),
            memo("matter_option.no", self.rules.locale),
        ]
        if not title:
            raise Invalid("matter_usage")
        if len(title) > TITLE_MAX or len(body) > BODY_MAX:
            raise Invalid("text_too_long", max=TITLE_MAX if len(title) > TITLE_MAX else BODY_MAX)
        if not 2 <= len(options) <= self.rules.options_max or len(set(options)) != len(options):
            raise Invalid("matter_options", max=self.rules.options_max)
        if any(len(o) > OPTION_MAX for o in options):
            raise Invalid("text_too_long", max=OPTION_MAX)
        days = self.rules.window_days if draft.days is None else draft.days
        if draft.closes_on is not None:
            days = self._days_until(*draft.closes_on)
        if not 1 <= days <= self.rules.window_days_max:
            raise Invalid("matter_days", max=self.rules.window_days_max)
        quorum = self.rules.quorum_pct if draft.quorum_pct is None else draft.quorum_pct
        if not 0 <= quorum <= 100:
            raise Invalid("matter_quorum")
        return MatterDraft(title, body, options, draft.scope.strip(), days, quorum, draft.per)

    def _days_until(self, month: int, day: int, year: int | None) -> int:
        today = local(self.clock()).date()
        try:
            target = date(year or today.year, month, day)
            if year is None and target < today:
                target = date(today.year + 1, month, day)  # "12月20日" written in late December means next year's
        except ValueError:
            raise Invalid("matter_usage") from None
        return (target - today).days

    async def open(self, actor: User, unit_code: str, draft: MatterDraft) -> Matter:
        """Staff put a matter to the residents of a scope (by default their group's grid or community)."""
        d = self._check(draft)
        level, code = await self.book.resolve(d.scope, unit_code) if d.scope else await self.book.scope(unit_code)
        unit = await self.book.home_unit(level, code)
        await self.org.require(actor, unit, "matter_forbidden")
        now = self.clock()
        matter = Matter(
            0, d.title, d.body, unit, MatterState.OPEN, now, d.options, level, code, d.per,
            d.quorum_pct or 0, now, self._closes(d.days or 1), opened_by=actor.id,
        )  # fmt: skip
        matter = await self.matters.add(matter)
        await self._post(matter)
        return matter

    async def _post(self, matter: Matter) -> None:
        matter.eligible = await self._eligible(matter)
        await self.notices.emit(
            Notice("matter.card", Audience.unit(matter.unit_code), await self.card(matter),
                   (Action("matter.vote", matter.id),), Subject("matter", matter.id), PostMode.NEW)
        )  # fmt: skip

    async def _eligible(self, matter: Matter) -> int:
        # Confirmed people (or households) in the scope's buildings.
        buildings = await self.book.covered(matter.scope_level, matter.scope_code)
        return await self.homes.homes.count_confirmed(buildings, matter.per is Per.HOUSEHOLD) if buildings else 0

    async def card(self, matter: Matter) -> dict[str, object]:
        """What a matter's post and ballot show (no voter, ever)."""
        return {
            "id": matter.id,
            "title": matter.title,
            "body": matter.body,
            "options": list(matter.options),
            "scope": await self.book.label(matter.scope_level, matter.scope_code),
            "per": matter.per.value,
            "closes": matter.closes_at,
            "quorum": matter.quorum_pct,
            "eligible": matter.eligible,
            "state": matter.state.value,
            "counts": [matter.counts.get(str(i), 0) for i in range(len(matter.options))],
            "turnout": matter.turnout,
            "quorum_met": matter.quorum_met,
            "decision": matter.decision,
        }

    async def ballot(self, user: User, matter_id: int) -> Ballot:
        """The matter, whether this person may vote on it, and what they chose so far."""
        matter = await self.get(matter_id)
        if matter.state is MatterState.PROPOSED or matter.state is MatterState.DECLINED:
            raise NotFound("matter_missing")
        return await self._ballot(user, matter)

    async def _ballot(self, user: User, matter: Matter) -> Ballot:
        key = await self._key(user, matter)
        choice = await self.matters.ballot(matter.id, key) if key else None
        return Ballot(matter, await self.book.label(matter.scope_level, matter.scope_code), key is not None, choice)

    async def _key(self, user: User, matter: Matter) -> str | None:
        buildings = await self.book.covered(matter.scope_level, matter.scope_code)
        return await self.homes.voter_key(user, buildings, matter.per)

    async def vote(self, user: User, matter_id: int, option: int) -> tuple[Matter, bool]:
        """Cast or change a ballot (True: it replaced an earlier one); refused outside the window or scope."""
        matter = await self.matters.get(matter_id, share=True)  # a close waits for votes in flight
        if matter is None or matter.state in (MatterState.PROPOSED, MatterState.DECLINED):
            raise NotFound("matter_missing")
        if matter.state is not MatterState.OPEN or (matter.closes_at and self.clock() >= matter.closes_at):
            raise Conflict("matter_closed")
        if not 0 <= option < len(matter.options):
            raise Invalid("stale_button")
        key = await self._key(user, matter)
        if key is None:
            raise Forbidden("matter_not_eligible")
        changed = await self.matters.cast(matter.id, key, option, self.clock(), user.id)
        return matter, changed

    async def close_due(self, limit: int = 50) -> int:
        """Close and count every matter whose window has ended (each once)."""
        n = 0
        for due in await self.matters.due(self.clock(), limit):
            matter = await self.matters.get(due.id, lock=True)
            if matter is None or matter.state is not MatterState.OPEN:
                continue
            counts = await self.matters.counts(matter.id)
            matter.counts = {str(k): v for k, v in sorted(counts.items())}
            matter.eligible = await self._eligible(matter)
            if not await self.matters.move(matter.id, MatterState.OPEN, state=MatterState.CLOSED,
                                           counts=matter.counts, eligible=matter.eligible):  # fmt: skip
                continue
            matter.state = MatterState.CLOSED
            card = await self.card(matter)
            audience = Audience.unit(matter.unit_code)
            await self.notices.emit(Notice("matter.card", audience, card, (), Subject("matter", matter.id),
                                           PostMode.CLOSE))  # fmt: skip
            await self.notices.emit(Notice("matter.result", audience, card))
            if matter.proposer_id is not None:
                await self.notices.emit(Notice("matter.result", Audience.person(matter.proposer_id), card))
            n += 1
        return n

    async def propose(self, user: User, text: str) -> Matter:
        """A resident's proposal (征集议题): first line the title, the rest the reasons; to their grid's staff."""
        text = text.strip()
        title, _, body = text.partition("\n")
        if not title.strip():
            raise Invalid("matter_propose_usage")
        homes = await self.homes.confirmed(user)
        if not homes:
            raise Forbidden("matter_propose_home")
        building = await self.book.building(homes[0].building_code)
        compound = await self.book.compound(building.compound_code)
        d = self._check(MatterDraft(mask_personal_numbers(title)[:TITLE_MAX], body))
        matter = Matter(
            0, d.title, mask_personal_numbers(d.body), compound.grid_code, MatterState.PROPOSED, self.clock(),
            d.options, ScopeLevel.COMPOUND, compound.code, Per.PERSON, d.quorum_pct or 0, proposer_id=user.id,
        )  # fmt: skip
        matter = await self.matters.add(matter)
        await self.notices.emit(
            Notice("matter.proposed", Audience.unit(matter.unit_code),
                   {"id": matter.id, "title": matter.title, "body": matter.body, "scope": compound.name},
                   (Action("matter.accept", matter.id), Action("matter.decline", matter.id)),
                   Subject("matter", matter.id), PostMode.NEW)
        )  # fmt: skip
        return matter

    async def _staff_step(self, actor: User, matter_id: int, source: MatterState) -> Matter:
        matter = await self.get(matter_id)
        await self.org.require(actor, matter.unit_code, "matter_forbidden")
        if matter.state is not source:
            raise Conflict("already_done")
        return matter

    async def may_answer(self, actor: User, matter_id: int) -> Matter:
        """A proposal this person may accept or decline (else the polite refusal)."""
        return await self._staff_step(actor, matter_id, MatterState.PROPOSED)

    async def accept(self, actor: User, matter_id: int) -> Matter:
        """Staff put a proposal to the vote with the office's defaults."""
        matter = await self._staff_step(actor, matter_id, MatterState.PROPOSED)
        now, closes = self.clock(), self._closes(self.rules.window_days)
        values = {"opens_at": now, "closes_at": closes, "opened_by": actor.id, "quorum_pct": self.rules.quorum_pct}
        if not await self.matters.move(matter.id, MatterState.PROPOSED, state=MatterState.OPEN, **values):
            raise Conflict("already_done")
        matter.state, matter.opens_at, matter.closes_at = MatterState.OPEN, now, closes
        matter.opened_by, matter.quorum_pct = actor.id, self.rules.quorum_pct
        await self.notices.emit(Notice("matter.proposed", Audience.unit(matter.unit_code),
                                       {"id": matter.id, "title": matter.title, "body": matter.body,
                                        "scope": await self.book.label(matter.scope_level, matter.scope_code),
                                        "accepted": actor.display_name},
                                       (), Subject("matter", matter.id), PostMode.CLOSE))  # fmt: skip
        if matter.proposer_id is not None:
            await self.notices.emit(Notice("matter.accepted", Audience.person(matter.proposer_id),
                                           {"id": matter.id, "title": matter.title}))  # fmt: skip
        await self._post(matter)
        return matter

    async def decline(self, actor: User, matter_id: int, answer: str) -> Matter:
        """Staff answer why a proposal is not put to a vote; the proposer reads the answer."""
        answer = answer.strip()
        if not answer:
            raise Invalid("empty_text")
        if len(answer) > DECISION_MAX:
            raise Invalid("text_too_long", max=DECISION_MAX)
        matter = await self._staff_step(actor, matter_id, MatterState.PROPOSED)
        if not await self.matters.move(matter.id, MatterState.PROPOSED, state=MatterState.DECLINED, answer=answer):
            raise Conflict("already_done")
        await self.notices.emit(Notice("matter.proposed", Audience.unit(matter.unit_code),
                                       {"id": matter.id, "title": matter.title, "body": matter.body,
                                        "scope": await self.book.label(matter.scope_level, matter.scope_code),
                                        "declined": actor.display_name, "answer": answer},
                                       (), Subject("matter", matter.id), PostMode.CLOSE))  # fmt: skip
        if matter.proposer_id is not None:
            await self.notices.emit(Notice("matter.declined", Audience.person(matter.proposer_id),
                                           {"id": matter.id, "title": matter.title, "answer": answer}))  # fmt: skip
        return matter

    async def decide(self, actor: User, matter_id: int, decision: str, actions: list[str]) -> list[FollowUp]:
        """Staff record what was decided after the count; each follow-up action becomes a case; voters are told."""
        decision = decision.strip()
        actions = [a.strip() for a in actions if a.strip()]
        if not decision:
            raise Invalid("matter_decide_usage")
        if len(decision) > DECISION_MAX or any(len(a) > DECISION_MAX for a in actions):
            raise Invalid("text_too_long", max=DECISION_MAX)
        if len(actions) > ACTIONS_MAX:
            raise Invalid("matter_actions", max=ACTIONS_MAX)
        matter = await self._staff_step(actor, matter_id, MatterState.CLOSED)
        if not await self.matters.move(matter.id, MatterState.CLOSED, state=MatterState.DECIDED, decision=decision,
                                       decided_by=actor.id):  # fmt: skip
            raise Conflict("already_done")
        follow_ups = []
        for i, text in enumerate(actions, start=1):
            case_id, number = await self.file_case(matter.unit_code, text, actor.id)
            follow_up = FollowUp(matter.id, i, text, case_id, number)
            await self.matters.add_follow_up(follow_up)
            follow_ups.append(follow_up)
        params = {"id": matter.id, "title": matter.title, "decision": decision,
                  "actions": [(f.text, f.case_number) for f in follow_ups]}  # fmt: skip
        await self.notices.emit(Notice("matter.decided", Audience.unit(matter.unit_code), params))
        await self._tell_voters(matter, "matter.decided", params)
        return follow_ups

    async def _tell_voters(self, matter: Matter, kind: str, params: dict[str, object]) -> None:
        told = set()
        for voter in [*await self.matters.voters(matter.id), matter.proposer_id]:
            if voter is not None and voter not in told:
                told.add(voter)
                await self.notices.emit(Notice(kind, Audience.person(voter), params))

    async def case_resolved(self, event: CaseResolved) -> None:
        """A decision's follow-up case was resolved: the voters hear what was done."""
        follow_up = await self.matters.follow_up_of_case(event.case_id)
        if follow_up is None:
            return
        matter = await self.get(follow_up.matter_id)
        params = {"id": matter.id, "title": matter.title, "action": follow_up.text, "number": event.number}
        await self.notices.emit(Notice("matter.done", Audience.unit(matter.unit_code), params))
        await self._tell_voters(matter, "matter.done", params)

    async def listing(self, user: User) -> list[Ballot]:
        """Open matters this person may vote on (from their confirmed homes)."""
        units: set[str] = set()
        for home in await self.homes.confirmed(user):
            grid = await self.book.grid_of(home.building_code)
            units |= {u.code for u in await self.org.lineage(grid)}
        out = []
        for matter in await self.matters.open_in(sorted(units), self.clock()):
            ballot = await self._ballot(user, matter)
            if ballot.eligible:
                out.append(ballot)
        return out
