"""Open311 GeoReport v2 under /open311/v2/, JSON and XML, with mySociety's servicerequestupdates extension.

Read endpoints are public unless the office turns that off (then every call needs `api_key`); POST needs a
key from `gridbot apikey create`. Errors use the specification's format: a list of {code, description}.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from desk.ledgers import plain_word, text
from domain.cases.model import CATEGORIES
from domain.kernel.errors import Conflict, DomainError, Forbidden, NotFound
from domain.kernel.i18n import say
from domain.kernel.media import MAX_BYTES, PhotoDesk, Picture
from domain.kernel.text import clean
from domain.kernel.time import local
from domain.reporting.model import RequestLine, RequestQuery, UpdateLine
from domain.services import Services

Scope = Callable[[], AbstractAsyncContextManager[Services]]
SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-01T00:00:00+08:00"
DESCRIPTION_MAX = 4000  # the specification's limit for description
OPEN_STATES = ("new", "claimed", "on_site")
# mySociety's update statuses for each step of our timeline.
UPDATE_STATUS = {
    "submit": "open",
    "claim": "action_scheduled",
    "onsite": "in_progress",
    "resolve": "fixed",
    "rate": "closed",
    "close_unrated": "closed",
    "follow_up": "closed",
    "reopen": "open",
    "merge": "duplicate",
    "escalate": "investigating",
    "reject": "investigating",
    "dispatch": "investigating",
}


class ApiError(Exception):
    """An answer in the specification's error format."""

    def __init__(self, status: int, key: str, **params: object) -> None:
        self.status, self.key, self.params = status, key, params
        super().__init__(key)


def _locale(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh-CN"


def _w3(moment: datetime | None) -> str | None:
    return local(moment).isoformat(timespec="seconds") if moment else None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "bad_date") from None
    if moment.tzinfo is None:
        raise ApiError(400, "bad_date")
    return moment


def _document(root: str, body: dict[str, Any]) -> bytes:
    top = ET.Element(root)
    _fill(top, body)
    return _serialise(top)


def _serialise(top: ET.Element) -> bytes:
    out: bytes = ET.tostring(top, encoding="utf-8", xml_declaration=True)
    return out


def _xml(root: str, item: str, rows: Sequence[dict[str, Any]]) -> bytes:
    top = ET.Element(root)
    for row in rows:
        node = ET.SubElement(top, item)
        _fill(node, row)
    return _serialise(top)


def _fill(node: ET.Element, row: dict[str, Any]) -> None:
    for key, value in row.items():
        child = ET.SubElement(node, key)
        if isinstance(value, dict):
            _fill(child, value)
        elif isinstance(value, list):
            for entry in value:
                name, inner = entry
                sub = ET.SubElement(child, name)
                if isinstance(inner, dict):
                    _fill(sub, inner)
                else:
                    sub.text = clean(str(inner))
        elif value is not None:
            # Stored text is clean; a row from before the cleaning must still not break the document.
            child.text = str(value).lower() if isinstance(value, bool) else clean(str(value))


class Json(JSONResponse):
    """JSON that says its charset, as clients of the specification expect."""

    media_type = "application/json; charset=utf-8"


