"""Model-based test of the case lifecycle where it meets clocks: random sequences of chat actions, console actions,
sweeps by two runners and clock jumps across nights, weekends and holidays, with the invariants checked after
every step against references computed independently from the event log.

Invariants:
- a held case is never taken from its holder by the sweeper;
- every decided claim / on-site / resolve clock is met exactly when the action that stopped it (found in the
  event log) came by its due time, and missed otherwise;
- the 三率 of every unit equal a count made here from the cases and their event log;
- nothing that is not urgent is sent in the quiet hours, except answers to the person acting and edits;
- every notice renders to a message Telegram accepts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain.cases.lifecycle import RULES
from domain.cases.model import Case, CaseState
from domain.cases.stats import Rates
from domain.kernel.errors import DomainError
from domain.kernel.hours import QuietHours
from domain.kernel.notices import AudienceKind, Notice, NoticeLog, PostMode
from domain.kernel.people import User
from domain.kernel.time import CHINA_TZ, local
from domain.services import Rules, Services
from handlers.text import CAPTION_MAX, TEXT_MAX, check_html, utf16_len
from handlers.views import render
from handlers.views.audience import Recipient
from tests.unit.conftest import District, make_district

HELD = (CaseState.CLAIMED, CaseState.ON_SITE)
QUIET = QuietHours()
STOPPED_BY = {"claim": ("claim",), "on_site": ("onsite", "resolve"), "resolve": ("resolve",)}
VALUES = {
    "reason": ["需要协调", "等待回复"],
    "text": ["已电话联系"],
    "optional_text": ["", "请尽快"],
    "note": ["已处理", ""],
    "category": ["environment", "fire_safety", "neighbor_dispute"],
    "rating": ["satisfied", "basic"],
    "verdict": ["satisfied", "unsatisfied 没修好", "basic"],
    "grid": ["G1", "G2"],
    "department": ["D1"],
    "deadline": ["claim"],
}


class _Ctx:
    bot_username = "gridbot"

    @property
    def svc(self) -> Any:
        raise AssertionError("not needed")


class Timed(NoticeLog):
    """Notices with the moment each was emitted and who was acting then."""

    def __init__(self, clock: Any) -> None:
        super().__init__()
        self.clock = clock
        self.acting: int | None = None
        self.at: list[tuple[dt.datetime, int | None]] = []

    async def emit(self, notice: Notice) -> None:
        """Keep it, when, and for whom the update was."""
        await super().emit(notice)
        self.at.append((self.clock(), self.acting))


class Lifecycle(RuleBasedStateMachine):
    """A district's cases driven at random."""

    @initialize(start=st.sampled_from([(2026, 11, 23, 10), (2026, 9, 30, 20), (2026, 12, 31, 16), (2026, 2, 13, 22)]))
    def setup(self, start: tuple[int, int, int, int]) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.d: District = self.loop.run_until_complete(make_district())
        self.d.w.clock.now = dt.datetime(*start, tzinfo=CHINA_TZ)
        # Two runners on one store: a second set of services on the same ports sweeps too.
        self.log = Timed(self.d.w.clock)
        self.svc = Services(self.d.w.svc.ports, self.log, self.d.w.clock, Rules())
        self.other = Services(self.d.w.svc.ports, self.log, self.d.w.clock, Rules())
        self.cases: list[int] = []
        self.seen = 0

    def teardown(self) -> None:
        """Close the loop."""
        if hasattr(self, "loop"):
            self.loop.close()

    def go(self, coro: Any) -> Any:
        """Run on this machine's loop."""
        return self.loop.run_until_complete(coro)

    def acting(self, user_id: int | None) -> None:
        """Whose update is being handled (answers to them may go at any hour)."""
        self.svc.acting(user_id)
        self.other.acting(user_id)
        self.log.acting = user_id

    @property
    def people(self) -> list[User]:
        """Who may press something."""
        d = self.d
        return [d.worker, d.colleague, d.community, d.street, d.rider]

    @rule(urgent=st.booleans(), unit=st.sampled_from(["G1", "G2"]), fire=st.booleans())
    def report(self, urgent: bool, unit: str, fire: bool) -> None:
        """The rider files a report (the words may propose urgency)."""
        svc, rider = self.svc, self.d.rider
        self.d.w.clock.now += dt.timedelta(seconds=1)  # nobody does two things in the same instant
        self.acting(rider.id)
        self.go(svc.reports.start(rider))
        self.go(svc.reports.add_text(rider, "楼道冒烟了" if fire else "楼道堆了纸箱", None))
        self.go(svc.reports.choose_unit(rider, unit))
        self.go(svc.reports.set_urgent(rider, urgent))
        case, _ = self.go(svc.reports.submit(rider))
        self.cases.append(case.id)

    @precondition(lambda self: bool(self.cases))
    @rule(data=st.data(), console=st.booleans())
    def act(self, data: st.DataObject, console: bool) -> None:
        """Someone takes one of the actions open to them, in chat or at the console."""
        case_id = data.draw(st.sampled_from(self.cases))
        person = data.draw(st.sampled_from(self.people))
        case = self.go(self.svc.cases.get(case_id))
        allowed = [a for a in self.go(self.svc.cases.actions_for(case, person)) if a not in ("pause", "resume")]
        if not allowed:
            return
        action = data.draw(st.sampled_from(allowed))
        need = RULES[action].needs.value
        if need == "person":
            value = str(data.draw(st.sampled_from([self.d.worker.id, self.d.colleague.id, self.d.community.id])))
        elif need == "case":
            value = str(data.draw(st.sampled_from(self.cases)))
        else:
            value = data.draw(st.sampled_from(VALUES.get(need, [""])))
        self.acting(person.id)
        self.d.w.clock.now += dt.timedelta(seconds=1)
        before = self.go(self.svc.cases.get(case_id))
        try:
            if console and action not in ("rate", "reopen", "merge"):
                self.go(self.svc.browser.perform(person, case.number, action, case.rev, value))
            else:
                self.go(self.svc.cases.act(case_id, action, case.rev, person, value))
        except DomainError:
            after = self.go(self.svc.cases.get(case_id))
            assert (after.state, after.rev, after.unit_code) == (before.state, before.rev, before.unit_code)

    @rule(seconds=st.sampled_from([1, 15, 59, 61, 300, 1800, 3600, 4 * 3600, 13 * 3600, 26 * 3600, 3 * 86400]))
    def later(self, seconds: int) -> None:
        """Time passes (a night, a weekend, a holiday)."""
        self.d.w.clock.now += dt.timedelta(seconds=seconds)

    @rule(second=st.booleans())
    def sweep(self, second: bool) -> None:
        """One of the two runners sweeps; a held case must stay with its holder."""
        held = {}
        for case_id in self.cases:
            c = self.go(self.svc.cases.get(case_id))
            if c.state in HELD:
                held[case_id] = (c.assignee_id, c.unit_code)
        self.acting(None)
        self.go((self.other if second else self.svc).sweeper.sweep())
        for case_id, (holder, unit) in held.items():
            c = self.go(self.svc.cases.get(case_id))
            assert (c.assignee_id, c.unit_code) == (holder, unit), "the sweeper took a held case"

    @invariant()
    def clocks_are_decided_by_the_event_log(self) -> None:
        """Met exactly when the stopping action came by the due time (claim, on site, resolve)."""
        if not hasattr(self, "d"):
            return
        for case_id in self.cases:
            events = self.go(self.d.w.cases.events(case_id))
            for x in self.go(self.d.w.deadlines.of_cases([case_id])):
                if x.kind not in STOPPED_BY or x.state not in ("met", "missed"):
                    continue
                stops = [e.at for e in events if e.action in STOPPED_BY[x.kind] and e.at >= x.started_at]
                if not stops:
                    assert x.state == "missed" and self.d.w.clock.now >= x.due_at, (x.kind, x.state)
                    continue
                expected = "met" if stops[0] <= x.due_at else "missed"
                story = [(e.action, e.note, str(e.at)) for e in events]
                assert x.state == expected, (x.kind, x.state, stops[0], x.due_at, x.started_at, story)

    @invariant()
    def rates_match_a_count_from_the_log(self) -> None:
        """The 三率 of the street this month equal a count made here."""
        if not hasattr(self, "d") or not self.cases:
            return
        month = local(self.d.w.clock.now).strftime("%Y-%m")
        self.svc.stats._rates.clear()
        totals: Rates = self.go(self.svc.stats.rates(self.go(self.svc.org.get("S")), month))[0]
        received = resolved = rated = satisfied = 0
        for case_id in self.cases:
            c: Case = self.go(self.svc.cases.get(case_id))
            if local(c.created_at).strftime("%Y-%m") != month or c.close_reason == "merged":
                continue
            received += 1
            resolved += c.state in (CaseState.RESOLVED, CaseState.CLOSED)
            if c.rating is not None:
                rated += 1
                satisfied += c.rating.value in ("satisfied", "basic")
        assert (totals.received, totals.resolved, totals.rated, totals.satisfied) == (
            received,
            resolved,
            rated,
            satisfied,
        )

    @invariant()
    def nights_are_quiet_and_messages_valid(self) -> None:
        """Nothing ordinary at night; every notice a valid Telegram message."""
        if not hasattr(self, "log"):
            return
        for n, (at, actor) in zip(self.log.notices[self.seen :], self.log.at[self.seen :], strict=True):
            ordinary = not n.urgent and n.mode not in (PostMode.UPDATE, PostMode.CLOSE)
            answer = n.audience.kind is AudienceKind.PERSON and n.audience.user_id == actor
            if ordinary and not answer:
                assert not QUIET.contains(n.not_before or at), (n.kind, n.not_before, at)
            message = self.go(render.notice(n, Recipient(-1, "zh-CN", None, False), _Ctx()))
            if message is not None:
                payload = message.payload()
                check_html(payload["text"], CAPTION_MAX if payload.get("photo") else TEXT_MAX, allow_empty=True)
                for row in payload.get("buttons", []):
                    for b in row:
                        assert utf16_len(b["text"]) <= 64 and len(b.get("data", "").encode()) <= 64
        self.seen = len(self.log.notices)


Lifecycle.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLifecycle = Lifecycle.TestCase
