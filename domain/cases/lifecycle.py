"""The case lifecycle as one executable table: every operation on a case is a row, and `CaseService.act` runs it.

A row says who may take the action, from which states and at which level, what it needs from them, where the
case goes, what happens to its holder and its clocks, what its group post does and whom it tells. The runner
reads these columns; only what differs from row to row (where a case moves, what a step records) is a step
function of its own (`domain/cases/steps.py`). Buttons in a group, private commands and the console all come
from `actions_for`, so a rule is never written twice. A new operation is one row, its step, and its texts.

| action        | from                | to       | who        | holder | clocks      | post      | told           |
|---------------|---------------------|----------|------------|--------|-------------|-----------|----------------|
| claim         | new                 | claimed  | handler    | actor  | claim met   | update    | claimed        |
| assign        | new                 | claimed  | handler    | value  | claim met   | update    | claimed        |
| onsite        | claimed             | on_site  | handler    | keep   | on_site met | update    | on_site        |
| resolve       | on_site             | resolved | handler    | keep   | resolved    | update    | resolved       |
| reject        | new, claimed        | new      | handler    | clear  | keep        | move      | sent_back      |
| dispatch      | new                 | new      | handler    | clear  | keep        | move      | –              |
| recategorize  | open                | =        | handler    | keep   | reschedule  | update    | –              |
| urgent        | open, not urgent    | =        | handler    | keep   | reschedule  | update    | –              |
| not_urgent    | open, urgent        | =        | handler    | keep   | reschedule  | update    | –              |
| pause         | open, running       | =        | handler    | keep   | pause       | update    | paused         |
| resume        | open, paused        | =        | handler    | keep   | resume      | update    | –              |
| note          | any                 | =        | handler    | keep   | keep        | –         | –              |
| escalate      | open                | new      | handler    | clear  | fresh level | move      | escalated      |
| climb         | new                 | new      | system     | clear  | fresh level | move      | escalated      |
| supervise     | claimed, on_site    | =        | system     | keep   | escalation  | supervise | –              |
| reassign      | claimed, on_site    | =        | supervisor | value  | keep        | update    | –              |
| takeover      | claimed, on_site    | =        | supervisor | actor  | keep        | move up   | –              |
| urge          | claimed, on_site    | =        | supervisor | keep   | keep        | –         | –              |
| overdue       | open                | =        | system     | keep   | –           | update    | late, 1/round  |
| whistle       | open                | =        | whistler, system | keep | report-in | update  | –            |
| override      | open, calls pending | =        | street     | keep   | keep        | update    | –              |
| rate          | resolved            | closed   | reporter   | keep   | rated       | update    | closed         |
| reopen        | resolved            | new      | reporter   | clear  | new round   | repost    | reopened       |
| follow_up     | resolved, unrated   | closed   | handler    | keep   | rated       | update    | –              |
| remind_rating | resolved            | =        | system     | keep   | keep        | –         | rate_reminder  |
| close_unrated | resolved            | closed   | system     | keep   | stop        | update    | closed_unrated |
| merge         | open                | closed   | handler    | keep   | stop        | close     | merged         |

Who: *handler* — staff of the case's unit or of any unit above it, or an administrator; *supervisor* — staff
of a unit above the case's unit, or an administrator (督办); *whistler* — staff of the community or street in
the case's line, or an administrator (吹哨); *street* — staff of the street in its line, or an administrator;
*reporter* — the person who reported it; *system* — the deadline sweeper (and intake, which calls a property
company to a case in a compound it serves). What each needs (a reason, a person,
a grid, a category, a note …) is the row's `needs`.

首接负责: whoever took a case keeps it until it is done. When a deadline runs out, an **unclaimed** case climbs
one level by itself (`climb`, recorded as 提级) with fresh clocks at its new level; a **held** case stays with
its holder and the level above is told (`supervise`, 督办): it sees the case with its story and who holds it
since when, and may urge the holder, reassign the case or take it over. A department called to a case has a
small table of its own (`CALL_TABLE`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from domain.cases.model import Case, CaseState
from domain.kernel.notices import Action
from domain.org.model import Level

S = CaseState
OPEN = frozenset({S.NEW, S.CLAIMED, S.ON_SITE})
HELD = frozenset({S.CLAIMED, S.ON_SITE})
ANY = frozenset(S)
BELOW_STREET = frozenset({Level.GRID, Level.COMMUNITY})


class Actor(enum.StrEnum):
    """Who, relative to a case, may take an action."""

    HANDLER = "handler"
    SUPERVISOR = "supervisor"
    WHISTLER = "whistler"
    STREET = "street"
    REPORTER = "reporter"
    SYSTEM = "system"


class Need(enum.StrEnum):
    """What an action needs from the person taking it (a front end asks for it)."""

    NOTHING = "nothing"
    REASON = "reason"  # a required text: why
    TEXT = "text"  # a required text: the note itself
    OPTIONAL_TEXT = "optional_text"
    NOTE = "note"  # a text and/or photo; asked for in the next message when not given
    PERSON = "person"  # a staff member of the case's unit (by id)
    GRID = "grid"  # a grid below the case's unit
    CATEGORY = "category"
    CASE = "case"  # another open case (merge into it)
    RATING = "rating"  # satisfied | basic (unsatisfied is `reopen`)
    VERDICT = "verdict"  # a phone follow-up's rating, and a note
    DEPARTMENT = "department"
    DEADLINE = "deadline"  # which clock ran out (the sweeper)


class Holder(enum.StrEnum):
    """What an action does to whoever holds the case."""

    KEEP = "keep"
    ACTOR = "actor"
    VALUE = "value"
    CLEAR = "clear"


class Clocks(enum.StrEnum):
    """What an action does to the case's clocks (`DeadlineClock.apply`)."""

    KEEP = "keep"
    CLAIM_MET = "claim_met"  # the claim clock stops, met or missed by the action's own time
    ON_SITE_MET = "on_site_met"
    RESOLVED = "resolved"  # the case clocks stop; the follow-up (回访) clocks start
    NEW_ROUND = "new_round"  # every clock stops; fresh claim / on-site / resolve clocks from now
    FRESH_AT_LEVEL = "fresh_at_level"  # climbed: fresh clocks at the new level
    ESCALATION = "escalation"  # supervised: the next level is told if it stays late
    RESCHEDULE = "reschedule"  # category or urgency changed: recomputed from when they started
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"  # every open clock stops
    RATED = "rated"  # the 回访 clock is met or missed by the rating's own time; every other clock stops


