"""Who may use the staff console, and how: a one-time link asked for in a private chat opens a session.

No passwords: staff send /console to the bot and get a link that works once, within minutes; it opens a
session that expires. Links are rate-limited per person; tokens and session ids are stored only as hashes.
Every change made in the console is written to an audit log.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.kernel.errors import Conflict, Forbidden
from domain.kernel.people import PeopleService, User, UserRef
from domain.kernel.time import Clock
from domain.org.model import AuditEntry, Unit
from domain.org.ports import Logins
from domain.org.service import OrgService

LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=12)
LINKS_PER_WINDOW, LINK_WINDOW = 5, timedelta(minutes=10)
DETAIL_MAX = 500


def secret_hash(secret: str) -> str:
    """How a token or session id is stored (random and long: a plain digest is enough)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in person, with the token their forms must carry."""

    user: User
    csrf: str
    expires_at: datetime


class ConsoleAccess:
    """Login links, sessions, scope and the audit log of the console."""

    def __init__(self, logins: Logins, org: OrgService, people: PeopleService, clock: Clock) -> None:
        self.logins = logins
        self.org = org
        self.people = people
        self.clock = clock

    async def may_use(self, user: User) -> bool:
        """Staff of some unit, or an admin."""
        return self.people.is_admin(user) or bool(await self.org.units_of(user))

    async def issue_link(self, user: User) -> str:
        """A one-time login token for this person (at most 5 in 10 minutes)."""
        if not await self.may_use(user):
            raise Forbidden("console_forbidden")
        now = self.clock()
        if await self.logins.tokens_since(user.id, now - LINK_WINDOW) >= LINKS_PER_WINDOW:
            raise Conflict("console_links_limit")
        token = secrets.token_urlsafe(32)
        await self.logins.add_token(secret_hash(token), user.id, now, now + LINK_TTL)
        return token

    async def redeem(self, token: str) -> tuple[str, ConsoleSession]:
        """Use a link once: a new session id (for the cookie) and the session."""
        now = self.clock()
        user_id = await self.logins.take_token(secret_hash(token[:200]), now) if token else None
        user = await self.people.get(user_id) if user_id is not None else None
        if user is None or not await self.may_use(user):
            raise Forbidden("console_link_invalid")
        return await self._open(user, "link")

    async def vouched(self, ref: UserRef) -> tuple[str, ConsoleSession]:
        """A person whose identity a front end has verified (a platform's signed login data): a new session."""
        user = await self.people.by_ref(ref)
        if user is None or not await self.may_use(user):
            raise Forbidden("console_forbidden")
        return await self._open(user, ref.platform)

    async def _open(self, user: User, via: str) -> tuple[str, ConsoleSession]:
        now = self.clock()
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = now + SESSION_TTL
        await self.logins.add_session(secret_hash(sid), user.id, csrf, now, expires)
        await self.record(user, "login", "", via)
        return sid, ConsoleSession(user, csrf, expires)

    async def session(self, sid: str | None) -> ConsoleSession | None:
        """The session behind a cookie, if it is live and its person may still use the console."""
        if not sid:
            return None
        found = await self.logins.session(secret_hash(sid[:200]), self.clock())
        if found is None:
            return None
        user_id, csrf, expires = found
        user = await self.people.get(user_id)
        if user is None or not await self.may_use(user):
            return None
        return ConsoleSession(user, csrf, expires)

    async def logout(self, sid: str) -> None:
        """End a session."""
        await self.logins.end_session(secret_hash(sid[:200]))

    async def record(self, user: User, action: str, target: str, detail: str) -> None:
        """Write an action to the audit log."""
        await self.logins.audit(user.id, self.clock(), action, target[:64], detail[:DETAIL_MAX])

    async def audit_log(self, user: User, limit: int = 200) -> list[AuditEntry]:
        """The latest console actions (admins only)."""
        if not self.people.is_admin(user):
            raise Forbidden("audit_admins_only")
        return await self.logins.audit_log(limit)

    async def scope(self, user: User) -> list[Unit] | None:
        """The units a person sees (their units and everything below); None: an admin sees all."""
        if self.people.is_admin(user):
            return None
        seen: dict[str, Unit] = {}
        for code in await self.org.units_of(user):
            for unit in [await self.org.get(code), *await self.org.below(code)]:
                seen[unit.code] = unit
        return sorted(seen.values(), key=lambda u: u.code)
