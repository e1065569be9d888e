"""Open311 GeoReport v2 as the domain sees it: the service list, requests read and filed, progress updates,
and the API clients allowed to file (keys shown once, stored hashed, filing rate-limited per client).

A filed request is an ordinary case — routed, posted to its grid's group, on the clock — whose reporter is the
client system (shown as 外部系统, never by name).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import secrets
from datetime import datetime, timedelta

from domain.cases.intake import ReportService
from domain.cases.model import CATEGORIES
from domain.cases.timeline import detail
from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.people import People, PeopleService, Role, User, UserRef
from domain.kernel.time import Clock
from domain.org.ports import Units
from domain.reporting.model import ApiClient, RequestLine, RequestQuery, UpdateLine
from domain.reporting.ports import ApiKeys, Requests

PLATFORM = "open311"
NAME_MAX = 64
MAX_RESULTS = 1000
DEFAULT_SPAN = timedelta(days=90)  # the specification's default window for GET requests


def key_hash(key: str) -> str:
    """How a key is stored: a SHA-256 digest (a key is random and long, so no salt or stretching is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


# What other systems may read of a step besides its name: the outcome, a category change, a rating (never what
# a resident said), where it went. Staff's own notes, reasons and department notes stay inside.
PUBLIC_DETAILS = frozenset({"resolve", "recategorize", "rate", "reopen", "follow_up", "merge", "merged_in", "dispatch"})


def public_detail(u: UpdateLine, units: dict[str, str]) -> object:
    """A step's detail as the public may read it (None: nothing beyond its name)."""
    if u.action not in PUBLIC_DETAILS or not u.note:
        return None
    if u.action in ("rate", "reopen", "follow_up"):
        return detail(u.action, u.note.partition(" ")[0], units)
    return detail(u.action, u.note, units, by_reporter=True)  # a number in a note is masked for the public


def coarse(lat: float, lon: float, metres: float) -> tuple[float, float]:
    """A point moved to the middle of its cell of about `metres` (the cell, not the doorstep, is public)."""
    step_lat = metres / 111_320
    lat_c = (math.floor(lat / step_lat) + 0.5) * step_lat
    step_lon = metres / (111_320 * max(0.01, math.cos(math.radians(lat_c))))
    lon_c = (math.floor(lon / step_lon) + 0.5) * step_lon
    return round(lat_c, 6), round(lon_c, 6)


class Open311Service:
    """Requests in and out for other systems."""

    def __init__(
        self,
        requests: Requests,
        keys: ApiKeys,
        people: PeopleService,
        people_store: People,
        reports: ReportService,
        clock: Clock,
        per_minute: int,
        units: Units | None = None,
        private: tuple[str, ...] = ("neighbor_dispute",),
        precision_m: float = 100.0,
    ) -> None:
        self.units = units
        self.private = frozenset(private)
        self.precision_m = precision_m
        self.requests = requests
        self.keys = keys
        self.people = people
        self.people_store = people_store
        self.reports = reports
        self.clock = clock
        self.per_minute = per_minute

    @staticmethod
    def services() -> tuple[str, ...]:
        """The service codes: our categories."""
        return CATEGORIES

    async def create_key(self, name: str) -> str:
        """A new client and its key (returned once; only its hash is kept)."""
        name = name.strip()
        if not name or len(name) > NAME_MAX or not name.isprintable():
            raise Invalid("api_name")
        client = await self.people_store.upsert(UserRef(PLATFORM, name), name, None, None, False)
        await self.people_store.set_role(client.id, Role.API)
        key = secrets.token_urlsafe(32)
        if not await self.keys.add(name, key_hash(key), client.id, self.clock()):
            raise Conflict("api_key_exists", name=name)
        return key

    async def revoke(self, name: str) -> None:
        """The client's key stops working at once."""
        if not await self.keys.revoke(name.strip()):
            raise Invalid("api_key_unknown", name=name[:NAME_MAX])

    async def clients(self) -> list[ApiClient]:
        """Every client, revoked ones included."""
        return await self.keys.all()

    async def authenticate(self, key: str | None) -> User:
        """The client a key belongs to, or Forbidden."""
        if not key or len(key) > 200:
            raise Forbidden("api_key_invalid")
        client = await self.keys.by_hash(key_hash(key))
        if client is None or client.revoked:
            raise Forbidden("api_key_invalid")
        user = await self.people.get(client.user_id)
        if user is None:
            raise Forbidden("api_key_invalid")
        return user

    async def file(
        self,
        key: str | None,
        category: str,
        text: str,
        lat: float | None,
        lon: float | None,
        address: str | None,
        photo: str | None = None,
    ) -> RequestLine:
        """POST Service Request: a new case from a client, at most `per_minute` a minute per client."""
        client = await self.authenticate(key)
        if await self.requests.filed_since(client.id, self.clock() - timedelta(minutes=1)) >= self.per_minute:
            raise Conflict("rate_limited")
        if category not in CATEGORIES:
            raise NotFound("unknown_service")
        case, _ = await self.reports.file_external(client, category, text, lat, lon, address, photo)
        [line] = await self.requests.find(RequestQuery(numbers=(case.number,)))
        return line

    async def find(self, query: RequestQuery, public: bool = False) -> list[RequestLine]:
        """GET Service Requests: by ids, or by filters within at most 90 days (the last 90 by default). A public
        read (no key) never lists a private category, and gets points only to the nearest cell."""
        lines = await self._find(query)
        if not public:
            return lines
        return [self._public(line) for line in lines if line.category not in self.private]

    async def photo(self, number: str, update_id: int | None = None, public: bool = False) -> str:
        """A request's photo, or one of its steps', as far as the reader may see it (a public read never gets a
        private category's); NotFound otherwise."""
        lines = await self.requests.find(RequestQuery(numbers=(number,)))
        if not lines or (public and lines[0].category in self.private):
            raise NotFound("photo_missing")
        ref = lines[0].photo if update_id is None else await self.requests.step_photo(number, update_id)
        if not ref:
            raise NotFound("photo_missing")
        return ref

    def _public(self, line: RequestLine) -> RequestLine:
        if line.lat is None or line.lon is None or self.precision_m <= 0:
            return line
        lat, lon = coarse(line.lat, line.lon, self.precision_m)
        return dataclasses.replace(line, lat=lat, lon=lon)

    async def _find(self, query: RequestQuery) -> list[RequestLine]:
        if query.numbers:
            return await self.requests.find(RequestQuery(numbers=query.numbers[:MAX_RESULTS]))
        end = query.end or self.clock()
        start = query.start or end - DEFAULT_SPAN
        if start > end or end - start > DEFAULT_SPAN:
            raise Invalid("date_range")
        limit = max(1, min(query.limit, MAX_RESULTS))
        return await self.requests.find(RequestQuery((), query.categories, start, end, query.open_states, limit))

    async def updates(
        self, start: datetime | None, end: datetime | None, public: bool = False, page: int = 1
    ) -> list[UpdateLine]:
        """mySociety's GET servicerequestupdates: timeline steps in any window (the last day by default), oldest
        first, MAX_RESULTS a page (a client asks for the next page, or starts again from the last step it got)."""
        end = end or self.clock()
        start = start or end - timedelta(days=1)
        if start > end or not 1 <= page <= 100_000:
            raise Invalid("date_range")
        lines = await self.requests.updates(start, end, MAX_RESULTS, (page - 1) * MAX_RESULTS)
        units = {u.code: u.name for u in await self.units.all()} if self.units is not None else {}
        return [
            dataclasses.replace(u, detail=public_detail(u, units))
            for u in lines
            if not public or u.category not in self.private
        ]