class Post(enum.StrEnum):
    """What an action does to the case's group post."""

    NONE = "none"
    UPDATE = "update"
    MOVE = "move"  # the case changes unit: the old post closes with why, the new unit's group gets a new post
    REPOST = "repost"  # the old post closes, a new post starts (rework)
    CLOSE = "close"  # the post shows its last state, without buttons
    SUPERVISE = "supervise"  # the level above gets a 督办 post; the holder's post stays as it is


class When(enum.StrEnum):
    """A condition beyond state and level."""

    ALWAYS = "always"
    NOT_URGENT = "not_urgent"
    URGENT = "urgent"
    RUNNING = "running"  # clocks run (not paused)
    PAUSED = "paused"
    HAS_PARENT = "has_parent"
    DEPARTMENTS = "departments"  # departments exist to be called
    CALLS_PENDING = "calls_pending"  # a called department has not finished
    UNRATED = "unrated"  # resolved, or closed because nobody rated


@dataclass(frozen=True)
class Row:
    """One operation on a case."""

    action: str
    sources: frozenset[CaseState]
    target: CaseState | None  # None: the state stays
    who: frozenset[Actor]
    levels: frozenset[Level] | None = None  # where the case's unit must be; None: anywhere
    needs: Need = Need.NOTHING
    holder: Holder = Holder.KEEP
    clocks: Clocks = Clocks.KEEP
    post: Post = Post.UPDATE
    tell: str | None = None  # what the reporter (and whoever follows the case) is told
    button: bool = False  # one tap on a group post
    when: When = When.ALWAYS
    records: str = ""  # the timeline's name for the step (default: the action)

    @property
    def event(self) -> str:
        """The action as the timeline records it."""
        return self.records or self.action


def _row(action: str, sources: frozenset[CaseState], target: CaseState | None, *who: Actor, **more: object) -> Row:
    return Row(action, sources, target, frozenset(who), **more)  # type: ignore[arg-type]


