"""The 三率 on a constructed month: every definition of the README checked on a timeline built by hand."""

from __future__ import annotations

from datetime import datetime

from domain.cases.model import Case, CaseEvent, CaseState, Deadline, DepartmentCall
from domain.kernel.people import Role
from domain.kernel.rating import Rating
from domain.kernel.time import CHINA_TZ
from tests.fakes.memory import World, world

S = CaseState


def bj(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A Beijing moment in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ)


async def a_case(
    w: World,
    number: int,
    origin: str,
    created: datetime,
    state: CaseState,
    unit: str | None = None,
    rating: Rating | None = None,
    **more: object,
) -> Case:
    """A case as the timeline left it."""
    case = Case(
        0, f"SB{number}", 1, Role.RESIDENT, "问题", "public_facility", unit or origin, state, 1, created,
        rating=rating, origin_unit=origin, **more,  # type: ignore[arg-type]
    )  # fmt: skip
    return await w.cases.add(case)


async def clock(w: World, case: Case, kind: str, start: datetime, due: datetime, state: str) -> None:
    """One clock of a case."""
    await w.deadlines.add(Deadline(0, case.id, kind, start, due, state))


async def constructed_month() -> World:
    """November 2026 in community C1 (grids G1, G2) and C2 (grid G3), seen on 2 December."""
    w = world()
    w.clock.now = bj(12, 2)
    # 1. G1: claimed and resolved in time, 满意.
    c = await a_case(w, 1, "G1", bj(11, 2), S.CLOSED, rating=Rating.SATISFIED)
    await clock(w, c, "claim", bj(11, 2), bj(11, 2, 14), "met")
    await clock(w, c, "resolve", bj(11, 2), bj(11, 5), "met")
    # 2. G1: both clocks missed in the first round, reopened, then 基本满意 (judged on the first round).
    c = await a_case(w, 2, "G1", bj(11, 3), S.CLOSED, rating=Rating.BASIC, reopen_count=1)
    await clock(w, c, "claim", bj(11, 3), bj(11, 3, 14), "missed")
    await clock(w, c, "resolve", bj(11, 3), bj(11, 6), "missed")
    await clock(w, c, "resolve", bj(11, 10), bj(11, 13), "met")
    # 3. G1 → C1: claim missed, escalated, resolve clock not yet due: overdue now, resolve undecided.
    c = await a_case(w, 3, "G1", bj(11, 27), S.NEW, unit="C1")
    await clock(w, c, "claim", bj(11, 27), bj(11, 27, 14), "missed")
    await clock(w, c, "resolve", bj(11, 27), bj(12, 3), "open")
    await w.cases.add_event(CaseEvent(c.id, None, bj(11, 30), S.NEW, S.NEW, "escalate", "G1"))
    # 4. G2: claimed in time, resolve deadline passed while still open: decided, not in time, overdue now.
    c = await a_case(w, 4, "G2", bj(11, 20), S.CLAIMED)
    await clock(w, c, "claim", bj(11, 20), bj(11, 20, 14), "met")
    await clock(w, c, "resolve", bj(11, 20), bj(11, 25), "missed")
    # 5. G2: in time, closed unrated after the follow-up time: not in 满意率 at all.
    c = await a_case(w, 5, "G2", bj(11, 9), S.CLOSED, close_reason="unrated")
    await clock(w, c, "claim", bj(11, 9), bj(11, 9, 14), "met")
    await clock(w, c, "resolve", bj(11, 9), bj(11, 12), "met")
    # 6. G2: in time, a department called, two neighbours followed it, a phone follow-up said 不满意.
    c = await a_case(w, 6, "G2", bj(11, 16), S.CLOSED, rating=Rating.UNSATISFIED)
    await clock(w, c, "claim", bj(11, 16), bj(11, 16, 14), "met")
    await clock(w, c, "resolve", bj(11, 16), bj(11, 19), "met")
    await w.svc.ports.calls.add(DepartmentCall(c.id, "D1", bj(11, 16), 1, ""))
    for person in (7, 8):
        await w.svc.ports.followers.add(c.id, person, bj(11, 16, 11))
    # 7. G1: a duplicate merged into case 1: not a case of its own.
    await a_case(w, 7, "G1", bj(11, 2, 11), S.CLOSED, close_reason="merged", merged_into=1)
    # 8. G3 in the other community: counts for the street only.
    c = await a_case(w, 8, "G3", bj(11, 4), S.CLOSED, rating=Rating.SATISFIED)
    await clock(w, c, "claim", bj(11, 4), bj(11, 4, 14), "met")
    await clock(w, c, "resolve", bj(11, 4), bj(11, 7), "met")
    # 9. G1, 31 October 23:00 Beijing: October's.
    await a_case(w, 9, "G1", bj(10, 31, 23), S.CLOSED)
    # 10. G1, 30 November 23:30 Beijing (15:30 UTC): November's, clocks not decided yet.
    c = await a_case(w, 10, "G1", bj(11, 30, 23, 30), S.NEW)
    await clock(w, c, "claim", bj(11, 30, 23, 30), bj(12, 3, 11), "open")
    # 11. G1, 1 December 00:30 Beijing — still 30 November in UTC: December's.
    await a_case(w, 11, "G1", bj(12, 1, 0, 30), S.NEW)
    return w


