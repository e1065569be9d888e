"""The case lifecycle in one table: state × action → next state, who may do it, what it records, whom it tells.

Every rule about moving a case lives here; `CaseService` carries the rows out, and buttons (or a console's
actions) are derived from `allowed`, never written a second time.

| action       | from                   | to       | who      | where        | reporter is told | group post      |
|--------------|------------------------|----------|----------|--------------|------------------|-----------------|
| claim        | new                    | claimed  | handler  | any          | case.claimed     | updated         |
| onsite       | claimed                | on_site  | handler  | any          | case.on_site     | updated         |
| resolve      | on_site                | resolved | handler  | any          | case.resolved    | updated         |
| reject       | new, claimed           | new      | handler  | grid         | case.sent_back   | moves up        |
| dispatch     | new                    | new      | handler  | community+   | –                | moves down      |
| recategorize | new, claimed, on_site  | (same)   | handler  | any          | –                | updated / moves |
| rate         | resolved               | closed   | reporter | any          | case.closed      | updated         |
| reopen       | resolved               | new      | reporter | any          | case.reopened    | closed, reposted|
| escalate     | new, claimed, on_site  | new      | handler, system | grid, community | case.escalated | moves up |
| close_unrated| resolved               | closed   | system   | any          | case.closed_unrated | updated      |
| follow_up    | resolved, closed       | closed   | handler  | any          | –                | updated         |
| merge        | new, claimed, on_site  | closed   | handler  | any          | case.merged      | closed          |

`escalate` is 提级: staff with a reason, or the deadline sweeper (system) when a case stays late; it climbs
one level. `close_unrated` closes a resolved case nobody rated within the follow-up time (never counted as
satisfied). `follow_up` records a phone call's verdict (回访) by the community; an unsatisfied verdict reopens
the case like `reopen`. `merge` closes a duplicate into the case it repeats; its reporter follows that one.

"handler" = staff of the case's unit or of any unit above it, or an administrator (`OrgService.may_handle`);
"reporter" = the person who reported it. `reject` is 非本网格 (back to the community), `dispatch` sends a
case from a community or street down to one of its grids, `reopen` is the 不满意 rating (重办).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from domain.cases.model import Case, CaseState
from domain.kernel.notices import Action
from domain.org.model import Level


class Actor(enum.StrEnum):
    """Who, relative to a case, may take an action."""

    HANDLER = "handler"
    REPORTER = "reporter"
    SYSTEM = "system"  # the deadline sweeper


class PostEffect(enum.StrEnum):
    """What an action does to the case's group post."""

    UPDATE = "update"  # the post shows the new state
    MOVE = "move"  # the case changes unit: the old post is closed, the new unit's group gets a new post
    REPOST = "repost"  # the old post is closed, a new post starts (rework)
    CLOSE = "close"  # the post shows its last state


@dataclass(frozen=True)
class Transition:
    """One row of the table."""

    action: str
    sources: frozenset[CaseState]
    target: CaseState | None  # None: the state stays
    actor: Actor | frozenset[Actor]
    levels: frozenset[Level] | None  # where the case's unit must be; None: anywhere
    tell_reporter: str | None
    post: PostEffect


_ANY_OPEN = frozenset({CaseState.NEW, CaseState.CLAIMED, CaseState.ON_SITE})
S = CaseState

TABLE: tuple[Transition, ...] = (
    Transition("claim", frozenset({S.NEW}), S.CLAIMED, Actor.HANDLER, None, "case.claimed", PostEffect.UPDATE),
    Transition("onsite", frozenset({S.CLAIMED}), S.ON_SITE, Actor.HANDLER, None, "case.on_site", PostEffect.UPDATE),
    Transition("resolve", frozenset({S.ON_SITE}), S.RESOLVED, Actor.HANDLER, None, "case.resolved", PostEffect.UPDATE),
    Transition(
        "reject",
        frozenset({S.NEW, S.CLAIMED}),
        S.NEW,
        Actor.HANDLER,
        frozenset({Level.GRID}),
        "case.sent_back",
        PostEffect.MOVE,
    ),
    Transition(
        "dispatch",
        frozenset({S.NEW}),
        S.NEW,
        Actor.HANDLER,
        frozenset({Level.COMMUNITY, Level.STREET}),
        None,
        PostEffect.MOVE,
    ),
    Transition("recategorize", _ANY_OPEN, None, Actor.HANDLER, None, None, PostEffect.UPDATE),
    Transition("rate", frozenset({S.RESOLVED}), S.CLOSED, Actor.REPORTER, None, "case.closed", PostEffect.UPDATE),
    Transition("reopen", frozenset({S.RESOLVED}), S.NEW, Actor.REPORTER, None, "case.reopened", PostEffect.REPOST),
    Transition(
        "escalate",
        _ANY_OPEN,
        S.NEW,
        frozenset({Actor.HANDLER, Actor.SYSTEM}),
        frozenset({Level.GRID, Level.COMMUNITY}),
        "case.escalated",
        PostEffect.MOVE,
    ),
    Transition(
        "close_unrated", frozenset({S.RESOLVED}), S.CLOSED, Actor.SYSTEM, None, "case.closed_unrated", PostEffect.UPDATE
    ),
    Transition("follow_up", frozenset({S.RESOLVED, S.CLOSED}), S.CLOSED, Actor.HANDLER, None, None, PostEffect.UPDATE),
    Transition("merge", _ANY_OPEN, S.CLOSED, Actor.HANDLER, None, "case.merged", PostEffect.CLOSE),
)
RULES: dict[str, Transition] = {t.action: t for t in TABLE}
ACTIONS: tuple[str, ...] = tuple(RULES)
# The reporter's verdicts on a resolved case: two close it, one reopens it.
RATINGS: tuple[tuple[str, str], ...] = (("rate", "satisfied"), ("rate", "basic"), ("reopen", "unsatisfied"))


def rule(action: str) -> Transition | None:
    """The row of an action."""
    return RULES.get(action)


def actors_of(t: Transition) -> frozenset[Actor]:
    """Who may take a row's action."""
    return t.actor if isinstance(t.actor, frozenset) else frozenset({t.actor})


def permits(t: Transition, case: Case, level: Level) -> bool:
    """Whether the row applies to the case as it is now (state and the level of its unit)."""
    return case.state in t.sources and (t.levels is None or level in t.levels)


def allowed(case: Case, level: Level, actors: set[Actor]) -> list[str]:
    """Actions someone in these roles may take on the case now, in table order."""
    return [t.action for t in TABLE if actors_of(t) & actors and permits(t, case, level)]


def case_action(case: Case, action: str, value: str = "") -> Action:
    """An action on a case at its current revision (a stale one is refused when taken)."""
    return Action(f"case.{action}", case.id, case.rev, value)


# Handler actions that need more than a tap (a reason, a case to merge into, a phone call's verdict) are
# taken with a command or in a console, not from a group post's buttons.
NOT_BUTTONS = frozenset({"escalate", "follow_up", "merge"})


def handler_actions(case: Case, level: Level) -> tuple[Action, ...]:
    """What the unit's staff may do now with one tap: the buttons of a group post."""
    return tuple(case_action(case, a) for a in allowed(case, level, {Actor.HANDLER}) if a not in NOT_BUTTONS)


def reporter_actions(case: Case, level: Level) -> tuple[Action, ...]:
    """The reporter's verdicts while the case waits for them."""
    mine = set(allowed(case, level, {Actor.REPORTER}))
    return tuple(case_action(case, a, v) for a, v in RATINGS if a in mine)