A = Actor
TABLE: tuple[Row, ...] = (
    _row("claim", frozenset({S.NEW}), S.CLAIMED, A.HANDLER, holder=Holder.ACTOR, clocks=Clocks.CLAIM_MET,
         tell="case.claimed", button=True),
    _row("assign", frozenset({S.NEW}), S.CLAIMED, A.HANDLER, needs=Need.PERSON, holder=Holder.VALUE,
         clocks=Clocks.CLAIM_MET, tell="case.claimed", records="claim"),
    _row("onsite", frozenset({S.CLAIMED}), S.ON_SITE, A.HANDLER, clocks=Clocks.ON_SITE_MET, tell="case.on_site",
         button=True),
    _row("resolve", frozenset({S.ON_SITE}), S.RESOLVED, A.HANDLER, needs=Need.NOTE, clocks=Clocks.RESOLVED,
         tell="case.resolved", button=True),
    _row("reject", frozenset({S.NEW, S.CLAIMED}), S.NEW, A.HANDLER, levels=frozenset({Level.GRID}),
         holder=Holder.CLEAR, post=Post.MOVE, tell="case.sent_back", button=True, when=When.HAS_PARENT),
    _row("dispatch", frozenset({S.NEW}), S.NEW, A.HANDLER, levels=frozenset({Level.COMMUNITY, Level.STREET}),
         needs=Need.GRID, holder=Holder.CLEAR, post=Post.MOVE, button=True),
    _row("recategorize", OPEN, None, A.HANDLER, needs=Need.CATEGORY, clocks=Clocks.RESCHEDULE, button=True),
    _row("urgent", OPEN, None, A.HANDLER, needs=Need.REASON, clocks=Clocks.RESCHEDULE, when=When.NOT_URGENT),
    _row("not_urgent", OPEN, None, A.HANDLER, needs=Need.REASON, clocks=Clocks.RESCHEDULE, when=When.URGENT),
    _row("pause", OPEN, None, A.HANDLER, needs=Need.REASON, clocks=Clocks.PAUSE, tell="case.paused",
         when=When.RUNNING),
    _row("resume", OPEN, None, A.HANDLER, A.SYSTEM, clocks=Clocks.RESUME, when=When.PAUSED),
    _row("note", ANY, None, A.HANDLER, needs=Need.TEXT, post=Post.NONE),
    _row("escalate", OPEN, S.NEW, A.HANDLER, levels=BELOW_STREET, needs=Need.REASON, holder=Holder.CLEAR,
         clocks=Clocks.FRESH_AT_LEVEL, post=Post.MOVE, tell="case.escalated", when=When.HAS_PARENT),
    _row("climb", frozenset({S.NEW}), S.NEW, A.SYSTEM, levels=BELOW_STREET, holder=Holder.CLEAR,
         clocks=Clocks.FRESH_AT_LEVEL, post=Post.MOVE, tell="case.escalated", when=When.HAS_PARENT,
         records="escalate"),
    _row("supervise", HELD, None, A.SYSTEM, levels=BELOW_STREET, clocks=Clocks.ESCALATION, post=Post.SUPERVISE,
         when=When.HAS_PARENT),
    _row("reassign", HELD, None, A.SUPERVISOR, needs=Need.PERSON, holder=Holder.VALUE),
    _row("takeover", HELD, None, A.SUPERVISOR, holder=Holder.ACTOR, post=Post.MOVE),
    _row("urge", HELD, None, A.SUPERVISOR, needs=Need.OPTIONAL_TEXT, post=Post.NONE),
    _row("overdue", OPEN, None, A.SYSTEM, needs=Need.DEADLINE, tell="case.late"),
    _row("whistle", OPEN, None, A.WHISTLER, A.SYSTEM, needs=Need.DEPARTMENT, button=True, when=When.DEPARTMENTS),
    _row("override", OPEN, None, A.STREET, needs=Need.REASON, when=When.CALLS_PENDING),
    _row("rate", frozenset({S.RESOLVED}), S.CLOSED, A.REPORTER, needs=Need.RATING, clocks=Clocks.RATED,
         tell="case.closed"),
    _row("reopen", frozenset({S.RESOLVED}), S.NEW, A.REPORTER, holder=Holder.CLEAR, clocks=Clocks.NEW_ROUND,
         post=Post.REPOST, tell="case.reopened"),
    _row("follow_up", frozenset({S.RESOLVED, S.CLOSED}), S.CLOSED, A.HANDLER, needs=Need.VERDICT,
         clocks=Clocks.RATED, when=When.UNRATED),
    _row("remind_rating", frozenset({S.RESOLVED}), None, A.SYSTEM, post=Post.NONE, tell="case.rate_reminder"),
    _row("close_unrated", frozenset({S.RESOLVED}), S.CLOSED, A.SYSTEM, clocks=Clocks.STOP,
         tell="case.closed_unrated"),
    _row("merge", OPEN, S.CLOSED, A.HANDLER, needs=Need.CASE, clocks=Clocks.STOP, post=Post.CLOSE,
         tell="case.merged"),
)  # fmt: skip
RULES: dict[str, Row] = {r.action: r for r in TABLE}
ACTIONS: tuple[str, ...] = tuple(RULES)
# The reporter's verdicts on a resolved case: two close it, one reopens it.
RATINGS: tuple[tuple[str, str], ...] = (("rate", "satisfied"), ("rate", "basic"), ("reopen", "unsatisfied"))
# What a 督办 post in the level above offers.
SUPERVISION_BUTTONS = ("takeover", "reassign", "urge")