async def test_the_three_rates_follow_their_definitions() -> None:
    w = await constructed_month()
    c1 = await w.svc.org.get("C1")
    totals, grids = await w.svc.stats.rates(c1, "2026-11")
    assert (totals.received, totals.reports) == (7, 9)  # cases 1–6 and 10; + two followers
    assert (totals.claimed_in_time, totals.claim_decided) == (4, 6)  # case 10's claim is not decided
    assert (totals.resolved_in_time, totals.resolve_decided) == (3, 5)  # first rounds; 3 and 10 undecided
    assert totals.resolved == 4 and totals.resolution_rate == 4 / 7
    assert (totals.satisfied, totals.rated) == (2, 3)  # the unrated case 5 is left out, not counted satisfied
    assert (totals.reopened, totals.overdue_now, totals.escalated, totals.department_cases) == (1, 2, 1, 1)
    assert totals.response_rate == 4 / 6 and totals.on_time_rate == 3 / 5 and totals.satisfaction_rate == 2 / 3
    # Grids ranked by 按期办结率: G2 (2 of 3) before G1 (1 of 2); the escalated case counts where it started.
    assert [(g.unit, g.received, g.resolved_in_time, g.resolve_decided) for g in grids] == [
        ("G2", 3, 2, 3),
        ("G1", 4, 1, 2),
    ]


async def test_the_street_sees_every_community_and_a_grid_sees_itself() -> None:
    w = await constructed_month()
    street, _ = await w.svc.stats.rates(await w.svc.org.get("S"), "2026-11")
    assert street.received == 8 and street.satisfied == 3 and street.rated == 4
    g1, none = await w.svc.stats.rates(await w.svc.org.get("G1"), "2026-11")
    assert none == [] and g1.received == 4  # the escalated case 3 stays G1's: it was first sent there
    december, _ = await w.svc.stats.rates(await w.svc.org.get("C1"), "2026-12")
    assert december.received == 1 and december.response_rate is None  # nothing decided is "—", not 0 %


async def test_worker_figures_come_from_the_timeline() -> None:
    w = world()
    w.clock.now = bj(12, 2)
    worker = await w.person("worker", staff_of="G1")
    c = await a_case(w, 1, "G1", bj(11, 2, 9), S.CLOSED, rating=Rating.SATISFIED)
    await clock(w, c, "resolve", bj(11, 2, 9), bj(11, 5, 9), "met")
    await w.cases.add_event(CaseEvent(c.id, 1, bj(11, 2, 9), None, S.NEW, "submit"))
    await w.cases.add_event(CaseEvent(c.id, worker.id, bj(11, 2, 9, 30), S.NEW, S.CLAIMED, "claim"))
    await w.cases.add_event(CaseEvent(c.id, worker.id, bj(11, 3, 9, 30), S.ON_SITE, S.RESOLVED, "resolve"))
    await w.cases.add_event(CaseEvent(c.id, 1, bj(11, 3, 12), S.RESOLVED, S.CLOSED, "rate", "satisfied"))
    late = await a_case(w, 2, "G1", bj(11, 10, 9), S.RESOLVED)
    await clock(w, late, "resolve", bj(11, 10, 9), bj(11, 13, 9), "missed")
    await w.cases.add_event(CaseEvent(late.id, 1, bj(11, 10, 9), None, S.NEW, "submit"))
    await w.cases.add_event(CaseEvent(late.id, worker.id, bj(11, 10, 11), S.NEW, S.CLAIMED, "claim"))
    await w.cases.add_event(CaseEvent(late.id, worker.id, bj(11, 14, 11), S.ON_SITE, S.RESOLVED, "resolve"))
    [mine] = await w.svc.stats.workers(await w.svc.org.get("C1"), "2026-11")
    assert (mine.claimed, mine.resolved, mine.resolved_in_time) == (2, 2, 1)
    assert mine.median_claim_minutes == (30 + 120) / 2
    assert mine.median_resolve_minutes == (24 * 60 + 4 * 24 * 60) / 2
    assert mine.ratings == {"satisfied": 1}
