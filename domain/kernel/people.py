"""People as the domain knows them: an identity on some platform, a display name, a role and a language."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from domain.kernel.errors import Invalid


class Role(enum.StrEnum):
    """How a reporter is shown to staff: never by name, only by role."""

    RIDER = "rider"
    RESIDENT = "resident"
    API = "api"  # another system filing through Open311 (a city platform, a FixMyStreet-style site)

    @classmethod
    def chosen(cls) -> tuple[Role, ...]:
        """The roles a person may choose for themselves."""
        return (cls.RIDER, cls.RESIDENT)


@dataclass(frozen=True)
class UserRef:
    """A person as the outside world names them: platform plus that platform's id."""

    platform: str
    external_id: str


@dataclass
class User:
    """A known person (how to reach them is the front end's business, not the domain's)."""

    id: int
    ref: UserRef
    display_name: str
    role: Role | None = None
    locale: str = "zh-CN"
    username: str | None = None
    # Has opened a private conversation with the bot, so it may be written to privately.
    reachable: bool = False


class People(Protocol):
    """Storage of people."""

    async def upsert(
        self, ref: UserRef, display_name: str, username: str | None, locale: str | None, reachable: bool
    ) -> User: ...

    async def get(self, user_id: int) -> User | None: ...

    async def many(self, user_ids: set[int]) -> dict[int, User]: ...

    async def by_ref(self, ref: UserRef) -> User | None: ...

    async def by_username(self, username: str) -> User | None: ...

    async def set_role(self, user_id: int, role: Role) -> None: ...


class PeopleService:
    """Who is acting: registered on first sight, refreshed from what the platform says of them."""

    def __init__(self, people: People, admins: frozenset[UserRef]) -> None:
        self.people = people
        self.admins = admins

    async def identify(
        self,
        ref: UserRef,
        display_name: str,
        username: str | None = None,
        locale: str | None = None,
        reachable: bool = False,
    ) -> User:
        """Find or register a person; `reachable` says they opened a private conversation with the bot."""
        return await self.people.upsert(ref, display_name, username, locale, reachable)

    async def get(self, user_id: int) -> User | None:
        """By id."""
        return await self.people.get(user_id)

    async def many(self, user_ids: set[int]) -> dict[int, User]:
        """Several people by id, in one read (a ledger names hundreds)."""
        return await self.people.many(user_ids)

    async def by_username(self, username: str) -> User | None:
        """By @username (someone who has talked to the bot before)."""
        return await self.people.by_username(username)

    async def by_ref(self, ref: UserRef) -> User | None:
        """By their account on a platform (someone who has talked to the bot before)."""
        return await self.people.by_ref(ref)

    async def admin_users(self) -> list[User]:
        """The administrators the bot has seen (an admin who never wrote to it cannot be told anything)."""
        found = [await self.people.by_ref(ref) for ref in sorted(self.admins, key=lambda r: r.external_id)]
        return [u for u in found if u is not None]

    def is_admin(self, user: User) -> bool:
        """A gridbot administrator from the configuration."""
        return user.ref in self.admins

    async def set_role(self, user: User, role: Role) -> None:
        """Rider or resident: how the person is shown to staff when they report."""
        if role not in Role.chosen():
            raise Invalid("stale_button")
        await self.people.set_role(user.id, role)
        user.role = role
