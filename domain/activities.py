"""Volunteer activities: publish, sign up within capacity (waitlist beyond), cancel and promote, check in/out."""

from __future__ import annotations

import html
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from domain.activity_file import ActivitySpec
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.i18n import t
from domain.model import Button, Level, OutMessage, User
from domain.render import CHINA_TZ, local_time

if TYPE_CHECKING:
    from domain.points import PointsService
    from domain.services import Context, OrgService

REMINDERS = (timedelta(hours=24), timedelta(hours=1))
CHECKIN_EARLY = timedelta(minutes=30)


@dataclass
class Activity:
    """A published activity."""

    id: int
    community_code: str
    title: str
    description: str
    place: str
    lat: float | None
    lon: float | None
    start: datetime
    end: datetime
    capacity: int
    taken: int
    points_rule: str
    points: int
    team: str | None
    signup_cutoff_hours: float
    checkin_code: str
    state: str = "published"

    @property
    def seats_left(self) -> int:
        """Free confirmed seats."""
        return max(0, self.capacity - self.taken)

    @property
    def length_hours(self) -> float:
        """Scheduled length, the cap on hours credited."""
        return (self.end - self.start).total_seconds() / 3600


@dataclass
class Signup:
    """A person's place in an activity."""

    id: int
    activity_id: int
    user_id: int
    state: str
    checkin_at: datetime | None = None
    checkout_at: datetime | None = None
    hours: float | None = None
    reminder_ids: list[int] | None = None


class Activities(Protocol):
    """Storage of activities and sign-ups."""

    async def add(self, spec: ActivitySpec, code: str, at: datetime) -> Activity: ...

    async def get(self, activity_id: int) -> Activity | None: ...

    async def lock(self, activity_id: int) -> Activity | None: ...

    async def upcoming(self, now: datetime, limit: int) -> list[Activity]: ...

    async def take_seat(self, activity_id: int) -> bool: ...

    async def free_seat(self, activity_id: int) -> None: ...

    async def signup(self, activity_id: int, user_id: int) -> Signup | None: ...

    async def create_signup(self, activity_id: int, user_id: int, at: datetime) -> Signup | None: ...

    async def set_signup(self, signup_id: int, expected: str | None = None, **values: object) -> bool: ...

    async def waitlist(self, activity_id: int) -> list[Signup]: ...

    async def mine(self, user_id: int, since: datetime) -> list[tuple[Activity, Signup]]: ...

    async def signups(self, activity_id: int) -> list[Signup]: ...


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


