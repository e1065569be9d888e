"""In-memory fakes of the domain's ports: the rules run in microseconds, without a database or Telegram."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.cases.model import Case, CaseEvent, CaseState, Deadline, DepartmentCall, Draft, LabelledExample
from domain.kernel.awaiting import Awaiting
from domain.kernel.notices import NoticeLog
from domain.kernel.people import Role, User, UserRef
from domain.org.model import AuditEntry, ChannelRef, Level, Unit
from domain.points.model import LedgerEntry
from domain.services import Ports, Rules, Services
from domain.volunteering.activity_file import ActivitySpec
from domain.volunteering.model import Activity, Signup, Team, Volunteer
from tests.fakes import civic


class Clock:
    """A clock moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class People:
    """Users."""

    def __init__(self) -> None:
        self.rows: dict[int, User] = {}
        self.ids = itertools.count(1)

    async def upsert(self, ref: UserRef, name: str, username: str | None, locale: str | None, reachable: bool) -> User:
        """Find or create."""
        for u in self.rows.values():
            if u.ref == ref:
                u.reachable = u.reachable or reachable
                return u
        user = User(next(self.ids), ref, name, None, locale or "zh-CN", username, reachable)
        self.rows[user.id] = user
        return user

    async def get(self, user_id: int) -> User | None:
        """By id."""
        return self.rows.get(user_id)

    async def many(self, user_ids: set[int]) -> dict[int, User]:
        """By ids."""
        return {i: self.rows[i] for i in user_ids if i in self.rows}

    async def by_ref(self, ref: UserRef) -> User | None:
        """By platform id."""
        return next((u for u in self.rows.values() if u.ref == ref), None)

    async def by_username(self, username: str) -> User | None:
        """By @username."""
        return next((u for u in self.rows.values() if (u.username or "").lower() == username.lstrip("@").lower()), None)

    async def set_role(self, user_id: int, role: Role) -> None:
        """Rider or resident."""
        self.rows[user_id].role = role


class Units:
    """A small hierarchy: street S, communities C1 and C2, grids G1, G2 (in C1) and G3 (in C2)."""

    def __init__(self) -> None:
        square = {
            "type": "Polygon",
            "coordinates": [[[117.0, 36.6], [117.01, 36.6], [117.01, 36.61], [117.0, 36.61], [117.0, 36.6]]],
        }
        self.rows = {
            u.code: u
            for u in (
                Unit("S", "街道", Level.STREET, None),
                Unit("C1", "一社区", Level.COMMUNITY, "S"),
                Unit("C2", "二社区", Level.COMMUNITY, "S"),
                Unit("G1", "一网格", Level.GRID, "C1", square),
                Unit("G2", "二网格", Level.GRID, "C1"),
                Unit("G3", "三网格", Level.GRID, "C2"),
            )
        }
        self.channels: dict[str, str] = {}

    async def all(self) -> list[Unit]:
        """Every unit."""
        return list(self.rows.values())

    async def of_level(self, level: Level, parent: str | None = None) -> list[Unit]:
        """Units of one level (under one parent when given), by code."""
        return sorted(
            (u for u in self.rows.values() if u.level is level and (parent is None or u.parent_code == parent)),
            key=lambda u: u.code,
        )

    async def get(self, code: str) -> Unit | None:
        """By code."""
        return self.rows.get(code)

    async def replace_all(self, units: list[Unit]) -> tuple[int, int]:
        """Not needed by the rules."""
        raise NotImplementedError

    async def revision(self) -> int:
        """Never moves."""
        return 1

    async def channel(self, code: str, platform: str) -> str | None:
        """The unit's own group."""
        return self.channels.get(code)

    async def has_channel(self, code: str) -> bool:
        """Has a group."""
        return code in self.channels

    async def by_channel(self, channel: ChannelRef) -> Unit | None:
        """The unit of a group."""
        return next((self.rows[c] for c, a in self.channels.items() if a == channel.address), None)

    async def bind(self, code: str, channel: ChannelRef) -> None:
        """Bind."""
        self.channels[code] = channel.address

    async def unbind(self, channel: ChannelRef) -> list[str]:
        """Unbind."""
        codes = [c for c, a in self.channels.items() if a == channel.address]
        for c in codes:
            del self.channels[c]
        return codes


