"""Fixed days (四定 … 固定日): 民情日 on the 5th and 25th, 群众接待日 and the three-party meeting on the 15th.

Each is a day of the month for some levels; when it falls on a day off it moves (to the next working day by
default). The groups of those levels are reminded the evening before and in the morning; staff record the
day's outcome — how many residents came, the matters raised — and each matter becomes a case with one tap.
"""

from __future__ import annotations

import datetime as dt
import functools
import zlib
from pathlib import Path

import yaml

from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.events import EventBus, MatterToFile
from domain.kernel.hours import QuietHours
from domain.kernel.markers import Markers
from domain.kernel.notices import Action, Audience, Notice, Notices, Word
from domain.kernel.people import User
from domain.kernel.time import CHINA_TZ, Clock, local
from domain.kernel.workdays import WorkCalendar
from domain.org.model import Level
from domain.org.service import OrgService
from domain.outreach.model import DayRecord, FixedDay
from domain.outreach.ports import DayRecords

DEFAULT_SCHEDULE = Path(__file__).with_name("fixed_days.yml")
EVE_AT, MORNING_AT = dt.time(18, 0), dt.time(8, 0)
MATTERS_MAX, MATTER_MAX = 20, 500


@functools.cache
def default_schedule() -> tuple[FixedDay, ...]:
    """The shipped schedule (read once)."""
    return load_schedule(None)


def load_schedule(path: Path | None = None) -> tuple[FixedDay, ...]:
    """The fixed days from YAML (the shipped schedule when no file is given); ValueError lists every problem."""
    target = path or DEFAULT_SCHEDULE
    data = yaml.safe_load(target.read_text(encoding="utf-8")) or {}
    raw = data.get("fixed_days", {}) if isinstance(data, dict) else None
    if raw is None and data == {}:
        return ()
    if not isinstance(raw, dict):
        raise ValueError(f"{target}: expected fixed_days: a mapping of names to days, levels, on_holiday")
    problems: list[str] = []
    out: list[FixedDay] = []
    for key, spec in raw.items():
        if not isinstance(spec, dict):
            problems.append(f"{key}: expected days, levels, on_holiday")
            continue
        days = spec.get("days")
        if not isinstance(days, list) or not days or not all(_day_of_month(d) for d in days):
            problems.append(f"{key}.days: a list of days of the month from 1 to 28, e.g. [5, 25]")
            days = []
        names = spec.get("levels")
        levels = []
        if not isinstance(names, list) or not names:
            problems.append(f"{key}.levels: a list of levels, e.g. [community, grid]")
            names = []
        for name in names:
            try:
                levels.append(Level(name))
            except ValueError:
                problems.append(f"{key}.levels: unknown level {name!r}")
        rule = spec.get("on_holiday", "next_workday")
        if rule not in ("next_workday", "previous_workday", "keep"):
            problems.append(f"{key}.on_holiday: next_workday, previous_workday or keep")
        out.append(FixedDay(str(key), tuple(days), tuple(levels), rule))
    if problems:
        raise ValueError(f"{target}: " + "; ".join(problems))
    return tuple(out)


