"""Every row of the lifecycle table, carried out on in-memory fakes: who may, what moves, who is told."""

from __future__ import annotations

import re

import pytest

from domain.cases import lifecycle
from domain.cases.lifecycle import TABLE, Clocks, Holder, Post
from domain.cases.model import CaseState
from domain.kernel.errors import Conflict, Forbidden, Invalid
from domain.kernel.notices import AudienceKind, PostMode
from tests.unit.conftest import District

S = CaseState


def test_the_docstring_table_is_the_table() -> None:
    # The table in the module's docstring is what a reader trusts: it must say what the rows say.
    doc = lifecycle.__doc__ or ""
    rows = [line for line in doc.splitlines() if line.startswith("| ") and not line.startswith("| action")]
    written = {cells[0]: cells for cells in ([c.strip() for c in r.strip("|").split("|")] for r in rows)}
    assert list(written) == [r.action for r in TABLE]
    clocks = {Clocks.CLAIM_MET: "claim met", Clocks.ON_SITE_MET: "on_site met", Clocks.RESOLVED: "resolved",
              Clocks.NEW_ROUND: "new round", Clocks.FRESH_AT_LEVEL: "fresh level", Clocks.ESCALATION: "escalation",
              Clocks.RESCHEDULE: "reschedule", Clocks.PAUSE: "pause", Clocks.RESUME: "resume", Clocks.STOP: "stop",
              Clocks.RATED: "rated",
              Clocks.KEEP: ("keep", "–", "report-in")}  # fmt: skip
    posts = {Post.NONE: "–", Post.UPDATE: "update", Post.MOVE: ("move", "move up"), Post.REPOST: "repost",
             Post.CLOSE: "close", Post.SUPERVISE: "supervise"}  # fmt: skip
    for row in TABLE:
        _, sources, target, who, holder, clock, post, told = written[row.action]
        assert (row.target.value if row.target else "=") == target, row.action
        assert set(re.findall(r"[a-z_]+", who)) == {a.value for a in row.who} or row.action == "resume", row.action
        assert holder == row.holder.value, row.action
        want = clocks[row.clocks]
        assert clock in (want if isinstance(want, tuple) else (want,)), row.action
        want = posts[row.post]
        assert post in (want if isinstance(want, tuple) else (want,)), row.action
        assert (row.tell or "–").removeprefix("case.") == told.split(",")[0], row.action
        named = {s.value for s in row.sources}
        words = set(re.findall(r"[a-z_]+", sources.replace("unrated", "closed")))
        if "open" in words:
            words = (words - {"open"}) | {"new", "claimed", "on_site"}
        if "any" in words:
            words = {x.value for x in S}
        assert words & {x.value for x in S} == named, row.action


def test_every_row_has_a_refusal_for_strangers_and_a_step_or_columns_only() -> None:
    for row in TABLE:
        assert row.who, row.action
        assert row.holder is not Holder.VALUE or row.needs.value == "person", row.action


async def test_claim_onsite_resolve_rate(d: District) -> None:
    case = await d.report("楼道堆了纸箱 13912345678")
    post = d.w.told.notices[-1]
    assert (post.kind, post.audience.key, post.mode) == ("case.card", "G1", PostMode.NEW)
    assert "139****5678" in str(post.params["description"])
    with pytest.raises(Forbidden):
        await d.act(case, "claim", d.rider)
    case = await d.act(case, "claim", d.worker)
    assert (case.state, case.assignee_id) == (S.CLAIMED, d.worker.id)
    with pytest.raises(Conflict):
        await d.w.svc.cases.act(case.id, "claim", 1, d.worker)  # a stale button
    case = await d.act(case, "onsite", d.worker)
    asked = await d.act(case, "resolve", d.worker)  # no note: asked for first, nothing moves
    assert asked.state is S.ON_SITE and d.kinds()[-1] == "case.resolve_note_asked"
    case = await d.w.svc.cases.resolve(d.worker, "已清理", None)
    assert case.state is S.RESOLVED
    case = await d.act(case, "rate", d.rider, "satisfied")
    assert (case.state, case.close_reason, str(case.rating)) == (S.CLOSED, "rated", "satisfied")
    told = [n.kind for n in d.w.told.notices if n.audience.kind is AudienceKind.PERSON]
    assert {"case.claimed", "case.on_site", "case.resolved", "case.closed"} <= set(told)