class Staff:
    """Staff membership."""

    def __init__(self, people: People) -> None:
        self.people = people
        self.rows: set[tuple[str, int]] = set()
        self.roles: dict[tuple[str, int], str] = {}

    async def add(self, unit_code: str, user_id: int, added_by: int | None) -> bool:
        """Add."""
        new = (unit_code, user_id) not in self.rows
        self.rows.add((unit_code, user_id))
        return new

    async def remove(self, unit_code: str, user_id: int) -> bool:
        """Remove."""
        had = (unit_code, user_id) in self.rows
        self.rows.discard((unit_code, user_id))
        return had

    async def units_of(self, user_id: int) -> list[str]:
        """Codes."""
        return [c for c, u in self.rows if u == user_id]

    async def members(self, unit_code: str) -> list[User]:
        """People."""
        return [self.people.rows[u] for c, u in self.rows if c == unit_code]

    async def set_role(self, unit_code: str, user_id: int, role: str) -> bool:
        """Worker or head."""
        if (unit_code, user_id) not in self.rows:
            return False
        self.roles[(unit_code, user_id)] = role
        return True

    async def with_role(self, unit_code: str, role: str) -> list[User]:
        """Members with a role."""
        return [self.people.rows[u] for (c, u), r in self.roles.items() if c == unit_code and r == role]


class Cases:
    """Cases with compare-and-set transitions."""

    def __init__(self) -> None:
        self.rows: dict[int, Case] = {}
        self.log: list[CaseEvent] = []
        self.seq: dict[str, int] = {}

    async def next_seq(self, day: str) -> int:
        """Numbers per day."""
        self.seq[day] = self.seq.get(day, 0) + 1
        return self.seq[day]

    async def add(self, case: Case) -> Case:
        """Insert."""
        case = dataclasses.replace(case, id=len(self.rows) + 1)
        self.rows[case.id] = case
        return dataclasses.replace(case)

    async def get(self, case_id: int) -> Case | None:
        """A copy, as a database would give."""
        found = self.rows.get(case_id)
        return dataclasses.replace(found) if found else None

    async def transition(self, case_id: int, expected: CaseState, rev: int, to: CaseState, **changes: object) -> bool:
        """Compare-and-set on (state, rev)."""
        case = self.rows[case_id]
        if case.state is not expected or case.rev != rev:
            return False
        self.rows[case_id] = dataclasses.replace(case, state=to, rev=rev + 1, **changes)  # type: ignore[arg-type]
        return True

    async def add_event(self, event: CaseEvent) -> None:
        """Record."""
        self.log.append(event)

    async def events(self, case_id: int) -> list[CaseEvent]:
        """Timeline."""
        return [e for e in self.log if e.case_id == case_id]

    async def by_reporter(self, user_id: int, limit: int) -> list[Case]:
        """Newest first."""
        return sorted((c for c in self.rows.values() if c.reporter_id == user_id), key=lambda c: -c.id)[:limit]

    async def open_near(self, category: str, since: datetime, lat: float, lon: float, radius_m: float) -> list[Case]:
        """Open cases of the category from `since` (the service measures the distance)."""
        return [
            dataclasses.replace(c)
            for c in self.rows.values()
            if c.category == category and c.state.value in ("new", "claimed", "on_site") and c.created_at >= since
        ]

    async def open_in(self, units: list[str], limit: int) -> list[Case]:
        """Open cases of these units, newest first."""
        open_ = ("new", "claimed", "on_site")
        found = [c for c in self.rows.values() if c.unit_code in units and c.state.value in open_]
        return sorted(found, key=lambda c: -c.id)[:limit]

    async def open_with_photo(self, photo_unique_id: str) -> list[Case]:
        """Open cases with the same photo."""
        return [dataclasses.replace(c) for c in self.rows.values() if c.photo_unique_id == photo_unique_id]

    async def set_fields(self, case_id: int, **changes: object) -> None:
        """Not a transition."""
        self.rows[case_id] = dataclasses.replace(self.rows[case_id], **changes)  # type: ignore[arg-type]

    async def by_number(self, number: str) -> Case | None:
        """By number."""
        return next((dataclasses.replace(c) for c in self.rows.values() if c.number == number), None)

    async def in_month(self, units: list[str], start: datetime, end: datetime) -> list[Case]:
        """Received in [start, end), first sent to one of the units."""
        return [
            dataclasses.replace(c)
            for c in self.rows.values()
            if (c.origin_unit or c.unit_code) in units and start <= c.created_at < end
        ]

    async def events_of(self, case_ids: list[int]) -> list[CaseEvent]:
        """Timelines."""
        return [e for e in self.log if e.case_id in case_ids]

    async def with_action(self, case_ids: list[int], action: str) -> set[int]:
        """Cases with an event of this action."""
        wanted = set(case_ids)
        return {e.case_id for e in self.log if e.case_id in wanted and e.action == action}


