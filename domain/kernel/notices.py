"""What the domain wants people to know: a notice says what happened, to whom, and what they may do next.

A notice is channel-free: an audience (a person, a unit's working group, the administrators), a kind with
plain parameters, and the actions its audience may take (abstract names with the revision they apply to).
How it looks — markup, buttons, where it goes — is a front end's business (`handlers/views`).

Some notices are about a thing whose state a group post shows (a case, an activity, a service order, a
volunteer's registration): they name that `subject`, and say whether they start a new post, update the
current one, or close it (last state, no more actions).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Word:
    """A word of the domain's vocabulary (`domain/kernel/words`), rendered in the audience's language."""

    key: str


@dataclass(frozen=True)
class Phrase:
    """A sentence a front end has a template for, with its own parameters (plain values or words)."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)


class AudienceKind(enum.StrEnum):
    """Whom a notice addresses."""

    PERSON = "person"  # one person, privately
    UNIT = "unit"  # the working group of a unit (street, community, grid)
    ADMINS = "admins"  # the bot's administrators, privately


@dataclass(frozen=True)
class Audience:
    """The receiver of a notice."""

    kind: AudienceKind
    key: str = ""

    @staticmethod
    def person(user_id: int) -> Audience:
        """One person."""
        return Audience(AudienceKind.PERSON, str(user_id))

    @staticmethod
    def unit(code: str) -> Audience:
        """A unit's working group."""
        return Audience(AudienceKind.UNIT, code)

    @staticmethod
    def admins() -> Audience:
        """The administrators."""
        return Audience(AudienceKind.ADMINS)

    @property
    def user_id(self) -> int:
        """The person's id (person audiences only)."""
        return int(self.key)


@dataclass(frozen=True)
class Action:
    """Something the audience may do next: an abstract name, the thing it applies to and its revision."""

    name: str
    ref: int
    rev: int = 0
    value: str = ""


@dataclass(frozen=True)
class Subject:
    """A thing with a state that a group post shows."""

    kind: str
    id: int


class PostMode(enum.StrEnum):
    """What a notice about a subject does to the subject's post in its audience's chat."""

    NONE = "none"  # not about a post: an ordinary message
    NEW = "new"  # a new post that from now on shows the subject
    UPDATE = "update"  # the current post changes to show the new state
    CLOSE = "close"  # the current post shows its last state, without actions, and is left as it is


@dataclass
class Notice:
    """One thing to tell one audience."""

    kind: str
    audience: Audience
    params: Mapping[str, object] = field(default_factory=dict)
    actions: tuple[Action, ...] = ()
    subject: Subject | None = None
    mode: PostMode = PostMode.NONE
    # A photo the domain holds a reference to (a file a user sent), shown with the notice.
    photo: str | None = None
    # Deliver no earlier than this (reminders); withdrawn with `tag` if the reason goes away first.
    not_before: datetime | None = None
    tag: str | None = None
    # An opaque reference to a message a person sent, which this notice answers (a front end's own format).
    in_reply_to: str | None = None
    # Where to say it instead when a person cannot be reached privately (e.g. the group the case is in).
    fallback: Audience | None = None
    # Danger to life: it may wake people (the quiet hours do not hold it back).
    urgent: bool = False


class Notices(Protocol):
    """Where services put what they want told; written in the same transaction as the change itself."""

    async def emit(self, notice: Notice) -> None: ...

    async def withdraw(self, tag: str) -> None: ...


class NoticeLog:
    """A Notices that keeps what it is given: for unit tests, and for plain-text front ends."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []
        self.withdrawn: list[str] = []

    async def emit(self, notice: Notice) -> None:
        """Keep it."""
        self.notices.append(notice)

    async def withdraw(self, tag: str) -> None:
        """Note the withdrawal and forget pending ones with that tag."""
        self.withdrawn.append(tag)
        self.notices = [n for n in self.notices if n.tag != tag]

    def kinds(self) -> list[str]:
        """Kinds in the order they were emitted."""
        return [n.kind for n in self.notices]
