"""Residents order, the community dispatches, a volunteer takes it (群众点单、组织下单、志愿者接单)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.i18n import t
from domain.model import Button, Level, OutMessage, Rating, User

if TYPE_CHECKING:
    from domain.points import PointsService
    from domain.services import Context, OrgService

WHEN_CHOICES = ("asap", "today", "tomorrow", "week")
ORDER_POINTS = 10


@dataclass
class ServiceOrder:
    """A request for help."""

    id: int
    requester_id: int
    what: str
    state: str
    community_code: str | None = None
    when_text: str | None = None
    volunteer_id: int | None = None
    post_outbox_id: int | None = None
    rating: str | None = None


class Orders(Protocol):
    """Storage of service orders."""

    async def add(self, requester_id: int, what: str, at: datetime) -> ServiceOrder: ...

    async def get(self, order_id: int) -> ServiceOrder | None: ...

    async def update(self, order_id: int, expected: str, **values: object) -> bool: ...

    async def untaken(self, before: datetime) -> list[ServiceOrder]: ...


class OrderService:
    """One taker per order (compare-and-set), the requester told at each step, points on a good rating."""

    def __init__(self, ctx: Context, org: OrgService, points: PointsService) -> None:
        self.ctx = ctx
        self.org = org
        self.points = points
        self.repo: Orders = ctx.repos.orders

    async def start(self, user: User, what: str) -> ServiceOrder:
        """Keep the request; the requester then picks when and which community."""
        what = what.strip()
        if not what:
            raise Invalid("empty_text")
        if len(what) > 500:
            raise Invalid("text_too_long", max=500)
        return await self.repo.add(user.id, what, self.ctx.clock())

    async def _own(self, user: User, order_id: int, state: str = "draft") -> ServiceOrder:
        order = await self.repo.get(order_id)
        if order is None or order.requester_id != user.id:
            raise NotFound("order_missing")
        if order.state != state:
            raise Conflict("already_done")
        return order

    async def when(self, user: User, order_id: int, when: str) -> ServiceOrder:
        """The requester's time choice."""
        if when not in WHEN_CHOICES:
            raise Invalid("stale_button")
        order = await self._own(user, order_id)
        await self.repo.update(order.id, "draft", when_text=when)
        order.when_text = when
        return order

    async def post(self, user: User, order_id: int, community: str) -> ServiceOrder:
        """The requester's community: the order goes to its group with [接单]."""
        order = await self._own(user, order_id)
        unit = await self.ctx.repos.units.get(community)
        if unit is None or unit.level is not Level.COMMUNITY:
            raise Invalid("unknown_unit", code=community)
        _, target = await self.org.route_chat(unit.code)
        loc = self.ctx.group_locale
        post_id = None
        if target is not None and target.chat_id is not None:
            post_id = await self.ctx.repos.outbox.add(
                OutMessage(
                    target.chat_id,
                    self._text(order, loc, unit.name),
                    buttons=[[Button(t("order.take", loc), cb=("ord", {"a": "take", "id": order.id}))]],
                )
            )
        await self.repo.update(
            order.id,
            "draft",
            state="open",
            community_code=unit.code,
            post_outbox_id=post_id,
            posted_at=self.ctx.clock(),
        )
        order.state, order.community_code, order.post_outbox_id = "open", unit.code, post_id
        return order

    def _text(self, order: ServiceOrder, loc: str, unit: str, status: str | None = None) -> str:
        lines = [
            t("order.title", loc, id=order.id),
            t("order.what", loc, what=html.escape(order.what)),
            t("order.when", loc, when=t(f"order.when_choice.{order.when_text or 'asap'}", loc)),
            t("order.where", loc, unit=html.escape(unit)),
        ]
        if status:
            lines.append(status)
        return "\n".join(lines)

    async def take(self, volunteer: User, order_id: int) -> ServiceOrder:
        """A volunteer (active, of any community) or staff of the order's community takes it; exactly one wins."""
        order = await self.repo.get(order_id)
        if order is None or order.community_code is None:
            raise NotFound("order_missing")
        registered = await self.ctx.repos.volunteers.get(volunteer.id)
        if not (registered and registered.state == "active") and not await self.org.may_handle(
            volunteer, order.community_code
        ):
            raise Forbidden("order_volunteers_only")
        if order.state != "open" or not await self.repo.update(
            order.id, "open", state="taken", volunteer_id=volunteer.id
        ):
            raise Conflict("order_taken")
        order.state, order.volunteer_id = "taken", volunteer.id
        loc = self.ctx.group_locale
        unit = await self.ctx.repos.units.get(order.community_code)
        if order.post_outbox_id is not None:
            await self.ctx.repos.outbox.add(
                OutMessage(
                    0,
                    self._text(
                        order,
                        loc,
                        unit.name if unit else "",
                        t("order.taken_by", loc, who=html.escape(volunteer.display_name)),
                    ),
                    edit_outbox_id=order.post_outbox_id,
                )
            )
        requester = await self.ctx.repos.users.get(order.requester_id)
        if requester and requester.private_chat_id:
            await self.ctx.repos.outbox.add(
                OutMessage(
                    requester.private_chat_id,
                    t("order.coming", requester.locale, id=order.id, who=html.escape(volunteer.display_name)),
                )
            )
        if volunteer.private_chat_id and requester:
            await self.ctx.repos.outbox.add(
                OutMessage(
                    volunteer.private_chat_id,
                    t(
                        "order.yours",
                        volunteer.locale,
                        id=order.id,
                        what=html.escape(order.what),
                        link=f'<a href="tg://user?id={requester.ref.external_id}">{html.escape(requester.display_name)}</a>',
                    ),
                    buttons=[
                        [Button(t("order.done_button", volunteer.locale), cb=("ord", {"a": "done", "id": order.id}))]
                    ],
                )
            )
        return order

    async def assign(self, staff: User, order_id: int, volunteer: User) -> ServiceOrder:
        """Community staff give an open order to a registered volunteer (same single-winner rule)."""
        order = await self.repo.get(order_id)
        if order is None or order.community_code is None:
            raise NotFound("order_missing")
        if not await self.org.may_handle(staff, order.community_code):
            raise Forbidden("volunteer_forbidden")
        registered = await self.ctx.repos.volunteers.get(volunteer.id)
        if not (registered and registered.state == "active"):
            raise Invalid("order_assign_volunteer")
        return await self.take(volunteer, order_id)

    async def done(self, volunteer: User, order_id: int) -> ServiceOrder:
        """The volunteer finished; the requester is asked to rate."""
        order = await self.repo.get(order_id)
        if order is None or order.volunteer_id != volunteer.id:
            raise NotFound("order_missing")
        if not await self.repo.update(order.id, "taken", state="done"):
            raise Conflict("already_done")
        order.state = "done"
        requester = await self.ctx.repos.users.get(order.requester_id)
        if requester and requester.private_chat_id:
            await self.ctx.repos.outbox.add(
                OutMessage(
                    requester.private_chat_id,
                    t("order.rate_ask", requester.locale, id=order.id),
                    buttons=[
                        [
                            Button(t(f"rating.{r}", requester.locale), cb=("ord", {"a": r, "id": order.id}))
                            for r in ("satisfied", "basic", "unsatisfied")
                        ]
                    ],
                )
            )
        return order

    async def rate(self, user: User, order_id: int, rating: str) -> ServiceOrder:
        """The requester's rating; a good one earns the volunteer points."""
        verdict = Rating(rating)
        order = await self._own(user, order_id, "done")
        if not await self.repo.update(order.id, "done", state="rated", rating=verdict.value):
            raise Conflict("already_done")
        order.state, order.rating = "rated", verdict.value
        if verdict is not Rating.UNSATISFIED and order.volunteer_id is not None:
            await self.points.earn(
                order.volunteer_id,
                ORDER_POINTS,
                t("order.reason", self.ctx.group_locale, id=order.id),
                f"order:{order.id}",
                f"order:{order.id}",
                None,
                order.community_code,
            )
        return order

    async def flag_untaken(self) -> int:
        """Tell community staff about orders nobody took in time (once per order)."""
        n = 0
        for order in await self.repo.untaken(self.ctx.clock() - timedelta(minutes=self.ctx.order_untaken_minutes)):
            if order.community_code is None or not await self.repo.update(order.id, "open", flagged=True):
                continue
            _, target = await self.org.route_chat(order.community_code)
            if target is not None and target.chat_id is not None:
                await self.ctx.repos.outbox.add(
                    OutMessage(
                        target.chat_id,
                        t("order.flag", self.ctx.group_locale, id=order.id, what=html.escape(order.what[:60])),
                    )
                )
                n += 1
        return n