async def test_assign_claims_for_a_worker_who_phoned(d: District) -> None:
    case = await d.report()
    with pytest.raises(Invalid):
        await d.act(case, "assign", d.community, str(d.rider.id))  # not staff of the case's unit
    case = await d.act(case, "assign", d.community, str(d.worker.id))
    assert case.assignee_id == d.worker.id
    events = await d.w.cases.events(case.id)
    assert [(e.action, e.actor_id) for e in events][-2:] == [("assign", d.community.id), ("claim", d.worker.id)]
    assert any(n.kind == "case.assigned" and n.audience.key == str(d.worker.id) for n in d.w.told.notices)


async def test_reject_dispatch_and_recategorize_move_the_case(d: District) -> None:
    case = await d.report()
    case = await d.act(case, "reject", d.worker)
    assert (case.unit_code, case.state, case.assignee_id) == ("C1", S.NEW, None)
    with pytest.raises(Invalid):
        await d.act(case, "reject", d.community)
    with pytest.raises(Invalid):
        await d.act(case, "dispatch", d.community, "G3")  # not below C1
    case = await d.act(case, "dispatch", d.community, "G2")
    assert case.unit_code == "G2"
    case = await d.act(case, "recategorize", d.community, "neighbor_dispute")
    assert (case.unit_code, case.category) == ("C1", "neighbor_dispute")  # disputes are the community's


async def test_urgency_pause_resume_note(d: District) -> None:
    case = await d.report()
    with pytest.raises(Invalid):
        await d.act(case, "urgent", d.worker, "")  # a reason is needed
    case = await d.act(case, "urgent", d.worker, "有老人被困")
    assert case.urgent
    with pytest.raises(Invalid):
        await d.act(case, "urgent", d.worker, "again")
    claim = next(x for x in await d.w.svc.cases.clocks_of(case) if x.kind == "claim" and x.state == "open")
    assert (claim.due_at - claim.started_at).total_seconds() == 60  # the urgent minute, counted from the report
    case = await d.act(case, "pause", d.worker, "等业主回家开门")
    assert await d.w.svc.clocks.paused(case)
    with pytest.raises(Invalid):
        await d.act(case, "pause", d.worker, "again")
    case = await d.act(case, "resume", d.worker)
    assert not await d.w.svc.clocks.paused(case)
    rev = case.rev
    case = await d.act(case, "note", d.worker, "已电话联系")
    assert case.rev == rev  # a note is a step, not a move: nobody's buttons go stale


async def test_escalate_by_hand_moves_up_with_fresh_clocks(d: District) -> None:
    case = await d.report()
    case = await d.act(case, "claim", d.worker)
    with pytest.raises(Invalid):
        await d.act(case, "escalate", d.worker, "")
    case = await d.act(case, "escalate", d.worker, "需要社区协调物业")
    assert (case.unit_code, case.state, case.assignee_id) == ("C1", S.NEW, None)
    clocks = [x for x in await d.w.svc.cases.clocks_of(case) if x.state == "open"]
    assert {x.kind for x in clocks} >= {"claim", "resolve"}


async def test_supervisor_rows_are_for_the_level_above(d: District) -> None:
    case = await d.report()
    case = await d.act(case, "claim", d.worker)
    with pytest.raises(Forbidden):
        await d.act(case, "takeover", d.colleague)  # same level: not a supervisor
    case = await d.act(case, "reassign", d.community, str(d.colleague.id))
    assert case.assignee_id == d.colleague.id and case.unit_code == "G1"
    assert any(n.kind == "case.taken_from" and n.audience.key == str(d.worker.id) for n in d.w.told.notices)
    await d.act(case, "urge", d.community, "今天务必处理")
    assert any(n.kind == "case.urged" and n.audience.key == str(d.colleague.id) for n in d.w.told.notices)
    case = await d.act(case, "takeover", d.community)
    assert (case.unit_code, case.assignee_id, case.state) == ("C1", d.community.id, S.CLAIMED)


