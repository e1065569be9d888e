"""What the cases context needs from storage and from the classifier."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.cases.model import Case, CaseEvent, CaseState, Classification, Draft, GroupOffer, LabelledExample


class Cases(Protocol):
    """Cases and their timelines."""

    async def next_seq(self, day: str) -> int: ...

    async def add(self, case: Case) -> Case: ...

    async def get(self, case_id: int) -> Case | None: ...

    async def transition(
        self, case_id: int, expected: CaseState, rev: int, to: CaseState, **changes: object
    ) -> bool: ...

    async def add_event(self, event: CaseEvent) -> None: ...

    async def events(self, case_id: int) -> list[CaseEvent]: ...

    async def by_reporter(self, user_id: int, limit: int) -> list[Case]: ...


class Drafts(Protocol):
    """One draft report per user."""

    async def get(self, user_id: int) -> Draft | None: ...

    async def save(self, draft: Draft) -> None: ...

    async def delete(self, user_id: int) -> None: ...


class Examples(Protocol):
    """Labelled examples collected from clarifications and corrections."""

    async def add(self, example: LabelledExample) -> int: ...

    async def get(self, example_id: int) -> LabelledExample | None: ...

    async def answer(self, example_id: int, intent: str, category: str | None) -> bool: ...

    async def answered(self) -> list[LabelledExample]: ...


class Offers(Protocol):
    """Offers made in group chats to file a message as a report."""

    async def last_offer_at(self, unit_code: str, user_id: int) -> datetime | None: ...

    async def add(self, offer: GroupOffer, at: datetime) -> int: ...

    async def get(self, offer_id: int) -> GroupOffer | None: ...

    async def close(self, offer_id: int, state: str) -> bool: ...


class Classifier(Protocol):
    """Turns a text into intent and category."""

    async def classify(self, text: str) -> Classification: ...
