"""Volunteer registration (own phone via the contact button, real name, community, optional team) and approval."""

from __future__ import annotations

import re

from domain.kernel.awaiting import Awaited, Conversation
from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.notices import Action, Audience, Notice, Notices, Phrase, PostMode, Subject
from domain.kernel.people import User
from domain.org.model import Level
from domain.org.service import OrgService
from domain.volunteering.model import Team, Volunteer
from domain.volunteering.ports import Volunteers

_NAME = re.compile(r"^[\u4e00-\u9fff·A-Za-z][\u4e00-\u9fff·A-Za-z .]{0,19}$")
TEAM_NAME_MAX = 100


def masked_phone(phone: str | None) -> str:
    """138****5678: staff recognise a number without reading it out."""
    digits = re.sub(r"\D", "", phone or "")[-11:]
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "-"


class VolunteerService:
    """Registration steps, each saved, so nothing typed is lost; community staff approve."""

    def __init__(self, repo: Volunteers, org: OrgService, conversation: Conversation, notices: Notices) -> None:
        self.repo = repo
        self.org = org
        self.conversation = conversation
        self.notices = notices

    async def get(self, user: User) -> Volunteer | None:
        """The user's registration."""
        return await self.repo.get(user.id)

    async def registered(self, user: User) -> bool:
        """Registration sent or approved."""
        v = await self.repo.get(user.id)
        return v is not None and v.state in ("pending", "active")

    async def start(self, user: User) -> Volunteer:
        """Begin (or start over) registration: the phone comes first."""
        v = await self.repo.get(user.id)
        if v is not None and v.state in ("pending", "active"):
            raise Conflict(f"volunteer_{v.state}")
        v = Volunteer(user.id)
        await self.repo.save(v)
        await self.conversation.expect(user.id, Awaited.VOLUNTEER_PHONE)
        return v

    async def contact(self, user: User, contact_user_id: str | None, phone: str) -> Volunteer:
        """Only the user's own contact (shared with the button) is accepted."""
        v = await self.repo.get(user.id)
        if v is None or v.step != "phone" or v.state != "draft":
            raise NotFound("no_registration")
        if contact_user_id != user.ref.external_id:
            raise Invalid("not_own_contact")
        v.phone, v.step = phone.strip()[:32], "name"
        await self.repo.save(v)
        await self.conversation.expect(user.id, Awaited.VOLUNTEER_NAME)
        return v

    async def name(self, user: User, name: str) -> Volunteer:
        """The real name, as on an ID card."""
        v = await self.repo.get(user.id)
        if v is None or v.step != "name" or v.state != "draft":
            raise NotFound("no_registration")
        name = name.strip()
        if not _NAME.match(name):
            raise Invalid("bad_name")
        v.real_name, v.step = name, "community"
        await self.repo.save(v)
        await self.conversation.done(user.id, Awaited.VOLUNTEER_NAME)
        return v

    async def community(self, user: User, code: str) -> tuple[Volunteer, list[Team]]:
        """The community; its teams are offered next (if it has any)."""
        v = await self.repo.get(user.id)
        if v is None or v.step != "community":
            raise NotFound("no_registration")
        unit = await self.org.community(code)
        v.community_code = unit.code
        teams = await self.repo.teams(unit.code)
        v.step = "team" if teams else None
        await self.repo.save(v)
        if not teams:
            await self._submit(v)
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
        await self._submit(v)
        return v

    async def _submit(self, v: Volunteer) -> None:
        v.state = "pending"
        await self.repo.save(v)
        assert v.community_code is not None
        await self.notices.emit(
            Notice(
                "volunteer.review",
                Audience.unit(v.community_code),
                {"name": v.real_name or "", "phone": masked_phone(v.phone)},
                (Action("volunteer.approve", v.user_id), Action("volunteer.reject", v.user_id)),
                Subject("volunteer", v.user_id),
                PostMode.NEW,
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
        # The review post shows the decision and loses its buttons.
        await self.notices.emit(
            Notice(
                "volunteer.review",
                Audience.unit(v.community_code),
                {
                    "name": v.real_name or "",
                    "phone": masked_phone(v.phone),
                    "status": Phrase(f"volunteer.decided.{state}", {"who": actor.display_name}),
                },
                subject=Subject("volunteer", user_id),
                mode=PostMode.CLOSE,
            )
        )
        await self.notices.emit(Notice(f"volunteer.{state}", Audience.person(user_id)))
        return v

    async def deactivate(self, actor: User, unit_code: str, target: User) -> Volunteer:
        """Community staff deactivate an active volunteer of their community."""
        v = await self.repo.get(target.id)
        if v is None or v.community_code is None:
            raise NotFound("no_registration")
        if not await self.org.may_handle(actor, v.community_code) or not await self.org.may_handle(actor, unit_code):
            raise Forbidden("volunteer_forbidden")
        if not await self.repo.set_state(target.id, "active", "inactive", actor.id):
            raise Conflict("already_done")
        v.state = "inactive"
        return v

    async def listing(self, actor: User, unit_code: str) -> list[tuple[Volunteer, User]]:
        """The community's volunteers, for its staff."""
        await self.org.require(actor, unit_code, "volunteer_forbidden")
        return await self.repo.of_community(unit_code)

    async def teams(self, community: str) -> list[Team]:
        """A community's teams."""
        return await self.repo.teams(community)

    async def add_team(self, actor: User, unit_code: str, name: str, leader: User) -> Team:
        """Community staff create a team with a leader."""
        unit = await self.org.get(unit_code)
        if unit.level is not Level.COMMUNITY:
            raise Invalid("shop_community_only")
        await self.org.require(actor, unit.code, "volunteer_forbidden")
        if not name.strip() or len(name.strip()) > TEAM_NAME_MAX:
            raise Invalid("team_usage")
        return await self.repo.add_team(unit.code, name.strip(), leader.id)