@dataclass(frozen=True)
class Standing:
    """Everything the table's conditions ask about a case and a person, gathered once."""

    roles: frozenset[Actor]
    level: Level
    has_parent: bool = False
    departments: bool = False
    calls_pending: bool = False
    paused: bool = False


def rule(action: str) -> Row | None:
    """The row of an action."""
    return RULES.get(action)


def holds(when: When, case: Case, s: Standing) -> bool:
    """Whether a row's extra condition holds now."""
    match when:
        case When.ALWAYS:
            return True
        case When.NOT_URGENT:
            return not case.urgent
        case When.URGENT:
            return case.urgent
        case When.RUNNING:
            return not s.paused
        case When.PAUSED:
            return s.paused
        case When.HAS_PARENT:
            return s.has_parent
        case When.DEPARTMENTS:
            return s.departments
        case When.CALLS_PENDING:
            return s.calls_pending
        case When.UNRATED:
            return case.state is S.RESOLVED or case.close_reason == "unrated"
    return False  # pragma: no cover


def permits(row: Row, case: Case, s: Standing) -> bool:
    """Whether the row applies to the case as it is now (state, level and condition), whoever asks."""
    return case.state in row.sources and (row.levels is None or s.level in row.levels) and holds(row.when, case, s)


def actions_for(case: Case, s: Standing) -> list[str]:
    """What someone of this standing may do with the case now, in table order (buttons, commands, console)."""
    return [r.action for r in TABLE if r.who & s.roles and permits(r, case, s)]


def case_action(case: Case, action: str, value: str = "") -> Action:
    """An action on a case at its current revision (a stale one is refused when taken)."""
    return Action(f"case.{action}", case.id, case.rev, value)


def group_actions(case: Case, s: Standing) -> tuple[Action, ...]:
    """A group post's buttons: the one-tap actions of the group's staff (their standing is `s`)."""
    return tuple(case_action(case, a) for a in actions_for(case, s) if RULES[a].button)


def supervision_actions(case: Case, s: Standing) -> tuple[Action, ...]:
    """A 督办 post's buttons in the level above."""
    mine = set(actions_for(case, s))
    return tuple(case_action(case, a) for a in SUPERVISION_BUTTONS if a in mine)


def reporter_actions(case: Case, s: Standing) -> tuple[Action, ...]:
    """The reporter's verdicts while the case waits for them."""
    mine = set(actions_for(case, s))
    return tuple(case_action(case, a, v) for a, v in RATINGS if a in mine)


class CallState(enum.StrEnum):
    """Where a department called to a case stands."""

    CALLED = "called"
    REPORTED = "reported"
    DONE = "done"
    MISSED = "missed"
    WAIVED = "waived"


@dataclass(frozen=True)
class CallRow:
    """One operation on a department's call."""

    action: str
    sources: frozenset[CallState]
    target: CallState
    who: str  # department | system | street
    tell: str | None = None  # who hears: the case's group (done) or the street (missed)


C = CallState
# 吹哨报到: a called department reports in (late is recorded as late, never refused), works and finishes its
# part. It blocks 办结 until it is done — a department that never reported in too — unless the street waives it.
CALL_TABLE: tuple[CallRow, ...] = (
    CallRow("report_in", frozenset({C.CALLED, C.MISSED}), C.REPORTED, "department"),
    CallRow("dept_note", frozenset({C.REPORTED}), C.REPORTED, "department"),
    CallRow("dept_done", frozenset({C.REPORTED}), C.DONE, "department", tell="call.done"),
    CallRow("missed", frozenset({C.CALLED}), C.MISSED, "system", tell="call.missed"),
    CallRow("waive", frozenset({C.CALLED, C.REPORTED, C.MISSED}), C.WAIVED, "street"),
)
CALL_RULES: dict[str, CallRow] = {r.action: r for r in CALL_TABLE}
PENDING_CALLS = frozenset({C.CALLED, C.REPORTED, C.MISSED})


def call_buttons(state: str) -> tuple[str, ...]:
    """What a department's group may press on its card of the case."""
    return tuple(r.action for r in CALL_TABLE if r.who == "department" and state in r.sources)
