"""Volunteer registration (own phone via the contact button, real name, community, optional team) and approval."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.i18n import t
from domain.model import Button, Level, OutMessage, User

if TYPE_CHECKING:
    from domain.services import Context, OrgService

_NAME = re.compile(r"^[\u4e00-\u9fff·A-Za-z][\u4e00-\u9fff·A-Za-z .]{0,19}$")


@dataclass
class Volunteer:
    """A volunteer's registration."""

    user_id: int
    phone: str | None = None
    real_name: str | None = None
    community_code: str | None = None
    team_id: int | None = None
    state: str = "draft"
    step: str | None = "phone"


@dataclass
class Team:
    """A volunteer team of a community."""

    id: int
    community_code: str
    name: str
    leader_id: int | None


class Volunteers(Protocol):
    """Storage of volunteers and teams."""

    async def get(self, user_id: int) -> Volunteer | None: ...

    async def save(self, v: Volunteer) -> None: ...

    async def set_state(self, user_id: int, expected: str, state: str, by: int | None) -> bool: ...

    async def of_community(self, code: str) -> list[tuple[Volunteer, User]]: ...

    async def teams(self, code: str) -> list[Team]: ...

    async def add_team(self, code: str, name: str, leader_id: int | None) -> Team: ...


def masked_phone(phone: str | None) -> str:
    """138****5678."""
    digits = re.sub(r"\D", "", phone or "")[-11:]
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "-"


class VolunteerService:
    """Registration steps, each saved, so nothing typed is lost; community staff approve."""

    def __init__(self, ctx: Context, org: OrgService) -> None:
        self.ctx = ctx
        self.org = org
        self.repo: Volunteers = ctx.repos.volunteers

    async def get(self, user: User) -> Volunteer | None:
        """The user's registration."""
        return await self.repo.get(user.id)

    async def start(self, user: User) -> Volunteer:
        """Begin (or resume) registration."""
        v = await self.repo.get(user.id)
        if v is not None and v.state in ("pending", "active"):
            raise Conflict(f"volunteer_{v.state}")
        v = Volunteer(user.id)
        await self.repo.save(v)
        return v

    async def contact(self, user: User, contact_user_id: str | None, phone: str) -> Volunteer:
        """Only the user's own contact (shared with the button) is accepted."""
        v = await self.repo.get(user.id)
        if v is None or v.step != "phone":
            raise NotFound("no_registration")
        if contact_user_id != user.ref.external_id:
            raise Invalid("not_own_contact")
        v.phone, v.step = phone.strip()[:32], "name"
        await self.repo.save(v)
        return v

    async def name(self, user: User, name: str) -> Volunteer:
        """The real name, as on an ID card."""
        v = await self.repo.get(user.id)
        if v is None or v.step != "name":
            raise NotFound("no_registration")
        name = name.strip()
        if not _NAME.match(name):
            raise Invalid("bad_name")
        v.real_name, v.step = name, "community"
        await self.repo.save(v)
        return v

    async def community(self, user: User, code: str) -> tuple[Volunteer, list[Team]]:
        """The community; its teams are offered next (if it has any)."""
        v = await self.repo.get(user.id)
        if v is None or v.step != "community":
            raise NotFound("no_registration")
        unit = await self.ctx.repos.units.get(code)
        if unit is None or unit.level is not Level.COMMUNITY:
            raise Invalid("unknown_unit", code=code)
        v.community_code = unit.code
        teams = await self.repo.teams(unit.code)
        v.step = "team" if teams else None
        await self.repo.save(v)
        if not teams:
            await self._submit(user, v)
        return v, teams

    async def team(self, user: User, team_id: int | None) -> Volunteer:
        """An optional team, then the registration goes to community staff."""
        v = await self.repo.get(user.id)
        if v is None or v.step != "team" or v.community_code is None:
            raise NotFound("no_registration")
        if team_id is not None and team_id not in {tm.id for tm in await self.repo.teams(v.community_code)}:
            raise Invalid("stale_button")
        v.team_id, v.step = team_id, None
        await self.repo.save(v)
        await self._submit(user, v)
        return v

    async def _submit(self, user: User, v: Volunteer) -> None:
        v.state = "pending"
        await self.repo.save(v)
        assert v.community_code is not None
        _, target = await self.org.route_chat(v.community_code)
        if target is not None and target.chat_id is not None:
            loc = self.ctx.group_locale
            await self.ctx.repos.outbox.add(
                OutMessage(
                    target.chat_id,
                    t("vol.review", loc, name=html.escape(v.real_name or ""), phone=masked_phone(v.phone)),
                    buttons=[
                        [
                            Button(t("vol.approve", loc), cb=("vol", {"a": "ok", "v": str(user.id)})),
                            Button(t("vol.reject", loc), cb=("vol", {"a": "no", "v": str(user.id)})),
                        ]
                    ],
                )
            )

    async def decide(self, actor: User, user_id: int, approve: bool) -> Volunteer:
        """Community staff approve or turn down a pending registration, once."""
        v = await self.repo.get(user_id)
        if v is None or v.community_code is None:
            raise NotFound("no_registration")
        if not await self.org.may_handle(actor, v.community_code):
            raise Forbidden("volunteer_forbidden")
        state = "active" if approve else "rejected"
        if not await self.repo.set_state(user_id, "pending", state, actor.id):
            raise Conflict("already_done")
        v.state = state
        person = await self.ctx.repos.users.get(user_id)
        if person and person.private_chat_id:
            await self.ctx.repos.outbox.add(OutMessage(person.private_chat_id, t(f"vol.{state}", person.locale)))
        return v

    async def deactivate(self, actor: User, chat_id: int, target: User) -> Volunteer:
        """Community staff deactivate an active volunteer of their community."""
        unit = await self.org.chat_unit(chat_id)
        v = await self.repo.get(target.id)
        if v is None or v.community_code is None:
            raise NotFound("no_registration")
        if not await self.org.may_handle(actor, v.community_code) or not await self.org.may_handle(actor, unit.code):
            raise Forbidden("volunteer_forbidden")
        if not await self.repo.set_state(target.id, "active", "inactive", actor.id):
            raise Conflict("already_done")
        v.state = "inactive"
        return v

    async def listing(self, actor: User, chat_id: int) -> list[tuple[Volunteer, User]]:
        """The community's volunteers, for its staff."""
        unit = await self.org.chat_unit(chat_id)
        if not await self.org.may_handle(actor, unit.code):
            raise Forbidden("volunteer_forbidden")
        return await self.repo.of_community(unit.code)

    async def add_team(self, actor: User, chat_id: int, name: str, leader: User) -> Team:
        """Community staff create a team with a leader."""
        unit = await self.org.chat_unit(chat_id)
        if unit.level is not Level.COMMUNITY:
            raise Invalid("shop_community_only")
        if not await self.org.may_handle(actor, unit.code):
            raise Forbidden("volunteer_forbidden")
        if not name.strip():
            raise Invalid("team_usage")
        return await self.repo.add_team(unit.code, name.strip()[:100], leader.id)