class Deadlines:
    """Clocks."""

    def __init__(self) -> None:
        self.rows: dict[int, Deadline] = {}

    async def add(self, deadline: Deadline) -> int:
        """Insert."""
        deadline = dataclasses.replace(deadline, id=len(self.rows) + 1)
        self.rows[deadline.id] = deadline
        return deadline.id

    async def open_for(self, case_id: int) -> list[Deadline]:
        """Running clocks."""
        return [dataclasses.replace(d) for d in self.rows.values() if d.case_id == case_id and d.state == "open"]

    async def update(self, deadline_id: int, expected_state: str, **values: object) -> bool:
        """Compare-and-set."""
        d = self.rows[deadline_id]
        if d.state != expected_state:
            return False
        self.rows[deadline_id] = dataclasses.replace(d, **values)  # type: ignore[arg-type]
        return True

    async def due(self, now: datetime, limit: int) -> list[Deadline]:
        """Something due by now."""
        found = [
            d
            for d in self.rows.values()
            if d.state == "open" and d.paused_at is None and d.next_at and d.next_at <= now
        ]
        return [dataclasses.replace(d) for d in sorted(found, key=lambda d: d.next_at or now)][:limit]

    async def of_cases(self, case_ids: list[int]) -> list[Deadline]:
        """Every clock of the cases."""
        return [dataclasses.replace(d) for d in self.rows.values() if d.case_id in case_ids]


class Followers:
    """People following cases."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int]] = []

    async def add(self, case_id: int, user_id: int, at: datetime) -> bool:
        """Once."""
        if (case_id, user_id) in self.rows:
            return False
        self.rows.append((case_id, user_id))
        return True

    async def of_case(self, case_id: int) -> list[int]:
        """Who follows."""
        return [u for c, u in self.rows if c == case_id]

    async def counts(self, case_ids: list[int]) -> dict[int, int]:
        """How many follow each case."""
        return {c: len(await self.of_case(c)) for c in case_ids if await self.of_case(c)}


class Calls:
    """Departments called to cases."""

    def __init__(self) -> None:
        self.rows: dict[tuple[int, str], DepartmentCall] = {}

    async def add(self, call: DepartmentCall) -> bool:
        """Once."""
        if (call.case_id, call.department) in self.rows:
            return False
        self.rows[(call.case_id, call.department)] = call
        return True

    async def get(self, case_id: int, department: str) -> DepartmentCall | None:
        """One."""
        found = self.rows.get((case_id, department))
        return dataclasses.replace(found) if found else None

    async def of_case(self, case_id: int) -> list[DepartmentCall]:
        """All of a case."""
        return [dataclasses.replace(c) for (k, _), c in self.rows.items() if k == case_id]

    async def update(self, case_id: int, department: str, expected_state: str, **values: object) -> bool:
        """Compare-and-set."""
        c = self.rows.get((case_id, department))
        if c is None or c.state != expected_state:
            return False
        self.rows[(case_id, department)] = dataclasses.replace(c, **values)  # type: ignore[arg-type]
        return True

    async def of_cases(self, case_ids: list[int]) -> list[DepartmentCall]:
        """Calls of many cases."""
        return [c for c in self.rows.values() if c.case_id in set(case_ids)]

    async def of_department(self, department: str, since: datetime, until: datetime) -> list[DepartmentCall]:
        """A department's calls in a period."""
        return [c for c in self.rows.values() if c.department == department and since <= c.called_at < until]


