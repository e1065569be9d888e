"""Volunteer activities: publish, sign up within capacity (waitlist beyond), cancel and promote, check in/out."""

from __future__ import annotations

import secrets
from datetime import timedelta

from domain.kernel.distance import distance_m
from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.events import AttendanceRecorded, EventBus
from domain.kernel.notices import Action, Audience, Notice, Notices, PostMode, Subject
from domain.kernel.people import PeopleService, User
from domain.kernel.time import Clock
from domain.org.model import Level
from domain.org.service import OrgService
from domain.volunteering.activity_file import ActivitySpec
from domain.volunteering.model import Activity, Signup
from domain.volunteering.ports import Activities, Volunteers
from domain.volunteering.rules import VolunteeringRules


def activity_params(act: Activity) -> dict[str, object]:
    """What a post or list shows of an activity."""
    return {
        "id": act.id,
        "title": act.title,
        "description": act.description,
        "place": act.place,
        "start": act.start,
        "end": act.end,
        "left": act.seats_left,
        "capacity": act.capacity,
        "points_rule": act.points_rule,
        "points": act.points,
    }


def reminder_tag(activity_id: int, user_id: int) -> str:
    """The tag of a person's reminders for an activity (withdrawn when they cancel)."""
    return f"remind:{activity_id}:{user_id}"


