"""Case photos as the office's own files: fetched from Telegram once, kept in a directory or an S3 bucket, served
to the console and to Open311 without metadata; photos posted to Open311 as uploads or links."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiogram.exceptions import TelegramNetworkError
from georeport import GeoReport
from PIL import Image
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.app import App
from bot.demo_cast import COMMUNITY_STAFF, GRID_GROUP, RIDER, WORKER
from bot.jobs import sweep
from bot.scripted import Script
from domain.kernel.media import stored_key
from storage.media import MAX_ATTEMPTS, ObjectMedia
from storage.orm import MediaRow
from tests.conftest import FakeClock
from tests.helpers import all_cases, free_port, sent_to, serving
from tests.test_console import signed_in
from tests.test_e2e_report import report
from tests.test_open311 import a_key, client


def phone_jpeg(lat: float | None = None, lon: float | None = None) -> bytes:
    """A phone's photo: the maker's tag and, when given, the point it was taken at."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if lat is not None and lon is not None:

        def dms(x: float) -> tuple[float, float, float]:
            d, rest = divmod(abs(x) * 3600, 3600)
            m, s = divmod(rest, 60)
            return float(d), float(m), round(s, 4)

        exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 90, 160)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def metadata_free(data: bytes) -> bool:
    """A JPEG with nothing from the camera left in it."""
    image = Image.open(io.BytesIO(data))
    return image.format == "JPEG" and not dict(image.getexif()) and b"PhoneMaker" not in data


async def media_rows(app: App) -> list[MediaRow]:
    async with app.sessions() as session:
        return list((await session.execute(select(MediaRow))).scalars())


