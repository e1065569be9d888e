"""What differs from row to row of the lifecycle table: where a case goes, what a step records, what it checks.

A step reads the action's value, checks what only it can check, and returns a `Move`; the runner
(`CaseService.run`) does what the row's columns say (holder, clocks, post, who is told). A row that needs no
more than its columns has no step. The steps live in three small groups — handling (`handling.py`), oversight
(`oversight.py`) and verdicts (`verdicts.py`) — that share what they need (`Deps`), and this registry finds
the step of a row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from domain.cases.deadlines import DeadlineClock
from domain.cases.lifecycle import Post, Row
from domain.cases.model import MAX_TEXT, Case
from domain.cases.ports import Calls, Examples, Followers
from domain.cases.post import CasePost
from domain.cases.record import CaseRecord
from domain.cases.rules import CaseRules
from domain.kernel.awaiting import Conversation
from domain.kernel.errors import Invalid
from domain.kernel.events import EventBus
from domain.kernel.notices import Notices, Phrase
from domain.kernel.people import PeopleService, User
from domain.org.model import Unit
from domain.org.service import OrgService

After = Callable[[Case], Awaitable[None]]
StepFn = Callable[..., Awaitable["Move"]]


@dataclass
class Move:
    """What a step decided; the row's columns do the rest."""

    note: str | None = None  # the timeline's detail of the step
    photo: str | None = None
    changes: dict[str, object] = field(default_factory=dict)  # the case's fields that change with it
    unit: Unit | None = None  # where the case goes (a moving row), or which level is told (督办)
    holder: User | None = None  # who holds it next (a row whose holder is its value)
    status: Phrase | None = None  # what the old post says as it closes
    card_note: Phrase | None = None  # a line on the post
    banner: str | None = None
    post: Post | None = None  # the row's post effect, when this step knows better (a category handled elsewhere)
    tell: str | None = ""  # the reporter's notice: "" the row's own, None nobody
    tell_params: dict[str, object] = field(default_factory=dict)
    event_actor: User | None = None  # who the timeline shows acting (a desk claims for a worker: the worker)
    after: After | None = None  # what follows once the case has moved
    done: Case | None = None  # the step finished without moving the case (it asked for a note first)
    then: Row | None = None  # carried on as another row (an unsatisfied phone follow-up reopens the case)


def text_value(value: str, usage: str, required: bool = True) -> str:
    """A reason or note: required (else the usage), at most MAX_TEXT characters."""
    value = value.strip()
    if required and not value:
        raise Invalid(usage)
    if len(value) > MAX_TEXT:
        raise Invalid("text_too_long", max=MAX_TEXT)
    return value


@dataclass
class Deps:
    """What the steps work with."""

    record: CaseRecord
    post: CasePost
    clocks: DeadlineClock
    org: OrgService
    people: PeopleService
    conversation: Conversation
    examples: Examples
    followers: Followers
    calls: Calls
    notices: Notices
    events: EventBus
    rules: CaseRules
    # What else must end with a case that ends unresolved (a merged case's departments' posts).
    closers: list[After] = field(default_factory=list)


async def staff_of(d: Deps, case: Case, value: str) -> User:
    """The staff member of the case's unit a value names (by id), else the polite refusal."""
    holder = await d.people.get(int(value)) if value.isdigit() and len(value) < 19 else None
    if holder is None or not await d.org.may_handle(holder, case.unit_code):
        raise Invalid("claim_for_not_staff")
    return holder


async def parent_of(d: Deps, case: Case) -> tuple[Unit, Unit]:
    """The case's unit and the one above it (a street has none to climb to)."""
    unit = await d.org.get(case.unit_code)
    if not unit.parent_code:
        raise Invalid("cannot_escalate")
    return unit, await d.org.get(unit.parent_code)


async def handling_unit(d: Deps, code: str, category: str) -> str:
    """The unit that handles this category at this place: the grid, or an ancestor for some categories."""
    level = d.rules.category_levels.get(category)
    return code if level is None else await d.org.at_level(code, level)


class Steps:
    """The step of every row that has one, gathered from the groups that define them (`do_<action>`)."""

    def __init__(self, d: Deps, groups: tuple[object, ...], extra: dict[str, StepFn] | None = None) -> None:
        self.d = d
        self.table: dict[str, StepFn] = {
            name.removeprefix("do_"): getattr(group, name)
            for group in groups
            for name in dir(group)
            if name.startswith("do_")
        }
        self.table.update(extra or {})

    @property
    def rules(self) -> CaseRules:
        """The cases' rules in force."""
        return self.d.rules

    def of(self, action: str) -> StepFn | None:
        """The step of a row (None: the columns say everything)."""
        return self.table.get(action)

    async def handling_unit(self, code: str, category: str) -> str:
        """The unit that handles this category at this place."""
        return await handling_unit(self.d, code, category)