class ActivityService:
    """Sign-ups never exceed capacity: a seat is a conditional counter update in the sign-up's transaction."""

    def __init__(self, ctx: Context, org: OrgService, points: PointsService) -> None:
        self.ctx = ctx
        self.repos = ctx.repos
        self.org = org
        self.points = points
        self.acts: Activities = ctx.repos.activities

    async def publish(self, spec: ActivitySpec) -> Activity:
        """Store an activity and post it to its community's group and that community's grids' groups."""
        community = await self.repos.units.get(spec.community)
        if community is None or community.level is not Level.COMMUNITY:
            raise Invalid("unknown_unit", code=spec.community)
        code = "".join(secrets.choice("23456789") for _ in range(4))
        act = await self.acts.add(spec, code, self.ctx.clock())
        loc = self.ctx.group_locale
        text = self.describe(act, loc, header=True)
        chats = [
            u.chat_id
            for u in await self.repos.units.all()
            if u.chat_id is not None and (u.code == community.code or u.parent_code == community.code)
        ]
        for chat in dict.fromkeys(chats):
            await self.repos.outbox.add(
                OutMessage(
                    chat, text, buttons=[[Button(t("act.signup_button", loc), cb=("act", {"a": "join", "id": act.id}))]]
                )
            )
        return act

    def describe(self, act: Activity, locale: str, header: bool = False) -> str:
        """An activity as people read it."""
        rule = t(f"act.rule.{act.points_rule}", locale, points=act.points)
        lines = (
            [t("act.title", locale, title=html.escape(act.title))] if header else [f"<b>{html.escape(act.title)}</b>"]
        )
        lines += [
            t("act.when", locale, start=local_time(act.start), end=local_time(act.end)[-5:]),
            t("act.where", locale, place=html.escape(act.place)),
            t("act.seats", locale, left=act.seats_left, capacity=act.capacity),
            rule,
        ]
        if act.description:
            lines.append(html.escape(act.description[:300]))
        return "\n".join(lines)

    async def _get(self, activity_id: int, lock: bool = False) -> Activity:
        act = await (self.acts.lock(activity_id) if lock else self.acts.get(activity_id))
        if act is None or act.state != "published":
            raise NotFound("activity_not_found")
        return act

    async def join(self, user: User, activity_id: int) -> tuple[Activity, Signup]:
        """Sign up: a seat if one is free, else the waitlist; a repeat tap is the same sign-up."""
        # Seat changes of one activity are serialised (a row lock): a cancel and a sign-up racing under READ
        # COMMITTED could otherwise free a seat while the sign-up lands on the waitlist.
        act = await self._get(activity_id, lock=True)
        now = self.ctx.clock()
        if now >= act.start - timedelta(hours=act.signup_cutoff_hours):
            raise Conflict("signup_closed")
        if act.team:
            vol = await self.repos.volunteers.get(user.id)
            teams = await self.repos.volunteers.teams(act.community_code)
            mine = next((tm.name for tm in teams if vol is not None and tm.id == vol.team_id), None)
            if mine != act.team or vol is None or vol.state != "active":
                raise Forbidden("team_only", team=act.team)
        existing = await self.acts.signup(act.id, user.id)
        if existing is not None and existing.state in ("confirmed", "waitlisted"):
            return act, existing
        if existing is None:
            existing = await self.acts.create_signup(act.id, user.id, now)
            if existing is None:  # a simultaneous tap by the same person created it
                again = await self.acts.signup(act.id, user.id)
                assert again is not None
                return act, again
        # Whoever waits already comes first (there is nobody waiting while a seat is free, but if a past bug
        # left it so, it heals here).
        await self._fill_free_seats(act)
        state = "confirmed" if await self.acts.take_seat(act.id) else "waitlisted"
        reminders = await self._schedule_reminders(act, user) if state == "confirmed" else []
        await self.acts.set_signup(existing.id, None, state=state, reminder_ids=reminders)
        existing.state = state
        return act, existing

    async def _schedule_reminders(self, act: Activity, user: User) -> list[int]:
        if not user.private_chat_id:
            return []
        ids = []
        now = self.ctx.clock()
        for before in REMINDERS:
            at = act.start - before
            if at > now:
                key = "act.remind_day" if before >= timedelta(hours=24) else "act.remind_hour"
                ids.append(
                    await self.repos.outbox.add(
                        OutMessage(
                            user.private_chat_id,
                            t(
                                key,
                                user.locale,
                                title=html.escape(act.title),
                                start=local_time(act.start),
                                place=html.escape(act.place),
                                code="",
                            ),
                            not_before=at,
                        )
                    )
                )
        return ids

    async def cancel(self, user: User, activity_id: int) -> Activity:
        """Cancel before the cutoff; a freed seat goes to the first on the waitlist, who is told."""
        act = await self._get(activity_id, lock=True)
        if self.ctx.clock() >= act.start - timedelta(hours=act.signup_cutoff_hours):
            raise Conflict("cancel_closed")
        mine = await self.acts.signup(act.id, user.id)
        if mine is None or mine.state not in ("confirmed", "waitlisted"):
            raise NotFound("not_signed_up")
        if not await self.acts.set_signup(mine.id, mine.state, state="cancelled"):
            raise Conflict("already_done")
        await self.repos.outbox.cancel(mine.reminder_ids or [])
        if mine.state == "confirmed":
            await self._promote_or_free(act)
        return act

    async def _promote_or_free(self, act: Activity) -> None:
        if not await self._promote_first(act):
            await self.acts.free_seat(act.id)

    async def _promote_first(self, act: Activity) -> bool:
        """Give the seat being freed to the first person waiting (who is told); False if nobody waits."""
        for waiting in await self.acts.waitlist(act.id):
            person = await self.repos.users.get(waiting.user_id)
            if person is None:
                continue
            if await self.acts.set_signup(waiting.id, "waitlisted", state="confirmed"):
                reminders = await self._schedule_reminders(act, person)
                await self.acts.set_signup(waiting.id, None, reminder_ids=reminders)
                if person.private_chat_id:
                    await self.repos.outbox.add(
                        OutMessage(
                            person.private_chat_id,
                            t("act.promoted", person.locale, title=html.escape(act.title), start=local_time(act.start)),
                        )
                    )
                return True
        return False

    async def _fill_free_seats(self, act: Activity) -> None:
        while act.taken < act.capacity and await self.acts.take_seat(act.id):
            if not await self._promote_first(act):
                await self.acts.free_seat(act.id)
                return
            act.taken += 1

    async def upcoming(self, user: User | None = None, limit: int = 10) -> list[Activity]:
        """Activities not started yet, soonest first; a registered volunteer sees their community's first."""
        acts = await self.acts.upcoming(self.ctx.clock(), 50)
        vol = await self.repos.volunteers.get(user.id) if user is not None else None
        if vol is not None and vol.community_code:
            acts.sort(key=lambda a: (a.community_code != vol.community_code, a.start))
        return acts[:limit]

    async def mine(self, user: User) -> list[tuple[Activity, Signup]]:
        """The user's activities from yesterday on."""
        return await self.acts.mine(user.id, self.ctx.clock() - timedelta(days=1))

    async def check(
        self, user: User, activity_id: int, code: str | None, lat: float | None, lon: float | None, out: bool
    ) -> tuple[Activity, Signup, int | None]:
        """Check in or out with the organiser's code or a location near the place, during the activity."""
        act = await self._get(activity_id)
        mine = await self.acts.signup(act.id, user.id)
        if mine is None or mine.state not in ("confirmed", "attended"):
            raise Forbidden("not_confirmed")
        now = self.ctx.clock()
        if not (act.start - CHECKIN_EARLY <= now <= act.end + (timedelta(hours=2) if out else timedelta(0))):
            raise Conflict("outside_window")
        if code is not None:
            if code.strip() != act.checkin_code:
                raise Invalid("wrong_code")
        elif lat is not None and lon is not None and act.lat is not None and act.lon is not None:
            if _distance_m(lat, lon, act.lat, act.lon) > self.ctx.checkin_radius_m:
                raise Invalid("too_far", radius=int(self.ctx.checkin_radius_m))
        else:
            raise Invalid("checkin_needs_proof")
        if not out:
            if mine.checkin_at is None:
                await self.acts.set_signup(mine.id, None, checkin_at=now, state="attended")
                mine.checkin_at, mine.state = now, "attended"
            return act, mine, None
        if mine.checkin_at is None:
            raise Conflict("not_checked_in")
        if mine.checkout_at is not None:
            raise Conflict("already_done")
        start = max(mine.checkin_at, act.start)
        hours = round(max(0.0, min((now - start).total_seconds() / 3600, act.length_hours)), 2)
        await self.acts.set_signup(mine.id, None, checkout_at=now, hours=hours)
        mine.checkout_at, mine.hours = now, hours
        star = None
        if hours > 0:
            star = await self.points.add_hours(user, hours, "verified", f"act:{act.id}:{user.id}", f"activity:{act.id}")
            earned = act.points if act.points_rule == "fixed" else round(hours * act.points)
            if earned > 0:
                await self.points.earn(
                    user.id,
                    earned,
                    act.title,
                    f"act-points:{act.id}:{user.id}",
                    f"activity:{act.id}",
                    None,
                    act.community_code,
                )
        return act, mine, star


