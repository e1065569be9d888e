"""What the domain needs from storage and from the classifier; storage and intents implement these."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.activities import Activities
from domain.activity_form import Forms
from domain.model import (
    Case,
    CaseEvent,
    CaseState,
    Classification,
    Draft,
    GroupOffer,
    LabelledExample,
    OutMessage,
    Role,
    Unit,
    User,
    UserRef,
)
from domain.orders import Orders
from domain.points import Ledger, Shop
from domain.volunteers import Volunteers


class Users(Protocol):
    """People known to the bot."""

    async def upsert(
        self,
        ref: UserRef,
        display_name: str,
        username: str | None,
        locale: str | None,
        private_chat_id: int | None,
    ) -> User: ...

    async def get(self, user_id: int) -> User | None: ...

    async def by_ref(self, ref: UserRef) -> User | None: ...

    async def by_username(self, username: str) -> User | None: ...

    async def set_role(self, user_id: int, role: Role) -> None: ...


class Units(Protocol):
    """The street / community / grid hierarchy and the chats bound to it."""

    async def all(self) -> list[Unit]: ...

    async def get(self, code: str) -> Unit | None: ...

    async def by_chat(self, chat_id: int) -> Unit | None: ...

    async def replace_all(self, units: list[Unit]) -> tuple[int, int]: ...

    async def bind_chat(self, code: str, chat_id: int) -> None: ...

    async def unbind_chat(self, chat_id: int) -> list[str]: ...

    async def revision(self) -> int: ...


class Staff(Protocol):
    """Who works for which unit."""

    async def add(self, unit_code: str, user_id: int, added_by: int | None) -> bool: ...

    async def remove(self, unit_code: str, user_id: int) -> bool: ...

    async def units_of(self, user_id: int) -> list[str]: ...

    async def members(self, unit_code: str) -> list[User]: ...


class Cases(Protocol):
    """Cases and their timelines."""

    async def next_seq(self, day: str) -> int: ...

    async def add(self, case: Case) -> Case: ...

    async def get(self, case_id: int) -> Case | None: ...

    async def transition(
        self,
        case_id: int,
        expected: CaseState,
        rev: int,
        to: CaseState,
        **changes: object,
    ) -> bool: ...

    async def set_fields(self, case_id: int, **changes: object) -> None: ...

    async def add_event(self, event: CaseEvent) -> None: ...

    async def events(self, case_id: int) -> list[CaseEvent]: ...

    async def by_reporter(self, user_id: int, limit: int) -> list[Case]: ...


class Drafts(Protocol):
    """One draft report per user."""

    async def get(self, user_id: int) -> Draft | None: ...

    async def save(self, draft: Draft) -> None: ...

    async def delete(self, user_id: int) -> None: ...


class Pending(Protocol):
    """A reply the bot waits for from a user (e.g. the resolve note)."""

    async def set(self, user_id: int, kind: str, case_id: int, prompt_outbox_id: int | None) -> None: ...

    async def get(self, user_id: int) -> tuple[str, int, int | None] | None: ...

    async def clear(self, user_id: int) -> None: ...


class Examples(Protocol):
    """Labelled examples collected from clarifications and corrections."""

    async def add(self, example: LabelledExample) -> int: ...

    async def get(self, example_id: int) -> LabelledExample | None: ...

    async def answer(self, example_id: int, intent: str, category: str | None) -> bool: ...

    async def answered(self) -> list[LabelledExample]: ...


class Offers(Protocol):
    """Offers made in group chats to file a message as a report."""

    async def last_offer_at(self, chat_id: int, user_id: int) -> datetime | None: ...

    async def add(self, offer: GroupOffer, at: datetime) -> int: ...

    async def get(self, offer_id: int) -> GroupOffer | None: ...

    async def set_outbox(self, offer_id: int, outbox_id: int) -> None: ...

    async def close(self, offer_id: int, state: str) -> bool: ...


class Meta(Protocol):
    """Small named markers (e.g. "this month's board was posted")."""

    async def claim(self, key: str) -> bool: ...


class Outbox(Protocol):
    """Messages to deliver, written in the same transaction as the change that causes them."""

    async def add(self, message: OutMessage) -> int: ...

    async def cancel(self, ids: list[int]) -> None: ...


class Classifier(Protocol):
    """Turns a text into intent and category."""

    async def classify(self, text: str) -> Classification: ...


class Clock(Protocol):
    """Now, injectable for tests."""

    def __call__(self) -> datetime: ...


class Repos(Protocol):
    """The repositories of one unit of work (one DB session)."""

    @property
    def users(self) -> Users: ...

    @property
    def units(self) -> Units: ...

    @property
    def staff(self) -> Staff: ...

    @property
    def cases(self) -> Cases: ...

    @property
    def drafts(self) -> Drafts: ...

    @property
    def pending(self) -> Pending: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def examples(self) -> Examples: ...

    @property
    def offers(self) -> Offers: ...

    @property
    def meta(self) -> Meta: ...

    @property
    def ledger(self) -> Ledger: ...

    @property
    def shop(self) -> Shop: ...

    @property
    def activities(self) -> Activities: ...

    @property
    def volunteers(self) -> Volunteers: ...

    @property
    def orders(self) -> Orders: ...

    @property
    def forms(self) -> Forms: ...
