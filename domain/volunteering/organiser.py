"""What an activity's community staff do afterwards: attendance, no-shows, back-filled hours, corrected times."""

from __future__ import annotations

import uuid

from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.events import AttendanceRecorded, EventBus
from domain.kernel.people import PeopleService, User
from domain.kernel.time import local
from domain.org.service import OrgService
from domain.volunteering.model import Activity, Signup
from domain.volunteering.ports import Activities


class OrganiserTools:
    """Every change of hours is an AttendanceRecorded event, so hours, points and stars move in one place."""

    def __init__(self, acts: Activities, org: OrgService, people: PeopleService, events: EventBus) -> None:
        self.acts = acts
        self.org = org
        self.people = people
        self.events = events

    async def _act_for_staff(self, actor: User, activity_id: int) -> Activity:
        act = await self.acts.get(activity_id)
        if act is None:
            raise NotFound("activity_not_found")
        if not await self.org.may_handle(actor, act.community_code):
            raise Forbidden("volunteer_forbidden")
        return act

    async def attendance(self, actor: User, activity_id: int) -> tuple[Activity, list[tuple[Signup, User | None]]]:
        """Every sign-up with its person."""
        act = await self._act_for_staff(actor, activity_id)
        return act, [(s, await self.people.get(s.user_id)) for s in await self.acts.signups(act.id)]

    async def no_show(self, actor: User, activity_id: int, target: User) -> Activity:
        """A confirmed volunteer who never checked in."""
        act = await self._act_for_staff(actor, activity_id)
        mine = await self.acts.signup(act.id, target.id)
        if mine is None or not await self.acts.set_signup(mine.id, "confirmed", state="no_show"):
            raise Conflict("not_confirmed_signup")
        return act

    async def backfill(self, actor: User, activity_id: int, target: User, hours: float) -> Activity:
        """Hours recorded by staff (e.g. a forgotten check-out): marked back-filled, counted, earning no points."""
        act = await self._act_for_staff(actor, activity_id)
        mine = await self.acts.signup(act.id, target.id)
        if mine is None or mine.state not in ("confirmed", "attended"):
            raise Conflict("not_confirmed_signup")
        if mine.hours is not None:
            raise Conflict("already_done")
        if not 0 < hours <= act.length_hours:
            raise Invalid("hours_amount")
        await self.acts.set_signup(mine.id, None, state="attended", hours=round(hours, 2))
        await self.events.publish(
            AttendanceRecorded(
                target.id,
                act.id,
                act.title,
                act.community_code,
                round(hours, 2),
                "backfill",
                0,
                f"act:{act.id}:{target.id}",
                "",
                actor.id,
            )
        )
        return act

    async def correct_times(self, actor: User, activity_id: int, target: User, start: str, end: str) -> float:
        """Correct a volunteer's times (HH:MM on the activity's day); the differences are booked as corrections."""
        act = await self._act_for_staff(actor, activity_id)
        mine = await self.acts.signup(act.id, target.id)
        if mine is None or mine.state not in ("confirmed", "attended"):
            raise Conflict("not_confirmed_signup")
        day = local(act.start)
        try:
            t_in = day.replace(hour=int(start[:2]), minute=int(start[3:5]), second=0, microsecond=0)
            t_out = day.replace(hour=int(end[:2]), minute=int(end[3:5]), second=0, microsecond=0)
        except (ValueError, IndexError):
            raise Invalid("organiser_usage") from None
        if t_out <= t_in:
            raise Invalid("organiser_usage")
        begin = max(t_in, act.start)
        hours = round(max(0.0, min((t_out - begin).total_seconds() / 3600, act.length_hours)), 2)
        old = mine.hours or 0.0
        await self.acts.set_signup(mine.id, None, state="attended", checkin_at=t_in, checkout_at=t_out, hours=hours)
        delta = round(hours - old, 2)
        points = round(hours * act.points) - round(old * act.points) if act.points_rule == "per_hour" else 0
        if delta or points:
            key = f"fix:{act.id}:{target.id}:{uuid.uuid4().hex[:8]}"
            await self.events.publish(
                AttendanceRecorded(
                    target.id, act.id, act.title, act.community_code, delta, "correction", points, key, key, actor.id
                )
            )
        return hours