class OrganiserTools:
    """What an activity's community staff do afterwards: see attendance, record no-shows, back-fill hours."""

    def __init__(self, svc: ActivityService) -> None:
        self.svc = svc

    async def _act_for_staff(self, actor: User, activity_id: int) -> Activity:
        act = await self.svc.acts.get(activity_id)
        if act is None:
            raise NotFound("activity_not_found")
        if not await self.svc.org.may_handle(actor, act.community_code):
            raise Forbidden("volunteer_forbidden")
        return act

    async def attendance(self, actor: User, activity_id: int) -> tuple[Activity, list[tuple[Signup, User | None]]]:
        """Every sign-up with its person."""
        act = await self._act_for_staff(actor, activity_id)
        rows = [(s, await self.svc.repos.users.get(s.user_id)) for s in await self.svc.acts.signups(act.id)]
        return act, rows

    async def no_show(self, actor: User, activity_id: int, target: User) -> Activity:
        """A confirmed volunteer who never checked in."""
        act = await self._act_for_staff(actor, activity_id)
        mine = await self.svc.acts.signup(act.id, target.id)
        if mine is None or not await self.svc.acts.set_signup(mine.id, "confirmed", state="no_show"):
            raise Conflict("not_confirmed_signup")
        return act

    async def backfill(self, actor: User, activity_id: int, target: User, hours: float) -> Activity:
        """Hours recorded by staff (e.g. a forgotten check-out): marked back-filled, counted, earning no points."""
        act = await self._act_for_staff(actor, activity_id)
        mine = await self.svc.acts.signup(act.id, target.id)
        if mine is None or mine.state not in ("confirmed", "attended"):
            raise Conflict("not_confirmed_signup")
        if mine.hours is not None:
            raise Conflict("already_done")
        if not 0 < hours <= act.length_hours:
            raise Invalid("hours_amount")
        await self.svc.acts.set_signup(mine.id, None, state="attended", hours=round(hours, 2))
        await self.svc.points.add_hours(
            target, hours, "backfill", f"act:{act.id}:{target.id}", f"activity:{act.id}", actor.id
        )
        return act

    async def correct_times(self, actor: User, activity_id: int, target: User, start: str, end: str) -> float:
        """Correct a volunteer's times (HH:MM on the activity's day); hours and points change by ledger rows."""
        act = await self._act_for_staff(actor, activity_id)
        mine = await self.svc.acts.signup(act.id, target.id)
        if mine is None or mine.state not in ("confirmed", "attended"):
            raise Conflict("not_confirmed_signup")
        day = act.start.astimezone(CHINA_TZ)
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
        await self.svc.acts.set_signup(mine.id, None, state="attended", checkin_at=t_in, checkout_at=t_out, hours=hours)
        delta = round(hours - old, 2)
        key = f"fix:{act.id}:{target.id}:{uuid.uuid4().hex[:8]}"
        if delta:
            await self.svc.points.add_hours(target, delta, "correction", key, f"activity:{act.id}", actor.id)
        if act.points_rule == "per_hour":
            points_delta = round(hours * act.points) - round(old * act.points)
            if points_delta > 0:
                await self.svc.points.earn(
                    target.id,
                    points_delta,
                    act.title,
                    key,
                    f"activity:{act.id}",
                    actor.id,
                    act.community_code,
                    kind="adjust",
                )
            elif points_delta < 0:
                try:
                    await self.svc.points.spend(
                        target.id,
                        -points_delta,
                        act.title,
                        key,
                        f"activity:{act.id}",
                        kind="adjust",
                        operator_id=actor.id,
                    )
                except Conflict:
                    raise Conflict("correction_spent") from None
        return hours
