"""People's hours: nothing that is not urgent reaches anyone at night.

Quiet hours (default 21:00–08:00, Beijing time) hold back every notice the bot pushes to someone who did not
just act: a group post, a reminder, an overdue notice, a monthly board. Such a notice waits for the morning;
one scheduled for a moment inside the quiet hours (an activity reminder) comes the evening before instead,
while it is still ahead. Three kinds go at once: urgent notices (danger to life may wake people), answers to
the person who is acting right now, and edits of a post that is already in a chat (an edit makes no sound).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass

from domain.kernel.notices import AudienceKind, Notice, Notices, PostMode
from domain.kernel.time import CHINA_TZ, Clock, local

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class QuietHours:
    """A nightly window in Beijing time (start after end: it spans midnight); start == end: never quiet."""

    start: dt.time = dt.time(21, 0)
    end: dt.time = dt.time(8, 0)

    @staticmethod
    def parse(text: str) -> QuietHours:
        """'21:00-08:00' → QuietHours; ValueError if it is not a range of two times."""
        m = _RANGE.match(text or "")
        if m is None:
            raise ValueError(f"{text[:20]!r} is not a range like 21:00-08:00")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"{text[:20]!r} is not a range like 21:00-08:00")
        return QuietHours(dt.time(h1, m1), dt.time(h2, m2))

    @property
    def enabled(self) -> bool:
        """An empty window holds nothing back."""
        return self.start != self.end

    def contains(self, at: dt.datetime) -> bool:
        """Whether a moment falls inside the quiet hours."""
        if not self.enabled:
            return False
        t = local(at).time()
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def morning(self, at: dt.datetime) -> dt.datetime:
        """The first moment at or after `at` outside the quiet hours."""
        if not self.contains(at):
            return at
        here = local(at)
        day = here.date() if here.time() < self.end else here.date() + dt.timedelta(days=1)
        return dt.datetime.combine(day, self.end, CHINA_TZ)

    def evening_before(self, at: dt.datetime) -> dt.datetime:
        """The last moment before the quiet hours that contain `at` begin (a minute before they start)."""
        here = local(at)
        day = here.date() if here.time() >= self.start else here.date() - dt.timedelta(days=1)
        return dt.datetime.combine(day, self.start, CHINA_TZ) - dt.timedelta(minutes=1)

    def allowed(self, at: dt.datetime, now: dt.datetime, scheduled: bool) -> dt.datetime:
        """When a notice meant for `at` may go: `at` itself outside the quiet hours; else the evening before
        for a scheduled one that can still make it, else the morning after."""
        if not self.contains(at):
            return at
        if scheduled:
            before = self.evening_before(at)
            if before > now:
                return before
        return self.morning(at)


class HoursGuard:
    """The Notices every service writes to: holds back what must not wake anyone, passes the rest on."""

    def __init__(self, inner: Notices, clock: Clock, quiet: QuietHours) -> None:
        self.inner = inner
        self.clock = clock
        self.quiet = quiet
        # The person whose update is being handled: answers to them go at once, at any hour.
        self.actor_id: int | None = None

    def when(self, notice: Notice) -> dt.datetime | None:
        """The moment a notice may be delivered (None: now)."""
        if notice.urgent or not self.quiet.enabled or notice.mode in (PostMode.UPDATE, PostMode.CLOSE):
            return notice.not_before
        if notice.audience.kind is AudienceKind.PERSON and notice.audience.user_id == self.actor_id:
            return notice.not_before
        now = self.clock()
        at = notice.not_before or now
        later = self.quiet.allowed(at, now, scheduled=notice.not_before is not None and notice.not_before > now)
        return None if later == now else later

    async def emit(self, notice: Notice) -> None:
        """Pass it on, not before the moment it may go."""
        at = self.when(notice)
        if at != notice.not_before:
            notice = dataclasses.replace(notice, not_before=at)
        await self.inner.emit(notice)

    async def withdraw(self, tag: str) -> None:
        """Withdraw scheduled notices with this tag."""
        await self.inner.withdraw(tag)
