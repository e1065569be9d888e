"""Open311 GeoReport v2: a real client library (georeport, JSON and XML) over HTTP, and POSTs that become cases
posted to the grid's group like any other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import xmltodict
from georeport import GeoReport

from bot.app import App
from bot.demo_cast import GRID_GROUP, WORKER
from bot.scripted import Script
from bot.web import create_web
from domain.cases.model import CaseState
from tests.helpers import all_cases, sent_to, serving, texts


async def a_key(app: App, name: str = "12345热线") -> str:
    """A client key, as `gridbot apikey create` makes one."""
    async with app.sessions.begin() as session:
        _, svc, _ = app.uow.unit_of_work(session)
        return await svc.open311.create_key(name)


@pytest.fixture
async def server(district: Script) -> AsyncIterator[str]:
    """The web app served over real HTTP in this event loop (the client library is synchronous)."""
    async with serving(create_web(district.app)) as base:
        yield f"{base}/open311/v2"


def client(app: App) -> httpx.AsyncClient:
    """An HTTP client on the ASGI app (no socket)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_web(app)), base_url="http://desk")


async def post(app: App, key: str | None, fmt: str = "json", **fields: str) -> httpx.Response:
    """POST Service Request, form-encoded as the specification says."""
    data = {"service_code": "public_facility", "description": "南门外井盖缺失", **fields}
    if key is not None:
        data["api_key"] = key
    async with client(app) as http:
        return await http.post(f"/open311/v2/requests.{fmt}", data=data)


async def test_a_posted_request_is_a_case_in_the_grid_group(district: Script, spot: dict[str, float]) -> None:
    s = district
    key = await a_key(s.app)
    reply = await post(s.app, key, lat=str(spot["lat"]), long=str(spot["lon"]), address_string="杏林路12号楼下")
    assert reply.status_code == 200, reply.text
    [body] = reply.json()
    [case] = await all_cases(s.app)
    assert body["service_request_id"] == case.number and case.unit_code == "QH-01-02"
    assert case.reporter_role.value == "api" and case.category == "public_facility"
    await s.app.sender.drain()
    s._collect()
    [card] = [x for x in texts(sent_to(s.session, GRID_GROUP.id)) if case.number in x]
    assert "外部系统" in card and "12345热线" not in card and "井盖缺失" in card
    # Handled like any other case; the client sees the progress.
    await s.press(WORKER, "接单", group=GRID_GROUP)
    async with client(s.app) as http:
        one = (await http.get(f"/open311/v2/requests/{case.number}.json")).json()[0]
        updates = (await http.get("/open311/v2/servicerequestupdates.json")).json()
    assert one["status"] == "open" and one["agency_responsible"] == "杏林社区第二网格"
    assert one["expected_datetime"] and one["requested_datetime"].endswith("+08:00")
    statuses = [(u["service_request_id"], u["status"]) for u in updates]
    assert (case.number, "open") in statuses and (case.number, "action_scheduled") in statuses


async def test_posts_need_a_live_key_valid_input_and_a_sane_rate(district: Script, spot: dict[str, float]) -> None:
    s = district
    where = {"lat": str(spot["lat"]), "long": str(spot["lon"])}
    reply = await post(s.app, None, **where)
    assert reply.status_code == 403 and reply.json()[0]["code"] == 403
    key = await a_key(s.app)
    reply = await post(s.app, key, fmt="xml", service_code="flying_saucers", **where)
    errors = xmltodict.parse(reply.content)["errors"]["error"]
    assert reply.status_code == 404 and errors["code"] == "404" and errors["description"]  # no such service
    assert (await post(s.app, key, lat=str(spot["lat"]))).status_code == 400  # lat without long
    assert (await post(s.app, key, lat="99", long="117")).status_code == 400
    assert (await post(s.app, key, lat="36.2", long="117.0")).status_code == 400  # outside the street
    assert (await post(s.app, key, description="x" * 4001, **where)).status_code == 400
    assert await all_cases(s.app) == []  # nothing refused left anything behind
    # An address alone goes to the street, which dispatches it.
    assert (await post(s.app, key, address_string="青禾街道某小区")).status_code == 200
    [case] = await all_cases(s.app)
    assert case.unit_code == "QH" and case.state is CaseState.NEW
    async with s.app.sessions.begin() as session:
        _, svc, _ = s.app.uow.unit_of_work(session)
        await svc.open311.revoke("12345热线")
    assert (await post(s.app, key, **where)).status_code == 403


async def test_a_runaway_client_is_slowed_down(district: Script, spot: dict[str, float]) -> None:
    s = district
    object.__setattr__(s.app.settings, "open311_per_minute", 3)  # the rules are read from settings per unit of work
    key = await a_key(s.app)
    where = {"lat": str(spot["lat"]), "long": str(spot["lon"])}
    codes = [(await post(s.app, key, description=f"第{i}处井盖缺失", **where)).status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]