def _reply(
    fmt: str, root: str, item: str, rows: list[dict[str, Any]], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    if fmt == "json":
        return Json(rows, status_code=status, headers=headers)
    return Response(_xml(root, item, rows), status_code=status, media_type="text/xml; charset=utf-8", headers=headers)


class Open311:
    """The GeoReport v2 endpoints on the domain's Open311 service."""

    def __init__(self, scope: Scope, public_reads: bool, base_url: str = "", photos: PhotoDesk | None = None) -> None:
        self.scope = scope
        self.public_reads = public_reads
        self.base_url = base_url.rstrip("/")
        self.photos = photos

    def _base(self, request: Request) -> str:
        return self.base_url or str(request.base_url).rstrip("/")

    def routes(self) -> list[BaseRoute]:
        """The routes to mount."""
        return [
            Mount(
                "/open311/v2",
                routes=[
                    Route("/discovery.{fmt}", self._guard(self.discovery)),
                    Route("/services.{fmt}", self._guard(self.services)),
                    Route("/services/{code}.{fmt}", self._guard(self.definition)),
                    Route("/requests.{fmt}", self._guard(self.requests), methods=["GET", "POST"]),
                    Route("/requests/{number}.{fmt}", self._guard(self.request)),
                    Route("/servicerequestupdates.{fmt}", self._guard(self.updates)),
                    Route("/media/{number}.jpg", self._guard(self.media)),
                    Route("/media/{number}/{update_id:int}.jpg", self._guard(self.media)),
                ],
            )
        ]

    def _guard(self, handler: Callable[[Request, str], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            fmt = request.path_params.get("fmt", "json")
            shown = fmt if fmt in ("json", "xml") else "json"
            locale = _locale(request)
            try:
                if fmt not in ("json", "xml"):
                    raise ApiError(400, "bad_format")
                response: Response = await handler(request, fmt)
                return response
            except ApiError as e:
                return self._error(shown, e.status, e.key, locale, e.params)
            except DomainError as e:
                status = 403 if isinstance(e, Forbidden) else 404 if isinstance(e, NotFound) else 400
                if isinstance(e, Conflict) and e.code == "rate_limited":
                    # The limit is per minute: a client may try again once the minute is over.
                    return self._error(shown, 429, e.code, locale, e.params, {"Retry-After": "60"})
                return self._error(shown, status, e.code, locale, e.params)

        return endpoint

    def _error(
        self,
        fmt: str,
        status: int,
        key: str,
        locale: str,
        params: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> Response:
        description = text(f"open311.errors.{key}", locale, **params)
        if description == f"open311.errors.{key}":
            description = text("open311.errors.error", locale)
        return _reply(fmt, "errors", "error", [{"code": status, "description": description}], status, headers)

    async def _reader(self, request: Request, svc: Services) -> bool:
        """Whether this read is public (no key): a key given is checked; without one, only if reads are public."""
        key = request.query_params.get("api_key")
        if key or not self.public_reads:
            await svc.open311.authenticate(key)
            return False
        return True

    async def discovery(self, request: Request, fmt: str) -> Response:
        """Where and what this endpoint is."""
        base = self._base(request)
        endpoint: dict[str, Any] = {
            "specification": SPEC,
            "url": f"{base}/open311/v2",
            "changeset": CHANGESET,
            "type": "production",
        }
        head = {
            "changeset": CHANGESET,
            "contact": text("open311.description", _locale(request)),
            "key_service": "gridbot apikey create NAME",
        }
        formats = ["application/json", "text/xml"]
        if fmt == "json":
            return Json({**head, "endpoints": [{**endpoint, "formats": formats}]})
        body = {**head, "endpoints": [("endpoint", {**endpoint, "formats": [("format", f) for f in formats]})]}
        return Response(_document("discovery", body), media_type="text/xml; charset=utf-8")

    def _service(self, code: str, locale: str) -> dict[str, Any]:
        return {
            "service_code": code,
            "service_name": plain_word(f"category.{code}", locale),
            "description": plain_word(f"category.{code}", locale),
            "metadata": False,
            "type": "realtime",
            "keywords": "",
            "group": "",
        }

    async def services(self, request: Request, fmt: str) -> Response:
        """GET Service List: our categories."""
        async with self.scope() as svc:
            await self._reader(request, svc)
        locale = _locale(request)
        return _reply(fmt, "services", "service", [self._service(c, locale) for c in CATEGORIES])

    async def definition(self, request: Request, fmt: str) -> Response:
        """GET Service Definition: no extra attributes are asked for."""
        async with self.scope() as svc:
            await self._reader(request, svc)  # with public reads off, like services.json: a key is needed
        code = request.path_params["code"]
        if code not in CATEGORIES:
            raise ApiError(404, "unknown_service")
        body: dict[str, Any] = {"service_code": code, "attributes": []}
        if fmt == "json":
            return Json(body)
        return Response(_document("service_definition", body), media_type="text/xml; charset=utf-8")

    def _request(self, line: RequestLine, locale: str, base: str) -> dict[str, Any]:
        closed = line.state not in OPEN_STATES
        notes = text(f"ledger.close_reason.{line.close_reason}", locale) if line.close_reason else ""
        return {
            "service_request_id": line.number,
            "status": "closed" if closed else "open",
            "status_notes": notes or plain_word(f"state.{line.state}", locale),
            "service_name": plain_word(f"category.{line.category}", locale),
            "service_code": line.category,
            "description": line.description,
            "agency_responsible": line.unit,
            "service_notice": "",
            "requested_datetime": _w3(line.requested_at),
            "updated_datetime": _w3(line.updated_at),
            "expected_datetime": _w3(line.resolve_due),
            "address": line.address or "",
            "address_id": "",
            "zipcode": "",
            "lat": line.lat,
            "long": line.lon,
            "media_url": f"{base}/open311/v2/media/{line.number}.jpg" if line.photo else "",
        }

    async def requests(self, request: Request, fmt: str) -> Response:
        """GET Service Requests (filters) or POST Service Request (a new case)."""
        locale = _locale(request)
        if request.method == "POST":
            return await self._post(request, fmt, locale)
        q = request.query_params
        statuses = {x.strip() for x in (q.get("status") or "").split(",") if x.strip()}
        if statuses - {"open", "closed"}:
            raise ApiError(400, "bad_status")
        status = statuses.pop() if len(statuses) == 1 else None  # open,closed is everything
        numbers = tuple(x.strip() for x in (q.get("service_request_id") or "").split(",") if x.strip())
        codes = tuple(x.strip() for x in (q.get("service_code") or "").split(",") if x.strip())
        query = RequestQuery(
            numbers,
            codes,
            _date(q.get("start_date")),
            _date(q.get("end_date")),
            None if not status else status == "open",
        )
        async with self.scope() as svc:
            public = await self._reader(request, svc)
            lines = await svc.open311.find(query, public)
        base = self._base(request)
        return _reply(fmt, "service_requests", "request", [self._request(line, locale, base) for line in lines])

    async def request(self, request: Request, fmt: str) -> Response:
        """GET Service Request: one case by its number."""
        async with self.scope() as svc:
            public = await self._reader(request, svc)
            lines = await svc.open311.find(RequestQuery(numbers=(request.path_params["number"],)), public)
        if not lines:
            raise ApiError(404, "not_found")
        return _reply(
            fmt, "service_requests", "request", [self._request(lines[0], _locale(request), self._base(request))]
        )

    async def _post(self, request: Request, fmt: str, locale: str) -> Response:
        form = await request.form(max_files=1, max_fields=200)

        def field(name: str) -> str | None:
            # A multipart body (a photo beside the fields) passes the desk's door as it came: cleaned here.
            value = form.get(name)
            return (clean(value).strip() or None) if isinstance(value, str) else None

        code = field("service_code")
        if code is None:
            raise ApiError(400, "unknown_category")
        if code not in CATEGORIES:
            raise ApiError(404, "unknown_service")
        lat_s, lon_s, address = field("lat"), field("long"), field("address_string")
        try:
            lat = float(lat_s) if lat_s is not None else None
            lon = float(lon_s) if lon_s is not None else None
        except ValueError:
            raise ApiError(400, "bad_coordinates") from None
        description = field("description") or ""
        if len(description) > DESCRIPTION_MAX:
            raise ApiError(400, "text_too_long", max=DESCRIPTION_MAX)
        # Attributes a client sends (attribute[code]=value) say something too: they join the description.
        said = [
            clean(f"{k[10:-1]}: {v.strip()}")[:200]
            for k, v in form.multi_items()
            if k.startswith("attribute[") and k.endswith("]") and isinstance(v, str) and v.strip()
        ]
        if said:
            description = "\n".join([description, *said]).strip()
        picture, link = await self._picture(form.get("media"), field("media_url"))
        if link:
            # A link we could not keep as a photo stays readable to staff; it never costs the group its case card.
            description = f"{description}\n{text('open311.attached', locale, url=link)}".strip()
        if lat is None and lon is None and picture is not None and picture.point is not None:
            lat, lon = picture.point  # the camera's GPS, when the client sent no point
        if (lat is None) != (lon is None) or (lat is None and address is None):
            raise ApiError(400, "location_required")
        if not description and picture is not None:
            description = text("open311.photo_only", locale)
        if not description:
            raise ApiError(400, "empty_text")
        async with self.scope() as svc:
            line = await svc.open311.file(
                field("api_key"), code, description, lat, lon, address, picture.ref if picture else None
            )
        body = [{"service_request_id": line.number, "service_notice": "", "account_id": ""}]
        return _reply(fmt, "service_requests", "request", body)

    async def _picture(self, upload: object, link: str | None) -> tuple[Picture | None, str | None]:
        """The photo a POST brings (an uploaded `media` file, else the `media_url` link fetched), kept in the
        office's store; and the link itself when it could not be kept. An upload that is no photo is refused."""
        if isinstance(upload, UploadFile):
            data = await upload.read(MAX_BYTES + 1)
            if not data:
                return None, None
            if self.photos is None:
                raise ApiError(400, "media_unavailable")
            return await self.photos.keep(data), None  # Invalid (not a photo, too large) is the client's 400
        if not link or not link.startswith(("https://", "http://")) or len(link) > 500:
            return None, None
        if self.photos is None:
            return None, link
        try:
            return await self.photos.keep(await self.photos.download(link)), None
        except DomainError:
            return None, link

    async def media(self, request: Request, fmt: str) -> Response:
        """A request's photo (or one of its steps'): JPEG without metadata; a public reader never gets one of a
        private category."""
        number = request.path_params["number"]
        async with self.scope() as svc:
            public = await self._reader(request, svc)
            ref = await svc.open311.photo(number, request.path_params.get("update_id"), public)
        data = await self.photos.read(ref) if self.photos is not None else None
        if data is None:
            raise ApiError(404, "photo_missing")
        cache = "public, max-age=86400" if public else "private, max-age=3600"
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": cache})

    def _update(self, u: UpdateLine, locale: str, base: str) -> dict[str, Any]:
        description = plain_word(f"action.{u.action}", locale)
        if u.detail is not None:
            description = f"{description}：{say(u.detail, locale)}"
        return {
            "update_id": str(u.update_id),
            "service_request_id": u.number,
            "status": UPDATE_STATUS.get(u.action, "open" if u.state in OPEN_STATES else "closed"),
            "updated_datetime": _w3(u.at),
            "description": description,
            "media_url": f"{base}/open311/v2/media/{u.number}/{u.update_id}.jpg" if u.photo else "",
        }

    async def updates(self, request: Request, fmt: str) -> Response:
        """mySociety's GET servicerequestupdates: every step of every case in a window."""
        q = request.query_params
        async with self.scope() as svc:
            public = await self._reader(request, svc)
            page = q.get("page") or "1"
            if not page.isascii() or not page.isdigit() or len(page) > 6:
                raise ApiError(400, "bad_page")
            steps = await svc.open311.updates(_date(q.get("start_date")), _date(q.get("end_date")), public, int(page))
        locale = _locale(request)
        base = self._base(request)
        rows = [self._update(u, locale, base) for u in steps]
        return _reply(fmt, "service_request_updates", "request_update", rows)