class KeyValue:
    """Drafts, awaited replies, markers, examples, offers and forms: whatever is kept by a key."""

    def __init__(self) -> None:
        self.rows: dict[Any, Any] = {}

    # Drafts
    async def get(self, key: Any, kind: str | None = None) -> Any:
        """By key."""
        return self.rows.get((key, kind) if kind else key)

    async def save(self, item: Any, kind: str | None = None, data: Any = None) -> None:
        """Drafts are saved whole; forms by (user, kind)."""
        if isinstance(item, Draft):
            self.rows[item.user_id] = dataclasses.replace(item)
        else:
            self.rows[(item, kind)] = dict(data)

    async def delete(self, key: Any, kind: str | None = None) -> None:
        """Drop."""
        self.rows.pop((key, kind) if kind else key, None)

    # Awaited replies
    async def put(self, user_id: int, awaiting: Awaiting) -> None:
        """Replace."""
        self.rows[("await", user_id)] = awaiting

    async def clear(self, user_id: int) -> None:
        """Forget."""
        self.rows.pop(("await", user_id), None)

    # Markers
    async def claim(self, key: str) -> bool:
        """Once."""
        if ("marker", key) in self.rows:
            return False
        self.rows[("marker", key)] = True
        return True

    async def seen(self, key: str) -> bool:
        """Set before."""
        return ("marker", key) in self.rows

    async def forget(self, key: str) -> None:
        """Cleared."""
        self.rows.pop(("marker", key), None)


class Awaitings(KeyValue):
    """One awaited reply per person."""

    async def get(self, key: Any, kind: str | None = None) -> Any:
        """The awaited reply."""
        return self.rows.get(("await", key))


class Examples:
    """Labelled examples."""

    def __init__(self) -> None:
        self.rows: list[LabelledExample] = []

    async def add(self, example: LabelledExample) -> int:
        """Store."""
        example.id = len(self.rows) + 1
        self.rows.append(example)
        return example.id

    async def get(self, example_id: int) -> LabelledExample | None:
        """By id."""
        return self.rows[example_id - 1] if 0 < example_id <= len(self.rows) else None

    async def answer(self, example_id: int, intent: str, category: str | None) -> bool:
        """Once."""
        ex = self.rows[example_id - 1]
        if ex.intent is not None:
            return False
        ex.intent, ex.category = intent, category
        return True

    async def answered(self) -> list[LabelledExample]:
        """Labelled ones."""
        return [e for e in self.rows if e.intent]


class Ledger:
    """Points and hours, balance never below zero."""

    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []
        self.keys: set[str] = set()
        self.balances: dict[int, list[Any]] = {}

    def _b(self, user_id: int) -> list[Any]:
        return self.balances.setdefault(user_id, [0, 0.0, 0])

    async def append(self, entry: LedgerEntry) -> bool:
        """Once per key."""
        if entry.key in self.keys:
            return False
        self.keys.add(entry.key)
        self.entries.append(entry)
        return True

    async def credit(self, user_id: int, amount: int) -> None:
        """Add."""
        self._b(user_id)[0] += amount

    async def debit(self, user_id: int, amount: int) -> bool:
        """Take if covered."""
        b = self._b(user_id)
        if b[0] < amount:
            return False
        b[0] -= amount
        return True

    async def standing(self, user_id: int) -> tuple[int, float, int]:
        """Balance, hours, stars."""
        b = self._b(user_id)
        return b[0], b[1], b[2]

    async def recent(self, user_id: int, n: int) -> list[LedgerEntry]:
        """Last entries."""
        return [e for e in self.entries if e.user_id == user_id][-n:]

    async def add_hours(self, user_id: int, hours: float, kind: str, ref: str | None, key: str, op: int | None) -> bool:
        """Once per key."""
        if ("h", key) in self.keys:  # type: ignore[comparison-overlap]
            return False
        self.keys.add(("h", key))  # type: ignore[arg-type]
        self._b(user_id)[1] += hours
        return True

    async def set_star_level(self, user_id: int, level: int) -> None:
        """Stars."""
        self._b(user_id)[2] = level

    async def ledger_totals(self) -> dict[int, tuple[int, float]]:
        """Not needed by the rules."""
        raise NotImplementedError

    async def cached_totals(self) -> dict[int, tuple[int, float]]:
        """Not needed by the rules."""
        raise NotImplementedError

    async def set_cached(self, user_id: int, balance: int, hours: float) -> None:
        """Not needed by the rules."""
        raise NotImplementedError

    async def top_earners(self, community: str, since: datetime, until: datetime, n: int) -> list[tuple[int, int]]:
        """Who earned most in a community in [since, until)."""
        earned: dict[int, int] = {}
        for e in self.entries:
            at = e.created_at
            if e.community_code == community and e.amount > 0 and at is not None and since <= at < until:
                earned[e.user_id] = earned.get(e.user_id, 0) + e.amount
        return sorted(earned.items(), key=lambda x: (-x[1], x[0]))[:n]

    async def expiry_inputs(self, cutoff: datetime) -> list[tuple[int, int, int, int, int]]:
        """Not needed by the rules."""
        return []