def _day_of_month(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 28


def occurs(day: FixedDay, on: dt.date, calendar: WorkCalendar) -> bool:
    """Whether a fixed day falls on a date (after moving off days off, possibly into a neighbouring month)."""
    step = {"next_workday": 1, "previous_workday": -1}.get(day.on_holiday)
    first = on.replace(day=1)
    months = [(first - dt.timedelta(days=1)).replace(day=1), first, (first + dt.timedelta(days=31)).replace(day=1)]
    for month in months:
        for wanted in day.days:
            actual = month.replace(day=wanted)
            while step and not calendar.is_workday(actual):
                actual += dt.timedelta(days=step)
            if actual == on:
                return True
    return False


class FixedDayService:
    """Reminders before fixed days, and their outcome recorded."""

    def __init__(
        self,
        schedule: tuple[FixedDay, ...],
        records: DayRecords,
        org: OrgService,
        calendar: WorkCalendar,
        markers: Markers,
        notices: Notices,
        events: EventBus,
        clock: Clock,
        quiet: QuietHours | None = None,
    ) -> None:
        self.quiet = quiet or QuietHours()
        self.schedule = schedule
        self.records = records
        self.org = org
        self.calendar = calendar
        self.markers = markers
        self.notices = notices
        self.events = events
        self.clock = clock

    async def remind(self) -> int:
        """Post reminders that are due (the evening before, the morning of), each once per unit and day.

        Never in the quiet hours: a reminder not posted by then is not posted (tomorrow's "today" would be wrong),
        and a group bound later the same day still gets that day's reminder."""
        now = local(self.clock())
        if self.quiet.contains(now):
            return 0
        sent = 0
        for fixed in self.schedule:
            for which, day, at in (
                ("eve", now.date() + dt.timedelta(days=1), EVE_AT),
                ("morning", now.date(), MORNING_AT),
            ):
                if not occurs(fixed, day, self.calendar):
                    continue
                moment = dt.datetime.combine(day - dt.timedelta(days=1) if which == "eve" else day, at, CHINA_TZ)
                if now < moment:
                    continue
                units = [
                    u
                    for level in fixed.levels
                    for u in await self.org.of_level(level)
                    if await self.org.has_group(u.code)
                ]
                # Every sweep of the day passes here: one read once these groups were reminded, not one write each;
                # a group bound since makes a new set, so it is reminded too.
                groups = zlib.crc32(",".join(sorted(u.code for u in units)).encode())
                done = f"fixed:{fixed.key}:{day.isoformat()}:{which}:{groups:08x}"
                if await self.markers.seen(done):
                    continue
                for unit in units:
                    if not await self.markers.claim(f"fixed:{fixed.key}:{day.isoformat()}:{which}:{unit.code}"):
                        continue
                    await self.notices.emit(
                        Notice(
                            f"fixed.{which}",
                            Audience.unit(unit.code),
                            {"day": Word(f"fixed_day.{fixed.key}"), "date": day.isoformat(), "key": fixed.key},
                        )
                    )
                    sent += 1
                await self.markers.claim(done)
        return sent

    async def record(self, actor: User, unit_code: str, key: str, received: int, matters: list[str]) -> DayRecord:
        """Staff record the day's outcome; each matter is offered as a case with one tap."""
        if key not in {f.key for f in self.schedule}:
            raise Invalid("fixed_day_unknown")
        await self.org.require(actor, unit_code, "staff_forbidden")
        matters = [m.strip() for m in matters if m.strip()]
        if not 0 <= received <= 100_000 or len(matters) > MATTERS_MAX or any(len(m) > MATTER_MAX for m in matters):
            raise Invalid("fixed_day_usage")
        record = DayRecord(0, unit_code, local(self.clock()).date(), key, received, matters, [], actor.id)
        record.id = await self.records.add(record)
        await self.notices.emit(
            Notice(
                "fixed.recorded",
                Audience.unit(unit_code),
                {"day": Word(f"fixed_day.{key}"), "received": received, "matters": matters},
                tuple(Action("fixed.file", record.id, 0, str(i)) for i in range(len(matters))),
            )
        )
        return record

    async def file_matter(self, actor: User, record_id: int, index: int) -> str:
        """One tap: a raised matter becomes a case of the recording unit (once); returns its text."""
        record = await self.records.get(record_id)
        if record is None or not 0 <= index < len(record.matters):
            raise NotFound("stale_button")
        if not await self.org.may_handle(actor, record.unit_code):
            raise Forbidden("staff_forbidden")
        if not await self.records.mark_filed(record_id, index):
            raise Conflict("already_done")
        text = record.matters[index]
        await self.events.publish(MatterToFile(record.unit_code, text, actor.id, record_id, index))
        return text
