"""Broadcast notices: a street or community tells every group under it (a flood warning, a heating outage).

Staff see how many groups it will reach and confirm; the messages go out through the outbox at the platform's
pace, behind case messages; when every one has been delivered or refused, the sender gets a delivery report.
"""

from __future__ import annotations

from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.notices import Action, Audience, Notice, Notices
from domain.kernel.people import User
from domain.kernel.time import Clock
from domain.org.model import Level
from domain.org.service import OrgService
from domain.outreach.model import Broadcast
from domain.outreach.ports import Broadcasts

TEXT_MAX = 1000


def broadcast_tag(broadcast_id: int) -> str:
    """The tag of a broadcast's messages (what the delivery report counts)."""
    return f"broadcast:{broadcast_id}"


class BroadcastService:
    """Prepare, confirm, report."""

    def __init__(self, broadcasts: Broadcasts, org: OrgService, notices: Notices, clock: Clock) -> None:
        self.broadcasts = broadcasts
        self.org = org
        self.notices = notices
        self.clock = clock

    async def prepare(self, actor: User, unit_code: str, text: str, photo: str | None) -> Broadcast:
        """A draft broadcast and its audience (every unit with a group under the sender's level, itself too)."""
        unit = await self.org.get(unit_code)
        if unit.level not in (Level.STREET, Level.COMMUNITY):
            raise Invalid("notice_level")
        await self.org.require(actor, unit.code, "notice_forbidden")
        text = text.strip()
        if not text and not photo:
            raise Invalid("notice_usage")
        if len(text) > TEXT_MAX:
            raise Invalid("text_too_long", max=TEXT_MAX)
        below = [u.code for u in await self.org.below(unit.code) if u.level is not Level.DEPARTMENT]
        audience = [code for code in [unit.code, *below] if await self.org.has_group(code)]
        broadcast = Broadcast(0, unit.code, actor.id, text, photo, "draft", self.clock(), audience)
        broadcast.id = await self.broadcasts.add(broadcast)
        await self.notices.emit(
            Notice(
                "broadcast.confirm",
                Audience.unit(unit.code),
                {"groups": len(audience), "text": text},
                (Action("broadcast.send", broadcast.id), Action("broadcast.cancel", broadcast.id)),
            )
        )
        return broadcast

    async def _own(self, actor: User, broadcast_id: int) -> Broadcast:
        broadcast = await self.broadcasts.get(broadcast_id)
        if broadcast is None:
            raise NotFound("stale_button")
        if not await self.org.may_handle(actor, broadcast.unit_code):
            raise Forbidden("notice_forbidden")
        return broadcast

    async def confirm(self, actor: User, broadcast_id: int) -> Broadcast:
        """Send it (once)."""
        broadcast = await self._own(actor, broadcast_id)
        if not await self.broadcasts.set_state(broadcast.id, "draft", "sending"):
            raise Conflict("already_done")
        sender = await self.org.get(broadcast.unit_code)
        for code in broadcast.audience:
            await self.notices.emit(
                Notice(
                    "broadcast.message",
                    Audience.unit(code),
                    {"text": broadcast.text, "from": sender.name},
                    photo=broadcast.photo,
                    tag=broadcast_tag(broadcast.id),
                )
            )
        broadcast.state = "sending"
        return broadcast

    async def cancel(self, actor: User, broadcast_id: int) -> None:
        """Not sent after all."""
        broadcast = await self._own(actor, broadcast_id)
        if not await self.broadcasts.set_state(broadcast.id, "draft", "cancelled"):
            raise Conflict("already_done")

    async def sending(self) -> list[Broadcast]:
        """Broadcasts whose delivery report is still to come."""
        return await self.broadcasts.sending()

    async def delivered(self, broadcast_id: int, sent: list[str], failed: list[tuple[str, str]]) -> bool:
        """Every message is delivered or refused: the sender's group gets the report (once)."""
        broadcast = await self.broadcasts.get(broadcast_id)
        if broadcast is None or not await self.broadcasts.set_state(broadcast_id, "sending", "reported"):
            return False
        names = {u.code: u.name for u in await self.org.all()}
        await self.notices.emit(
            Notice(
                "broadcast.report",
                Audience.unit(broadcast.unit_code),
                {
                    "sent": len(sent),
                    "failed": len(failed),
                    "failures": [(names.get(code, code), reason) for code, reason in failed],
                },
            )
        )
        return True
