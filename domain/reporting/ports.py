"""What reporting needs from storage: the volunteering and points ledgers, joined for reading."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.cases.model import Case, Deadline, DepartmentCall
from domain.cases.timeline import Step
from domain.kernel.people import User
from domain.reporting.model import (
    ActivityLine,
    ApiClient,
    CaseFilter,
    HoursLine,
    PointsLine,
    RedemptionLine,
    RequestLine,
    RequestQuery,
    TeamLine,
    UpdateLine,
)


class LedgerReads(Protocol):
    """Month slices of the hours, points, redemption, activity and team ledgers of some communities."""

    async def hours(self, communities: list[str], start: datetime, end: datetime) -> list[HoursLine]: ...

    async def points(self, communities: list[str], start: datetime, end: datetime) -> list[PointsLine]: ...

    async def redemptions(self, communities: list[str], start: datetime, end: datetime) -> list[RedemptionLine]: ...

    async def activities(self, communities: list[str], start: datetime, end: datetime) -> list[ActivityLine]: ...

    async def teams(self, communities: list[str], start: datetime, end: datetime) -> list[TeamLine]: ...


class Requests(Protocol):
    """Cases and their timelines read for other systems."""

    async def find(self, query: RequestQuery) -> list[RequestLine]: ...

    async def updates(self, start: datetime, end: datetime, limit: int, offset: int = 0) -> list[UpdateLine]: ...

    async def filed_since(self, user_id: int, since: datetime) -> int: ...

    async def step_photo(self, number: str, update_id: int) -> str | None: ...

    async def browse(self, f: CaseFilter, units: list[str] | None, limit: int, now: datetime) -> list[Case]: ...

    async def overdue_among(self, case_ids: list[int]) -> set[int]: ...

    async def tallies(
        self, units: list[str] | None, start: datetime, end: datetime, places: int
    ) -> tuple[dict[str, int], list[tuple[str, int]]]: ...

    async def open_pins(self, units: list[str] | None, limit: int) -> list[Case]: ...


class ApiKeys(Protocol):
    """Keys of API clients, stored hashed."""

    async def add(self, name: str, key_hash: str, user_id: int, at: datetime) -> bool: ...

    async def by_hash(self, key_hash: str) -> ApiClient | None: ...

    async def revoke(self, name: str) -> bool: ...

    async def all(self) -> list[ApiClient]: ...


class CaseDesk(Protocol):
    """What a desk needs of the case lifecycle: the same table, actions and story the chat has."""

    async def by_number(self, number: str) -> Case: ...

    async def actions_for(self, case: Case, user: User) -> list[str]: ...

    async def act(
        self, case_id: int, action: str, rev: int, actor: User | None, value: str = "", photo: str | None = None
    ) -> Case: ...

    async def claimants(self, case: Case) -> list[User]: ...

    async def story(self, case: Case) -> list[Step]: ...

    async def clocks_of(self, case: Case) -> list[Deadline]: ...

    async def calls_of(self, case: Case) -> list[DepartmentCall]: ...

    async def followers_of(self, case: Case) -> list[int]: ...

    async def may_see(self, case: Case, user: User) -> bool: ...
