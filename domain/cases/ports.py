"""What the cases context needs from storage and from the classifier."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.cases.model import (
    Case,
    CaseEvent,
    CaseState,
    Classification,
    Deadline,
    DepartmentCall,
    Draft,
    GroupOffer,
    LabelledExample,
)


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

    async def open_near(
        self, category: str, since: datetime, lat: float, lon: float, radius_m: float
    ) -> list[Case]: ...

    async def open_with_photo(self, photo_unique_id: str) -> list[Case]: ...

    async def set_fields(self, case_id: int, **changes: object) -> None: ...

    async def by_number(self, number: str) -> Case | None: ...

    async def in_month(self, units: list[str], start: datetime, end: datetime) -> list[Case]: ...

    async def events_of(self, case_ids: list[int]) -> list[CaseEvent]: ...

    async def with_action(self, case_ids: list[int], action: str) -> set[int]: ...


class Deadlines(Protocol):
    """Clocks running on cases."""

    async def add(self, deadline: Deadline) -> int: ...

    async def open_for(self, case_id: int) -> list[Deadline]: ...

    async def update(self, deadline_id: int, expected_state: str, **values: object) -> bool: ...

    async def due(self, now: datetime, limit: int) -> list[Deadline]: ...

    async def of_cases(self, case_ids: list[int]) -> list[Deadline]: ...


class Followers(Protocol):
    """People who reported the same problem and follow the first case instead."""

    async def add(self, case_id: int, user_id: int, at: datetime) -> bool: ...

    async def of_case(self, case_id: int) -> list[int]: ...

    async def counts(self, case_ids: list[int]) -> dict[int, int]: ...


class Calls(Protocol):
    """Departments called to cases (吹哨报到) and what each did."""

    async def add(self, call: DepartmentCall) -> bool: ...

    async def get(self, case_id: int, department: str) -> DepartmentCall | None: ...

    async def of_case(self, case_id: int) -> list[DepartmentCall]: ...

    async def of_cases(self, case_ids: list[int]) -> list[DepartmentCall]: ...

    async def of_department(self, department: str, since: datetime, until: datetime) -> list[DepartmentCall]: ...

    async def update(self, case_id: int, department: str, expected_state: str, **values: object) -> bool: ...


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


class RateSnapshots(Protocol):
    """A month's figures of a unit as last computed (JSON), so a desk need not recompute closed months."""

    async def get(self, unit_code: str, month: str) -> tuple[datetime, str] | None: ...

    async def put(self, unit_code: str, month: str, at: datetime, payload: str) -> None: ...

    async def ages(self, units: list[str], months: list[str]) -> dict[tuple[str, str], datetime]: ...


class Classifier(Protocol):
    """Turns a text into intent and category."""

    async def classify(self, text: str) -> Classification: ...