class ActivityService:
    """Sign-ups never exceed capacity; seat changes of one activity happen one at a time (a row lock)."""

    def __init__(
        self,
        acts: Activities,
        volunteers: Volunteers,
        org: OrgService,
        people: PeopleService,
        notices: Notices,
        events: EventBus,
        clock: Clock,
        rules: VolunteeringRules,
    ) -> None:
        self.acts = acts
        self.volunteers = volunteers
        self.org = org
        self.people = people
        self.notices = notices
        self.events = events
        self.clock = clock
        self.rules = rules

    async def _audiences(self, community: str) -> list[str]:
        # The community's own group and its grids' own groups (a grid without one is not posted to twice
        # through its community).
        codes = [community] + [u.code for u in await self.org.below(community, Level.GRID)]
        return [code for code in codes if await self.org.has_group(code)]

    async def _show(self, act: Activity, mode: PostMode) -> None:
        for code in await self._audiences(act.community_code):
            await self.notices.emit(
                Notice(
                    "activity.card",
                    Audience.unit(code),
                    activity_params(act),
                    (Action("activity.join", act.id),),
                    Subject("activity", act.id),
                    mode,
                )
            )

    async def publish(self, spec: ActivitySpec) -> Activity:
        """Store an activity and post it to its community's group and that community's grids' groups."""
        await self.org.community(spec.community)
        code = "".join(secrets.choice("23456789") for _ in range(4))
        act = await self.acts.add(spec, code, self.clock())
        await self._show(act, PostMode.NEW)
        return act

    async def get(self, activity_id: int, lock: bool = False) -> Activity:
        """A published activity (locked for seat changes when asked), or NotFound."""
        act = await (self.acts.lock(activity_id) if lock else self.acts.get(activity_id))
        if act is None or act.state != "published":
            raise NotFound("activity_not_found")
        return act

    async def join(self, user: User, activity_id: int) -> tuple[Activity, Signup]:
        """Sign up: a seat if one is free, else the waitlist; a repeat tap is the same sign-up."""
        # Seat changes of one activity are serialised: a cancel and a sign-up racing under READ COMMITTED could
        # otherwise free a seat while the sign-up lands on the waitlist.
        act = await self.get(activity_id, lock=True)
        now = self.clock()
        if now >= act.start - timedelta(hours=act.signup_cutoff_hours):
            raise Conflict("signup_closed")
        if act.team:
            vol = await self.volunteers.get(user.id)
            teams = await self.volunteers.teams(act.community_code)
            mine = next((tm.name for tm in teams if vol is not None and tm.id == vol.team_id), None)
            if mine != act.team or vol is None or not vol.active:
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
        # Whoever waits already comes first (nobody waits while a seat is free; if a past bug left it so,
        # it heals here).
        await self._fill_free_seats(act)
        state = "confirmed" if await self.acts.take_seat(act.id) else "waitlisted"
        await self.acts.set_signup(existing.id, None, state=state)
        existing.state = state
        if state == "confirmed":
            act.taken += 1
            await self._schedule_reminders(act, user.id)
            await self._show(act, PostMode.UPDATE)
        return act, existing

    async def _schedule_reminders(self, act: Activity, user_id: int) -> None:
        now = self.clock()
        for before in self.rules.reminders:
            at = act.start - before
            if at > now:
                kind = "activity.reminder_day" if before >= timedelta(hours=24) else "activity.reminder_hour"
                await self.notices.emit(
                    Notice(
                        kind,
                        Audience.person(user_id),
                        activity_params(act),
                        not_before=at,
                        tag=reminder_tag(act.id, user_id),
                    )
                )

    async def cancel(self, user: User, activity_id: int) -> Activity:
        """Cancel before the cutoff; a freed seat goes to the first on the waitlist, who is told."""
        act = await self.get(activity_id, lock=True)
        if self.clock() >= act.start - timedelta(hours=act.signup_cutoff_hours):
            raise Conflict("cancel_closed")
        mine = await self.acts.signup(act.id, user.id)
        if mine is None or mine.state not in ("confirmed", "waitlisted"):
            raise NotFound("not_signed_up")
        if not await self.acts.set_signup(mine.id, mine.state, state="cancelled"):
            raise Conflict("already_done")
        await self.notices.withdraw(reminder_tag(act.id, user.id))
        if mine.state == "confirmed":
            if not await self._promote_first(act):
                await self.acts.free_seat(act.id)
                act.taken -= 1
                await self._show(act, PostMode.UPDATE)
        return act

    async def _promote_first(self, act: Activity) -> bool:
        """Give a seat being freed to the first person waiting (who is told); False if nobody waits."""
        for waiting in await self.acts.waitlist(act.id):
            if await self.acts.set_signup(waiting.id, "waitlisted", state="confirmed"):
                await self._schedule_reminders(act, waiting.user_id)
                await self.notices.emit(
                    Notice("activity.promoted", Audience.person(waiting.user_id), activity_params(act))
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
        acts = await self.acts.upcoming(self.clock(), 50)
        vol = await self.volunteers.get(user.id) if user is not None else None
        if vol is not None and vol.community_code:
            acts.sort(key=lambda a: (a.community_code != vol.community_code, a.start))
        return acts[:limit]

    async def named_in(self, text: str, user: User | None = None) -> Activity | None:
        """The upcoming activity a message names ("帮我报名周六的楼道清理"), if one clearly matches its title."""
        said = _pairs(_plain(text))
        best: tuple[float, Activity] | None = None
        for act in await self.upcoming(user, 50):
            title = _pairs(_plain(act.title))
            if not title:
                continue
            # People paraphrase a title ("楼道杂物清理" for 楼道清理): most of its character pairs, in any order,
            # and at least two of them (one shared pair such as a weekday names nothing).
            hit = len(title & said)
            share = hit / len(title)
            if hit >= min(2, len(title)) and share >= 0.6 and (best is None or share > best[0]):
                best = (share, act)
        return best[1] if best else None

    async def mine(self, user: User) -> list[tuple[Activity, Signup]]:
        """The user's activities from yesterday on."""
        return await self.acts.mine(user.id, self.clock() - timedelta(days=1))

    async def check(
        self, user: User, activity_id: int, code: str | None, lat: float | None, lon: float | None, out: bool
    ) -> tuple[Activity, Signup]:
        """Check in or out with the organiser's code or a location near the place, during the activity."""
        act = await self.get(activity_id)
        mine = await self.acts.signup(act.id, user.id)
        if mine is None or mine.state not in ("confirmed", "attended"):
            raise Forbidden("not_confirmed")
        now = self.clock()
        late = self.rules.checkout_late if out else timedelta(0)
        if not (act.start - self.rules.checkin_early <= now <= act.end + late):
            raise Conflict("outside_window")
        if code is not None:
            if code.strip() != act.checkin_code:
                raise Invalid("wrong_code")
        elif lat is not None and lon is not None and act.lat is not None and act.lon is not None:
            if distance_m(lat, lon, act.lat, act.lon) > self.rules.checkin_radius_m:
                raise Invalid("too_far", radius=int(self.rules.checkin_radius_m))
        else:
            raise Invalid("checkin_needs_proof")
        if not out:
            if mine.checkin_at is None:
                await self.acts.set_signup(mine.id, None, checkin_at=now, state="attended")
                mine.checkin_at, mine.state = now, "attended"
            return act, mine
        if mine.checkin_at is None:
            raise Conflict("not_checked_in")
        if mine.checkout_at is not None:
            raise Conflict("already_done")
        start = max(mine.checkin_at, act.start)
        hours = round(max(0.0, min((now - start).total_seconds() / 3600, act.length_hours)), 2)
        await self.acts.set_signup(mine.id, None, checkout_at=now, hours=hours)
        mine.checkout_at, mine.hours = now, hours
        if hours > 0:
            earned = act.points if act.points_rule == "fixed" else round(hours * act.points)
            await self.events.publish(
                AttendanceRecorded(
                    user.id,
                    act.id,
                    act.title,
                    act.community_code,
                    hours,
                    "verified",
                    earned,
                    f"act:{act.id}:{user.id}",
                    f"act-points:{act.id}:{user.id}",
                )
            )
        return act, mine


def _plain(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _pairs(text: str) -> set[str]:
    """Adjacent character pairs: the unit of a Chinese title a paraphrase keeps."""
    return {text[i : i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text} if text else set()
