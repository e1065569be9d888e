"""Residents order, the community dispatches, a volunteer takes it (群众点单、组织下单、志愿者接单).

The order lifecycle in one table (who: requester = the resident who asked; volunteer = an approved
volunteer of any community or staff of the order's community; staff = staff of the order's community;
taker = whoever took it):

| action | from  | to    | who       | what happens                                                  |
|--------|-------|-------|-----------|---------------------------------------------------------------|
| when   | draft | draft | requester | the time is chosen                                            |
| post   | draft | open  | requester | the community's group gets the order with [接单]               |
| take   | open  | taken | volunteer | the post shows who took it; requester and taker are told      |
| assign | open  | taken | staff     | as take, for the volunteer staff chose                        |
| done   | taken | done  | taker     | the requester is asked to rate                                |
| rate   | done  | rated | requester | a good rating earns the taker points (OrderRated event)       |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.events import EventBus, OrderRated
from domain.kernel.notices import Action, Audience, Notice, Notices, PostMode, Subject, Word
from domain.kernel.people import User
from domain.kernel.privacy import mask_personal_numbers
from domain.kernel.rating import Rating
from domain.kernel.time import Clock
from domain.org.service import OrgService
from domain.volunteering.model import ServiceOrder
from domain.volunteering.ports import Orders, Volunteers
from domain.volunteering.rules import VolunteeringRules

WHEN_CHOICES = ("asap", "today", "tomorrow", "week")
WHAT_MAX = 500


@dataclass(frozen=True)
class Step:
    """One row of the order table."""

    action: str
    source: str
    target: str
    who: str


TABLE: tuple[Step, ...] = (
    Step("when", "draft", "draft", "requester"),
    Step("post", "draft", "open", "requester"),
    Step("take", "open", "taken", "volunteer"),
    Step("assign", "open", "taken", "staff"),
    Step("done", "taken", "done", "taker"),
    Step("rate", "done", "rated", "requester"),
)
STEPS = {s.action: s for s in TABLE}


class OrderService:
    """One taker per order (compare-and-set on the state), the requester told at each step."""

    def __init__(
        self,
        repo: Orders,
        volunteers: Volunteers,
        org: OrgService,
        notices: Notices,
        events: EventBus,
        clock: Clock,
        rules: VolunteeringRules,
    ) -> None:
        self.repo = repo
        self.volunteers = volunteers
        self.org = org
        self.notices = notices
        self.events = events
        self.clock = clock
        self.rules = rules

    async def _get(self, order_id: int) -> ServiceOrder:
        order = await self.repo.get(order_id)
        if order is None:
            raise NotFound("order_missing")
        return order

    async def _may(self, who: str, order: ServiceOrder, user: User) -> bool:
        if who == "requester":
            return order.requester_id == user.id
        if who == "taker":
            return order.volunteer_id == user.id
        staff = order.community_code is not None and await self.org.may_handle(user, order.community_code)
        if who == "staff":
            return staff
        registered = await self.volunteers.get(user.id)
        return staff or (registered is not None and registered.active)

    async def _step(self, action: str, order: ServiceOrder, user: User, **values: object) -> ServiceOrder:
        step = STEPS[action]
        if not await self._may(step.who, order, user):
            if step.who in ("requester", "taker"):
                raise NotFound("order_missing")  # someone else's order: as if it did not exist
            raise Forbidden("volunteer_forbidden" if step.who == "staff" else "order_volunteers_only")
        if order.state != step.source or not await self.repo.update(order.id, step.source, state=step.target, **values):
            raise Conflict("order_taken" if action in ("take", "assign") else "already_done")
        order.state = step.target
        for key, value in values.items():
            if hasattr(order, key):
                setattr(order, key, value)
        return order

    def _card(self, order: ServiceOrder, unit_name: str) -> dict[str, object]:
        return {
            "id": order.id,
            # A group sees the request, never the requester's numbers.
            "what": mask_personal_numbers(order.what),
            "when": Word(f"order.when_choice.{order.when_text or 'asap'}"),
            "unit": unit_name,
        }

    async def start(self, user: User, what: str) -> ServiceOrder:
        """Keep the request; the requester then picks when and which community."""
        what = what.strip()
        if not what:
            raise Invalid("empty_text")
        if len(what) > WHAT_MAX:
            raise Invalid("text_too_long", max=WHAT_MAX)
        return await self.repo.add(user.id, what, self.clock())

    async def when(self, user: User, order_id: int, when: str) -> ServiceOrder:
        """The requester's time choice."""
        if when not in WHEN_CHOICES:
            raise Invalid("stale_button")
        return await self._step("when", await self._get(order_id), user, when_text=when)

    async def post(self, user: User, order_id: int, community: str) -> ServiceOrder:
        """The requester's community: the order goes to its group with [接单]."""
        unit = await self.org.community(community)
        order = await self._step(
            "post", await self._get(order_id), user, community_code=unit.code, posted_at=self.clock()
        )
        await self.notices.emit(
            Notice(
                "order.card",
                Audience.unit(unit.code),
                self._card(order, unit.name),
                (Action("order.take", order.id),),
                Subject("order", order.id),
                PostMode.NEW,
            )
        )
        return order

    async def take(self, volunteer: User, order_id: int, by_staff: bool = False) -> ServiceOrder:
        """A volunteer (approved, of any community) or staff of the order's community takes it; one wins."""
        order = await self._get(order_id)
        community = order.community_code
        if community is None:
            raise NotFound("order_missing")
        if not by_staff:
            order = await self._step("take", order, volunteer, volunteer_id=volunteer.id)
        elif order.state != "open" or not await self.repo.update(
            order.id, "open", state="taken", volunteer_id=volunteer.id
        ):
            raise Conflict("order_taken")
        order.state, order.volunteer_id = "taken", volunteer.id
        unit = await self.org.get(community)
        await self.notices.emit(
            Notice(
                "order.card",
                Audience.unit(unit.code),
                {**self._card(order, unit.name), "taker": volunteer.display_name},
                subject=Subject("order", order.id),
                mode=PostMode.CLOSE,
            )
        )
        await self.notices.emit(
            Notice("order.coming", Audience.person(order.requester_id), {"id": order.id, "who": volunteer.display_name})
        )
        await self.notices.emit(
            Notice(
                "order.yours",
                Audience.person(volunteer.id),
                {"id": order.id, "what": order.what, "requester": order.requester_id},
                (Action("order.done", order.id),),
            )
        )
        return order

    async def assign(self, staff: User, order_id: int, volunteer: User) -> ServiceOrder:
        """Community staff give an open order to an approved volunteer (same single-winner rule)."""
        order = await self._get(order_id)
        if order.community_code is None:
            raise NotFound("order_missing")
        if not await self._may("staff", order, staff):
            raise Forbidden("volunteer_forbidden")
        registered = await self.volunteers.get(volunteer.id)
        if registered is None or not registered.active:
            raise Invalid("order_assign_volunteer")
        return await self.take(volunteer, order_id, by_staff=True)

    async def done(self, volunteer: User, order_id: int) -> ServiceOrder:
        """The volunteer finished; the requester is asked to rate."""
        order = await self._step("done", await self._get(order_id), volunteer)
        await self.notices.emit(
            Notice(
                "order.rate_ask",
                Audience.person(order.requester_id),
                {"id": order.id},
                tuple(Action("order.rate", order.id, 0, r.value) for r in Rating),
            )
        )
        return order

    async def rate(self, user: User, order_id: int, rating: str) -> ServiceOrder:
        """The requester's rating; a good one earns the volunteer points."""
        try:
            verdict = Rating(rating)
        except ValueError:
            raise Invalid("stale_button") from None
        order = await self._step("rate", await self._get(order_id), user, rating=verdict.value)
        if order.volunteer_id is not None:
            await self.events.publish(
                OrderRated(order.id, order.volunteer_id, order.community_code, verdict is not Rating.UNSATISFIED)
            )
        return order

    async def flag_untaken(self) -> int:
        """Tell community staff about orders nobody took in time (once per order)."""
        n = 0
        cutoff = self.clock() - timedelta(minutes=self.rules.order_untaken_minutes)
        for order in await self.repo.untaken(cutoff):
            if order.community_code is None or not await self.repo.update(order.id, "open", flagged=True):
                continue
            await self.notices.emit(
                Notice(
                    "order.flag",
                    Audience.unit(order.community_code),
                    {
                        "id": order.id,
                        "what": mask_personal_numbers(order.what[:60]),
                        "minutes": int(self.rules.order_untaken_minutes),
                    },
                )
            )
            n += 1
        return n