async def test_a_real_open311_client_reads_json_and_xml(district: Script, spot: dict[str, float], server: str) -> None:
    s = district
    key = await a_key(s.app)
    for i in range(2):
        await post(
            s.app, key, lat=str(spot["lat"]), long=str(spot["lon"]), description=f"路灯{i}号不亮 电话13912345678"
        )
    for fmt in ("json", "xml"):
        api = GeoReport(server, output_format=fmt)
        services_list = await asyncio.to_thread(api.get_service_list)
        codes = [x["service_code"] for x in services_list]
        assert "public_facility" in codes and "fire_safety" in codes
        requests = await asyncio.to_thread(api.get_service_requests, status="open")
        assert len(requests) == 2
        assert all("139****5678" in r["description"] for r in requests)
        one = await asyncio.to_thread(api.get_service_request, requests[0]["service_request_id"])
        assert one["service_request_id"] == requests[0]["service_request_id"] and one["status"] == "open"
        definition = await asyncio.to_thread(api.get_service_definition, "public_facility")
        assert definition["service_code"] == "public_facility"


async def test_reads_can_require_a_key(district: Script) -> None:
    s = district
    object.__setattr__(s.app.settings, "open311_public_reads", False)
    key = await a_key(s.app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_web(s.app)), base_url="http://desk") as http:
        assert (await http.get("/open311/v2/requests.json")).status_code == 403
        assert (await http.get("/open311/v2/requests.json", params={"api_key": key})).status_code == 200
        bad = await http.get("/open311/v2/requests.json", params={"api_key": key, "status": "pending"})
        assert bad.status_code == 400
        assert (await http.get("/open311/v2/requests/SB1.json", params={"api_key": key})).status_code == 404
        assert (await http.get("/open311/v2/services.csv")).status_code == 400
        discovery = (await http.get("/open311/v2/discovery.json")).json()
        assert discovery["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"


async def test_as_the_specification_and_fixmystreet_expect(district: Script, spot: dict[str, float]) -> None:
    s = district
    key = await a_key(s.app)
    where = {"lat": str(spot["lat"]), "long": str(spot["lon"])}
    assert (await post(s.app, key, service_code="no_such_service", **where)).status_code == 404
    assert (await post(s.app, key, description="", **where)).status_code == 400  # nothing said at all
    photo = await post(s.app, key, description="", media_url="https://example.org/p.jpg", **where)
    assert photo.status_code == 200, photo.text
    attrs = await post(s.app, key, description="", **{"attribute[lamp_no]": "XL-0231"}, **where)
    assert attrs.status_code == 200, attrs.text
    assert "XL-0231" in (await all_cases(s.app))[-1].description
    assert photo.headers["content-type"] == "application/json; charset=utf-8"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_web(s.app)), base_url="http://desk") as http:
        both = await http.get("/open311/v2/requests.json", params={"status": "open,closed"})
        assert both.status_code == 200 and len(both.json()) == 2
        assert (await http.get("/open311/v2/requests.json", params={"status": "open,pending"})).status_code == 400
        year = await http.get(
            "/open311/v2/servicerequestupdates.json",
            params={"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-12-31T00:00:00+08:00", "page": "1"},
        )
        assert year.status_code == 200 and len(year.json()) >= 2  # a year's window is paged, not refused
        assert (await http.get("/open311/v2/servicerequestupdates.json", params={"page": "x"})).status_code == 400
    object.__setattr__(s.app.settings, "open311_public_reads", False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_web(s.app)), base_url="http://desk") as http:
        assert (await http.get("/open311/v2/services/public_facility.json")).status_code == 403
        keyed = await http.get("/open311/v2/services/public_facility.json", params={"api_key": key})
        assert keyed.status_code == 200
    object.__setattr__(s.app.settings, "open311_per_minute", 2)
    limited = await post(s.app, key, description="又一处", **where)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "60"


async def test_a_real_client_reads_status_lists_without_private_matters_and_with_coarse_points(
    district: Script, spot: dict[str, float], server: str
) -> None:
    s = district
    key = await a_key(s.app)
    where = {"lat": str(spot["lat"]), "long": str(spot["lon"])}
    await post(s.app, key, description="南门井盖缺失", **where)
    await post(s.app, key, description="北门路灯不亮", **where)  # two: the library reads one XML item as no list
    await post(s.app, key, service_code="neighbor_dispute", description="楼上楼下噪音纠纷", **where)
    for fmt in ("json", "xml"):
        public = GeoReport(server, output_format=fmt)  # the library reads without a key
        listed = await asyncio.to_thread(public.get_service_requests, status="open,closed")
        assert [r["service_code"] for r in listed] == ["public_facility", "public_facility"]
        assert float(listed[0]["lat"]) != spot["lat"]  # the ~100 m cell, not the doorstep
        assert abs(float(listed[0]["lat"]) - spot["lat"]) < 0.001
    # A keyed client (the city's hotline) reads both, exactly (the library sends no key on GET: plain HTTP).
    async with client(s.app) as http:
        keyed = (await http.get("/open311/v2/requests.json", params={"api_key": key, "status": "open,closed"})).json()
    assert {r["service_code"] for r in keyed} == {"public_facility", "neighbor_dispute"}
    assert next(r for r in keyed if r["service_code"] == "public_facility")["lat"] == spot["lat"]