class Activities:
    """Activities with a seat counter and sign-ups."""

    def __init__(self) -> None:
        self.rows: dict[int, Activity] = {}
        self.signups_: dict[int, Signup] = {}

    async def add(self, spec: ActivitySpec, code: str, at: datetime) -> Activity:
        """Publish."""
        act = Activity(len(self.rows) + 1, spec.community, spec.title, spec.description, spec.place, spec.lat, spec.lon,
                       spec.start, spec.end, spec.capacity, 0, spec.points_rule, spec.points, spec.team,
                       spec.signup_cutoff_hours, code)  # fmt: skip
        self.rows[act.id] = act
        return dataclasses.replace(act)

    async def get(self, activity_id: int) -> Activity | None:
        """A copy."""
        a = self.rows.get(activity_id)
        return dataclasses.replace(a) if a else None

    lock = get

    async def upcoming(self, now: datetime, limit: int) -> list[Activity]:
        """Not started."""
        return [dataclasses.replace(a) for a in self.rows.values() if a.start > now][:limit]

    async def take_seat(self, activity_id: int) -> bool:
        """Conditional counter."""
        a = self.rows[activity_id]
        if a.taken >= a.capacity:
            return False
        a.taken += 1
        return True

    async def free_seat(self, activity_id: int) -> None:
        """Free one."""
        self.rows[activity_id].taken = max(0, self.rows[activity_id].taken - 1)

    async def signup(self, activity_id: int, user_id: int) -> Signup | None:
        """A person's."""
        s = next((s for s in self.signups_.values() if (s.activity_id, s.user_id) == (activity_id, user_id)), None)
        return dataclasses.replace(s) if s else None

    async def create_signup(self, activity_id: int, user_id: int, at: datetime) -> Signup | None:
        """Pending."""
        s = Signup(len(self.signups_) + 1, activity_id, user_id, "pending")
        self.signups_[s.id] = s
        return dataclasses.replace(s)

    async def set_signup(self, signup_id: int, expected: str | None = None, **values: object) -> bool:
        """Conditional update."""
        s = self.signups_[signup_id]
        if expected is not None and s.state != expected:
            return False
        self.signups_[signup_id] = dataclasses.replace(s, **values)  # type: ignore[arg-type]
        return True

    async def waitlist(self, activity_id: int) -> list[Signup]:
        """First come first."""
        return [s for s in self.signups_.values() if s.activity_id == activity_id and s.state == "waitlisted"]

    async def mine(self, user_id: int, since: datetime) -> list[tuple[Activity, Signup]]:
        """Not needed by the rules."""
        return []

    async def signups(self, activity_id: int) -> list[Signup]:
        """All of one activity."""
        return [s for s in self.signups_.values() if s.activity_id == activity_id]


class Volunteers:
    """Registrations and teams."""

    def __init__(self) -> None:
        self.rows: dict[int, Volunteer] = {}
        self.team_rows: list[Team] = []

    async def get(self, user_id: int) -> Volunteer | None:
        """By user."""
        return self.rows.get(user_id)

    async def save(self, v: Volunteer) -> None:
        """Keep."""
        self.rows[v.user_id] = v

    async def set_state(self, user_id: int, expected: str, state: str, by: int | None) -> bool:
        """Compare-and-set."""
        v = self.rows.get(user_id)
        if v is None or v.state != expected:
            return False
        v.state = state
        return True

    async def of_community(self, code: str) -> list[tuple[Volunteer, User]]:
        """Not needed by the rules."""
        return []

    async def teams(self, code: str) -> list[Team]:
        """A community's."""
        return [t for t in self.team_rows if t.community_code == code]

    async def add_team(self, code: str, name: str, leader_id: int | None) -> Team:
        """Create."""
        team = Team(len(self.team_rows) + 1, code, name, leader_id)
        self.team_rows.append(team)
        return team