async def test_whistle_blocks_resolve_until_done_or_waived(d: District) -> None:
    case = await d.report()
    with pytest.raises(Forbidden):
        await d.act(case, "whistle", d.worker, "D1")  # grid staff do not blow the whistle
    case = await d.act(case, "whistle", d.community, "D1 请派人清理")
    case = await d.act(case, "claim", d.worker)
    case = await d.act(case, "onsite", d.worker)
    with pytest.raises(Conflict) as refused:
        await d.act(case, "resolve", d.worker, "好了")
    assert refused.value.code == "departments_pending"
    # The department never reports in: its call is missed, and it still blocks (the README's /override rule).
    await d.sweep(hours=3)
    [call] = await d.w.svc.cases.calls_of(case)
    assert call.state == "missed"
    with pytest.raises(Conflict):
        await d.act(case, "resolve", d.worker, "好了")
    with pytest.raises(Forbidden):
        await d.act(case, "override", d.community, "已现场处理")
    await d.act(case, "override", d.street, "已现场处理")
    [call] = await d.w.svc.cases.calls_of(case)
    assert call.state == "waived"
    cards = [n for n in d.w.told.notices if n.kind == "call.card"]
    assert cards[-1].mode is PostMode.CLOSE and str(cards[-1].params["state"]) == "Word(key='call.waived')"
    case = await d.act(case, "resolve", d.worker, "好了")
    assert case.state is S.RESOLVED


async def test_department_note_reaches_the_case_card(d: District) -> None:
    case = await d.report()
    case = await d.act(case, "whistle", d.community, "D1")
    await d.w.svc.whistle.report_in(case.id, "D1", d.dept)
    await d.w.svc.whistle.ask_note(case.id, "D1", d.dept)
    await d.w.svc.whistle.note(d.dept, "已拆除违建", None)
    card = [n for n in d.w.told.notices if n.kind == "case.card" and n.audience.key == "G1"][-1]
    assert "已拆除违建" in str(card.params["department_note"])


async def test_reopen_follow_up_and_close_unrated(d: District) -> None:
    case = await d.resolved(await d.report())
    with pytest.raises(Forbidden):
        await d.act(case, "reopen", d.worker)
    case = await d.act(case, "reopen", d.rider, "unsatisfied")
    assert (case.state, case.reopen_count, case.assignee_id) == (S.NEW, 1, None)
    case = await d.resolved(case)
    case = await d.act(case, "close_unrated", None)
    assert (case.state, case.close_reason) == (S.CLOSED, "unrated")
    case = await d.act(case, "follow_up", d.community, "unsatisfied 电话里说没修好")
    assert (case.state, case.reopen_count) == (S.NEW, 2)
    case = await d.resolved(case)
    case = await d.act(case, "follow_up", d.community, "basic")
    assert (case.state, str(case.rating)) == (S.CLOSED, "basic")
    with pytest.raises(Invalid):
        await d.act(case, "follow_up", d.community, "satisfied")  # rated already


async def test_merge_closes_the_duplicate_into_the_original(d: District) -> None:
    first, second = await d.report(), await d.report("又是那堆纸箱")
    with pytest.raises(Conflict):
        await d.act(second, "merge", d.worker, str(second.id))
    second = await d.act(second, "merge", d.worker, str(first.id))
    assert (second.state, second.close_reason, second.merged_into) == (S.CLOSED, "merged", first.id)
    assert d.rider.id not in await d.w.svc.cases.followers_of(first)  # the same reporter does not follow himself


async def test_system_rows_are_the_sweepers_alone(d: District) -> None:
    case = await d.report()
    for action in ("climb", "supervise", "overdue", "close_unrated", "remind_rating"):
        with pytest.raises(Forbidden):
            await d.act(case, action, d.street)


async def test_actions_for_feeds_chat_and_console_alike(d: District) -> None:
    case = await d.report(unit="G1")
    case = await d.act(case, "claim", d.worker)
    mine = await d.w.svc.cases.actions_for(case, d.worker)
    theirs = await d.w.svc.cases.actions_for(case, d.community)
    assert "takeover" not in mine and {"takeover", "reassign", "urge", "whistle"} <= set(theirs)
    assert await d.w.svc.cases.actions_for(case, d.rider) == []
    detail = await d.w.svc.browser.detail(d.community, case.number)
    assert set(detail.actions) <= set(theirs) and "whistle" in detail.actions and detail.departments
