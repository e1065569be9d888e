"""One notion of "the bot is waiting for this person's reply".

A person has at most one awaited reply: a kind (what the reply is for), a reference (which case, activity or
form) and an expiry. The newest question wins: asking something new replaces what was awaited before; the
data behind an earlier question (a report draft, a half-filled form, a registration) is kept, and the person
gets back to it from the menu or its command.

Precedence of a private text message, in the front end:
  1. a main-menu label or a /command always acts at once (and "cancel" ends what is awaited);
  2. else the awaited reply, if there is one and it has not expired;
  3. else an open report draft takes the text as more description;
  4. else the classifier decides what the message is.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from domain.kernel.time import Clock


class Awaited(enum.StrEnum):
    """What a reply is awaited for."""

    RESOLVE_NOTE = "resolve_note"  # ref: case id
    CHECK_IN = "check_in"  # ref: activity id
    CHECK_OUT = "check_out"  # ref: activity id
    VOLUNTEER_PHONE = "volunteer_phone"  # ref: ""
    VOLUNTEER_NAME = "volunteer_name"  # ref: ""
    ACTIVITY_FORM = "activity_form"  # ref: the form step
    DEPARTMENT_NOTE = "department_note"  # ref: "case id:department code"
    HOME_FLAT = "home_flat"  # ref: building code
    MATTER_PROPOSAL = "matter_proposal"  # ref: ""
    MATTER_ANSWER = "matter_answer"  # ref: matter id
    RATING_COMMENT = "rating_comment"  # ref: rating round id


# How long a question stays open; after that the reply is treated as a new message.
TTL: dict[Awaited, timedelta] = {
    Awaited.RESOLVE_NOTE: timedelta(hours=24),
    Awaited.CHECK_IN: timedelta(hours=6),
    Awaited.CHECK_OUT: timedelta(hours=6),
    Awaited.VOLUNTEER_PHONE: timedelta(days=7),
    Awaited.VOLUNTEER_NAME: timedelta(days=7),
    Awaited.ACTIVITY_FORM: timedelta(days=7),
    Awaited.DEPARTMENT_NOTE: timedelta(hours=24),
    Awaited.HOME_FLAT: timedelta(days=1),
    Awaited.MATTER_PROPOSAL: timedelta(days=1),
    Awaited.MATTER_ANSWER: timedelta(days=1),
    Awaited.RATING_COMMENT: timedelta(days=1),
}


@dataclass(frozen=True)
class Awaiting:
    """The reply awaited from one person."""

    kind: Awaited
    ref: str
    expires_at: datetime

    @property
    def ref_id(self) -> int:
        """The reference as a number (case or activity id)."""
        return int(self.ref)


class Awaitings(Protocol):
    """Storage: one awaited reply per person."""

    async def get(self, user_id: int) -> Awaiting | None: ...

    async def put(self, user_id: int, awaiting: Awaiting) -> None: ...

    async def clear(self, user_id: int) -> None: ...


class Conversation:
    """Asks, and knows what is awaited."""

    def __init__(self, store: Awaitings, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def expect(self, user_id: int, kind: Awaited, ref: str | int = "") -> Awaiting:
        """From now on the person's next reply is for `kind` (replacing whatever was awaited before)."""
        awaiting = Awaiting(kind, str(ref), self.clock() + TTL[kind])
        await self.store.put(user_id, awaiting)
        return awaiting

    async def current(self, user_id: int) -> Awaiting | None:
        """What is awaited now; an expired question is forgotten."""
        awaiting = await self.store.get(user_id)
        if awaiting is not None and awaiting.expires_at <= self.clock():
            await self.store.clear(user_id)
            return None
        return awaiting

    async def awaits(self, user_id: int, *kinds: Awaited) -> Awaiting | None:
        """The awaited reply if it is one of `kinds`."""
        awaiting = await self.current(user_id)
        return awaiting if awaiting is not None and awaiting.kind in kinds else None

    async def done(self, user_id: int, *kinds: Awaited) -> None:
        """Stop waiting (only if one of `kinds` is awaited, when kinds are given)."""
        if kinds:
            awaiting = await self.store.get(user_id)
            if awaiting is None or awaiting.kind not in kinds:
                return
        await self.store.clear(user_id)