class Snapshots:
    """Stored monthly figures."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], tuple[datetime, str]] = {}

    async def get(self, unit_code: str, month: str) -> tuple[datetime, str] | None:
        """As stored."""
        return self.rows.get((unit_code, month))

    async def put(self, unit_code: str, month: str, at: datetime, payload: str) -> None:
        """Store or replace."""
        self.rows[(unit_code, month)] = (at, payload)

    async def ages(self, units: list[str], months: list[str]) -> dict[tuple[str, str], datetime]:
        """When each was computed."""
        return {k: at for k, (at, _) in self.rows.items() if k[0] in units and k[1] in months}


class Logins:
    """Console sign-in links, sessions and the audit trail."""

    def __init__(self) -> None:
        self.tokens: dict[str, tuple[int, datetime, datetime]] = {}
        self.sessions: dict[str, tuple[int, str, datetime]] = {}
        self.audits: list[AuditEntry] = []

    async def add_token(self, token_hash: str, user_id: int, at: datetime, expires_at: datetime) -> None:
        """Keep."""
        self.tokens[token_hash] = (user_id, at, expires_at)

    async def take_token(self, token_hash: str, now: datetime) -> int | None:
        """Once, before it expires."""
        found = self.tokens.pop(token_hash, None)
        return found[0] if found and now < found[2] else None

    async def tokens_since(self, user_id: int, since: datetime) -> int:
        """How many links a person asked for."""
        return sum(1 for u, at, _ in self.tokens.values() if u == user_id and at >= since)

    async def add_session(self, sid_hash: str, user_id: int, csrf: str, at: datetime, expires_at: datetime) -> None:
        """Keep."""
        self.sessions[sid_hash] = (user_id, csrf, expires_at)

    async def session(self, sid_hash: str, now: datetime) -> tuple[int, str, datetime] | None:
        """While it lasts."""
        found = self.sessions.get(sid_hash)
        return found if found and now < found[2] else None

    async def end_session(self, sid_hash: str) -> None:
        """Gone."""
        self.sessions.pop(sid_hash, None)

    async def audit(self, user_id: int, at: datetime, action: str, target: str, detail: str) -> None:
        """One line."""
        self.audits.append(AuditEntry(user_id, at, action, target, detail))

    async def audit_log(self, limit: int) -> list[AuditEntry]:
        """Newest first."""
        return self.audits[::-1][:limit]


class Unused:
    """A port the rules under test never touch."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected use of {name}")


@dataclasses.dataclass
class World:
    """Services on fakes, the fakes themselves, and what was told."""

    svc: Services
    clock: Clock
    people: People
    units: Units
    staff: Staff
    cases: Cases
    ledger: Ledger
    activities: Activities
    told: NoticeLog
    deadlines: Deadlines

    async def person(self, name: str, staff_of: str | None = None) -> User:
        """A reachable person, staff of a unit if given."""
        user = await self.people.upsert(UserRef("test", name), name, name, "zh-CN", True)
        if staff_of:
            await self.staff.add(staff_of, user.id, None)
        return user

    def later(self, **kw: float) -> None:
        """Move the clock."""
        self.clock.now += timedelta(**kw)


def world(admins: frozenset[UserRef] = frozenset()) -> World:
    """Fresh services on fresh fakes."""
    clock, people, units = Clock(), People(), Units()
    staff, cases, ledger, acts = Staff(people), Cases(), Ledger(), Activities()
    deadlines = Deadlines()
    kv = KeyValue()
    ports = Ports(
        people=people,
        units=units,
        staff=staff,
        cases=cases,
        drafts=kv,
        examples=Examples(),
        offers=Unused(),  # type: ignore[arg-type]
        awaitings=Awaitings(),
        markers=kv,
        ledger=ledger,
        shop=Unused(),  # type: ignore[arg-type]
        activities=acts,
        volunteers=Volunteers(),
        orders=Unused(),  # type: ignore[arg-type]
        forms=kv,
        deadlines=deadlines,
        followers=Followers(),
        calls=Calls(),
        day_records=Unused(),  # type: ignore[arg-type]
        broadcasts=Unused(),  # type: ignore[arg-type]
        ledger_reads=Unused(),  # type: ignore[arg-type]
        requests=Unused(),  # type: ignore[arg-type]
        api_keys=Unused(),  # type: ignore[arg-type]
        logins=Logins(),
        snapshots=Snapshots(),
        places=civic.Places(),
        homes=civic.Homes(),
        matters=civic.Matters(),
        assessments=civic.Assessments(),
        block_teams=civic.Teams(),
    )
    told = NoticeLog()
    svc = Services(ports, told, clock, Rules(admins=admins))
    return World(svc, clock, people, units, staff, cases, ledger, acts, told, deadlines)