@pytest.fixture
async def moto_s3(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """A local S3 endpoint (moto) with an empty bucket; the AWS_* settings an office would set."""
    server_mod = pytest.importorskip("moto.server")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {
        "AWS_ENDPOINT": endpoint,
        "AWS_ACCESS_KEY_ID": "office",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_REGION": "cn-north-1",
        "AWS_ALLOW_HTTP": "true",
    }.items():
        monkeypatch.setenv(name, value)
    async with httpx.AsyncClient() as http:
        assert (await http.put(f"{endpoint}/gridbot-media")).status_code == 200  # create the bucket
    yield "s3://gridbot-media/photos-of-qh"
    server.stop()


async def test_a_directory_and_an_s3_bucket_keep_the_same_bytes(tmp_path: Path, moto_s3: str) -> None:
    for url in (str(tmp_path / "media"), f"file://{tmp_path}/media2", "memory://", moto_s3):
        store = ObjectMedia(url)
        assert await store.get("photos/ab/missing.jpg") is None
        await store.put("photos/ab/cd.jpg", b"\xff\xd8 bytes")
        assert await store.get("photos/ab/cd.jpg") == b"\xff\xd8 bytes", url
    assert (tmp_path / "media" / "photos" / "ab" / "cd.jpg").read_bytes() == b"\xff\xd8 bytes"
    # Made on first use: an office that never keeps a photo has no empty directory lying around.
    ObjectMedia(str(tmp_path / "unused"))
    assert not (tmp_path / "unused").exists()


async def test_a_riders_photo_is_fetched_once_and_shown_when_telegram_is_out_of_reach(
    district: Script, spot: dict[str, float], desk: str
) -> None:
    s = district
    s.session.files[f"photo-{RIDER.id}"] = phone_jpeg(spot["lat"], spot["lon"])
    await report(s, RIDER, spot)
    [case] = await all_cases(s.app)
    [row] = await media_rows(s.app)
    assert row.file_id == f"photo-{RIDER.id}" and row.state == "pending"
    await sweep(s.app)  # the runner's round keeps it
    assert len(s.session.by_method("getFile")) == 1 and len(s.session.by_method("download")) == 1
    [row] = await media_rows(s.app)
    assert row.state == "stored" and row.key is not None
    kept = await s.app.photos.store.get(row.key)
    assert kept is not None and metadata_free(kept)
    # Telegram out of reach: the console still shows it, from the office's own store.
    s.session.inject("getFile", lambda m: TelegramNetworkError(method=m, message="unreachable"))
    async with signed_in(s, desk, COMMUNITY_STAFF) as http:
        reply = await http.get(f"/console/photo/{case.number}/0")
    assert reply.status_code == 200 and reply.headers["content-type"] == "image/jpeg" and reply.content == kept
    assert len(s.session.by_method("getFile")) == 1  # not fetched again
    await sweep(s.app)
    assert len(s.session.by_method("getFile")) == 1
    s.session._faults["getFile"].clear()  # Telegram is back
    # The resolve photo is kept too, and Open311 links both.
    await s.press(WORKER, "接单", group=GRID_GROUP)
    await s.press(WORKER, "到场", group=GRID_GROUP)
    await s.press(WORKER, "办结", group=GRID_GROUP)
    await s.photo(WORKER, "photo-fixed", "充电线已拆除")
    s.session.calls.clear()
    await sweep(s.app)
    assert [c.params["file_id"] for c in s.session.by_method("getFile")] == ["photo-fixed"]
    async with client(s.app) as http:
        [line] = (await http.get(f"/open311/v2/requests/{case.number}.json")).json()
        assert line["media_url"] == f"http://desk/open311/v2/media/{case.number}.jpg"
        assert (await http.get(line["media_url"])).content == kept
        steps = (await http.get("/open311/v2/servicerequestupdates.json")).json()
        fixed = [u for u in steps if u["status"] == "fixed"]
        assert fixed and fixed[0]["media_url"].endswith(".jpg")
        photo = await http.get(fixed[0]["media_url"])
        assert photo.status_code == 200 and metadata_free(photo.content)
        assert (await http.get(f"/open311/v2/media/{case.number}/999999.jpg")).status_code == 404
        assert (await http.get("/open311/v2/media/SB20991231-0001.jpg")).status_code == 404


async def test_a_photo_telegram_will_not_hand_over_is_tried_again_then_given_up(
    district: Script, spot: dict[str, float], clock: FakeClock
) -> None:
    s = district
    await report(s, RIDER, spot)
    for _ in range(MAX_ATTEMPTS):
        s.session.inject("getFile", lambda m: TelegramNetworkError(method=m, message="unreachable"))
    await sweep(s.app)
    [row] = await media_rows(s.app)
    assert row.state == "pending" and row.attempts == 1 and row.error and "unreachable" in row.error
    await sweep(s.app)
    assert len(s.session.by_method("getFile")) == 1  # it backs off: not every round
    for _ in range(MAX_ATTEMPTS):
        clock.advance(12 * 3600)
        await sweep(s.app)
    [row] = await media_rows(s.app)
    assert row.state == "failed" and row.attempts == MAX_ATTEMPTS
    assert len(s.session.by_method("getFile")) == MAX_ATTEMPTS


async def test_open311_takes_an_uploaded_photo_and_places_it_by_its_gps(
    district: Script, spot: dict[str, float]
) -> None:
    s = district
    key = await a_key(s.app)
    photo = phone_jpeg(spot["lat"], spot["lon"])
    form = {"api_key": key, "service_code": "public_facility", "description": "井盖缺失"}
    async with client(s.app) as http:
        # No point, no address: the camera's point places it.
        reply = await http.post("/open311/v2/requests.json", data=form, files={"media": ("a.jpg", photo)})
        assert reply.status_code == 200, reply.text
        [case] = await all_cases(s.app)
        assert case.unit_code == "QH-01-02" and stored_key(case.photo_file_id) is not None
        assert abs((case.lat or 0) - spot["lat"]) < 1e-5
        # No words, only a photo and a point: still a request.
        reply = await http.post(
            "/open311/v2/requests.json",
            data={**form, "description": "", "lat": str(spot["lat"]), "long": str(spot["lon"])},
            files={"media": ("b.png", photo)},
        )
        assert reply.status_code == 200, reply.text
        # What is no photo (whatever its name says) is refused, and nothing is filed.
        for name, content in (("c.jpg", b"<html>not a photo</html>"), ("d.jpg", b"\xff\xd8\xff" + b"\x00" * 64)):
            reply = await http.post("/open311/v2/requests.json", data=form, files={"media": (name, content)})
            assert reply.status_code == 400 and "JPEG" in reply.json()[0]["description"]
        reply = await http.post(
            "/open311/v2/requests.json", data=form, files={"media": ("e.jpg", b"\xff\xd8" + b"\x00" * (6 << 20))}
        )
        assert reply.status_code == 400 and "MB" in reply.json()[0]["description"]
    assert len(await all_cases(s.app)) == 2
    await s.app.sender.drain()
    s._collect()
    cards = [c for c in sent_to(s.session, GRID_GROUP.id) if c.method == "sendPhoto"]
    assert len(cards) == 2 and all(str(c.params["photo"]).startswith("attach://") for c in cards)  # uploaded bytes
    async with client(s.app) as http:
        [line] = (await http.get(f"/open311/v2/requests/{case.number}.json")).json()
        served = await http.get(line["media_url"])
    assert served.status_code == 200 and metadata_free(served.content)
    assert served.headers["cache-control"].startswith("public")


async def test_a_private_matters_photo_is_no_public_read(district: Script, spot: dict[str, float]) -> None:
    s = district
    key = await a_key(s.app)
    form = {"api_key": key, "service_code": "neighbor_dispute", "description": "楼上噪音"}
    where = {"lat": str(spot["lat"]), "long": str(spot["lon"])}
    async with client(s.app) as http:
        reply = await http.post(
            "/open311/v2/requests.json", data={**form, **where}, files={"media": ("a.jpg", phone_jpeg())}
        )
        assert reply.status_code == 200
        [case] = await all_cases(s.app)
        assert (await http.get(f"/open311/v2/media/{case.number}.jpg")).status_code == 404
        keyed = await http.get(f"/open311/v2/media/{case.number}.jpg", params={"api_key": key})
        assert keyed.status_code == 200 and keyed.headers["cache-control"].startswith("private")


@pytest.fixture
async def photo_host() -> AsyncIterator[str]:
    """A web server on this machine serving a photo, a page and a redirect to the photo."""

    async def photo(_: Request) -> Response:
        return Response(phone_jpeg(), media_type="image/jpeg")

    async def page(_: Request) -> Response:
        return Response("<html>hello</html>", media_type="text/html")

    async def moved(_: Request) -> Response:
        return Response(status_code=302, headers={"Location": "/p.jpg"})

    web = Starlette(routes=[Route("/p.jpg", photo), Route("/page", page), Route("/moved", moved)])
    async with serving(web) as base:
        yield base


async def test_a_photo_link_is_fetched_only_from_where_the_office_allows(
    district: Script, spot: dict[str, float], photo_host: str
) -> None:
    s = district
    key = await a_key(s.app)
    form = {"api_key": key, "service_code": "public_facility", "lat": str(spot["lat"]), "long": str(spot["lon"])}
    async with client(s.app) as http:
        # By default a link into a private network is never fetched (the server is no proxy into the office's
        # network): the case is filed with the link in words.
        reply = await http.post(
            "/open311/v2/requests.json", data={**form, "description": "井盖", "media_url": f"{photo_host}/p.jpg"}
        )
        assert reply.status_code == 200
        [case] = await all_cases(s.app)
        assert case.photo_file_id is None and f"{photo_host}/p.jpg" in case.description
        object.__setattr__(s.app.photos, "private_links", True)  # an intranet that serves its own photos
        for path in ("/p.jpg", "/moved"):
            reply = await http.post(
                "/open311/v2/requests.json", data={**form, "description": f"路灯{path}", "media_url": photo_host + path}
            )
            assert reply.status_code == 200
        reply = await http.post(
            "/open311/v2/requests.json", data={**form, "description": "护栏", "media_url": f"{photo_host}/page"}
        )
        assert reply.status_code == 200
    by_text = {c.description.split("\n")[0]: c for c in await all_cases(s.app)}
    assert stored_key(by_text["路灯/p.jpg"].photo_file_id) and stored_key(by_text["路灯/moved"].photo_file_id)
    assert by_text["护栏"].photo_file_id is None and "/page" in by_text["护栏"].description
    assert by_text["路灯/p.jpg"].photo_file_id == by_text["路灯/moved"].photo_file_id  # one photo, kept once


async def test_a_real_open311_client_finds_the_photo_behind_media_url(
    district: Script, spot: dict[str, float], desk: str
) -> None:
    s, server = district, f"{desk}/open311/v2"
    key = await a_key(s.app)
    form = {"api_key": key, "service_code": "public_facility", "description": "路灯不亮"}
    where = {"lat": str(spot["lat"]), "long": str(spot["lon"])}
    async with client(s.app) as http:
        await http.post("/open311/v2/requests.json", data={**form, **where}, files={"media": ("a.jpg", phone_jpeg())})
        await http.post("/open311/v2/requests.json", data={**form, **where, "description": "井盖缺失"})
    for fmt in ("json", "xml"):
        listed = await asyncio.to_thread(GeoReport(server, output_format=fmt).get_service_requests)
        links = {r["description"]: r.get("media_url") for r in listed}
        assert links["井盖缺失"] in ("", None) and links["路灯不亮"].startswith(server)
        async with httpx.AsyncClient() as http:
            photo = await http.get(links["路灯不亮"])
        assert photo.status_code == 200 and metadata_free(photo.content)
