"""RasaHttpClient against the fake Rasa server: mapping, rankings, entities, failures."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from intents.rasa_http import RasaHttpClient, RasaUnavailable, parse_intent_map
from tests.fakes.rasa import DEFAULT_MODEL_ID, FakeRasa, rasa_entity, rasa_reply
from tests.helpers import free_port

FIRE = "3号楼消防通道被电动车堵死了"


@pytest.fixture
async def rasa() -> AsyncIterator[FakeRasa]:
    server = FakeRasa()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(rasa: FakeRasa) -> AsyncIterator[RasaHttpClient]:
    c = RasaHttpClient(rasa.base_url, timeout=1.0)
    yield c
    await c.close()


async def test_plain_intent(rasa: FakeRasa, client: RasaHttpClient) -> None:
    p = await client.parse("你好")
    assert (p.intent, p.confidence) == ("greet", 0.9)
    # the default reply's selector guesses report_issue/other, which does not belong to `greet`
    assert p.category is None and p.category_confidence == 0.0 and p.category_ranking == []
    assert p.ranking[0] == ("greet", 0.9)
    assert p.version == f"rasa:{DEFAULT_MODEL_ID}"
    assert rasa.calls == ["你好"]


async def test_retrieval_intent_by_name(rasa: FakeRasa, client: RasaHttpClient) -> None:
    rasa.responses[FIRE] = rasa_reply(
        FIRE,
        "report_issue/fire_safety",
        0.8,
        with_selector=False,
        ranking=[("report_issue/fire_safety", 0.8), ("report_issue/parking", 0.15), ("greet", 0.05)],
    )
    p = await client.parse(FIRE)
    assert (p.intent, p.category) == ("report_issue", "fire_safety")
    assert p.confidence == 0.8 and p.category_confidence == 0.8
    assert [n for n, _ in p.ranking] == ["report_issue", "greet"]  # both retrieval names are one intent
    assert p.category_ranking == [("fire_safety", 0.8), ("parking", 0.15)]


async def test_retrieval_intent_by_response_selector(rasa: FakeRasa, client: RasaHttpClient) -> None:
    rasa.responses[FIRE] = rasa_reply(
        FIRE,
        "report_issue",
        0.95,
        retrieval=("report_issue/fire_safety", 0.7),
        retrieval_ranking=[
            ("report_issue/fire_safety", 0.7),
            ("report_issue/parking", 0.2),
            ("report_issue/other", 0.06),
            ("report_issue/environment", 0.04),
        ],
    )
    p = await client.parse(FIRE)
    assert (p.intent, p.confidence) == ("report_issue", 0.95)
    assert (p.category, p.category_confidence) == ("fire_safety", 0.7)
    assert [c for c, _ in p.category_ranking] == ["fire_safety", "parking", "other"]


async def test_selector_keyed_by_retrieval_intent(rasa: FakeRasa, client: RasaHttpClient) -> None:
    rasa.responses["楼道灯坏了"] = rasa_reply(
        "楼道灯坏了",
        "report_issue",
        0.9,
        retrieval=("report_issue/public_facility", 0.66),
        selector_key="report_issue",
    )
    p = await client.parse("楼道灯坏了")
    assert (p.category, p.category_confidence) == ("public_facility", 0.66)


async def test_name_category_takes_confidence_from_selector(rasa: FakeRasa, client: RasaHttpClient) -> None:
    rasa.responses[FIRE] = rasa_reply(
        FIRE,
        "report_issue/fire_safety",
        0.9,
        retrieval=("report_issue/parking", 0.5),
        retrieval_ranking=[("report_issue/parking", 0.5), ("report_issue/fire_safety", 0.4)],
    )
    p = await client.parse(FIRE)
    assert (p.category, p.category_confidence) == ("fire_safety", 0.4)
    assert p.category_ranking[0] == ("fire_safety", 0.4)


async def test_intent_map_renames(rasa: FakeRasa) -> None:
    mapping = {
        "chitchat": "greet",
        "report": "report_issue",
        "report/fire": "report_issue/fire_safety",
        "inform_parking": "report_issue/parking",
    }
    rasa.responses["hi"] = rasa_reply("hi", "chitchat", 0.8, ranking=[("chitchat", 0.8), ("faq", 0.2)])
    rasa.responses[FIRE] = rasa_reply(
        FIRE,
        "report",
        0.9,
        retrieval=("report/fire", 0.75),
        retrieval_ranking=[("report/fire", 0.75), ("report/noise", 0.2)],
        retrieval_intents=["report"],
    )
    rasa.responses["车堵门口"] = rasa_reply("车堵门口", "inform_parking", 0.7, with_selector=False)
    async with RasaHttpClient(rasa.base_url, mapping, timeout=1.0) as client:
        hi = await client.parse("hi")
        assert (hi.intent, hi.ranking) == ("greet", [("greet", 0.8), ("faq", 0.2)])
        fire = await client.parse(FIRE)
        assert (fire.intent, fire.category) == ("report_issue", "fire_safety")  # full name mapped
        assert [c for c, _ in fire.category_ranking] == ["fire_safety", "noise"]  # unmapped passes through
        parking = await client.parse("车堵门口")
        assert (parking.intent, parking.category, parking.category_confidence) == ("report_issue", "parking", 0.7)


async def test_ranking_is_top_three_tuples(rasa: FakeRasa, client: RasaHttpClient) -> None:
    ranking = [("points_query", 0.5), ("points_redeem", 0.3), ("activity_list", 0.1), ("help", 0.06), ("greet", 0.04)]
    rasa.responses["积分"] = rasa_reply("积分", "points_query", 0.5, ranking=ranking)
    p = await client.parse("积分")
    assert p.ranking == [("points_query", 0.5), ("points_redeem", 0.3), ("activity_list", 0.1)]
    assert all(isinstance(n, str) and isinstance(c, float) for n, c in p.ranking)


async def test_nlu_fallback_yields_the_real_guess(rasa: FakeRasa, client: RasaHttpClient) -> None:
    rasa.responses["嗯"] = rasa_reply(
        "嗯", "nlu_fallback", 0.7, ranking=[("nlu_fallback", 0.7), ("help", 0.41), ("greet", 0.3)]
    )
    p = await client.parse("嗯")
    assert (p.intent, p.confidence) == ("help", 0.41)
    assert [n for n, _ in p.ranking] == ["help", "greet"]


async def test_no_intent_is_unsure(rasa: FakeRasa, client: RasaHttpClient) -> None:
    rasa.responses[""] = rasa_reply("", None, 0.0, ranking=[], with_selector=False)
    p = await client.parse("")
    assert (p.intent, p.confidence, p.category) == ("out_of_scope", 0.0, None)


async def test_entities_passthrough(rasa: FakeRasa, client: RasaHttpClient) -> None:
    entities = [rasa_entity(FIRE, "building", "3号楼"), rasa_entity(FIRE, "vehicle", "电动车")]
    rasa.responses[FIRE] = rasa_reply(
        FIRE, "report_issue", 0.9, entities=entities, retrieval=("report_issue/fire_safety", 0.8)
    )
    p, got = await client.parse_full(FIRE)
    assert p.category == "fire_safety"
    assert got == entities
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in got] == [
        ("building", "3号楼", 0, 3),
        ("vehicle", "电动车", 8, 11),
    ]
    assert FIRE[got[1]["start"] : got[1]["end"]] == "电动车"


async def test_timeout(rasa: FakeRasa) -> None:
    rasa.delay = 2.0
    async with RasaHttpClient(rasa.base_url, timeout=0.2) as client:
        started = time.monotonic()
        with pytest.raises(RasaUnavailable, match="timed out") as err:
            await client.parse("你好")
        assert err.value.reason == "timeout"
        assert time.monotonic() - started < 1.5


async def test_server_error(rasa: FakeRasa, client: RasaHttpClient) -> None:
    rasa.fail_status = 500
    with pytest.raises(RasaUnavailable, match="HTTP 500") as err:
        await client.parse("你好")
    assert (err.value.reason, err.value.status) == ("status", 500)


@pytest.mark.parametrize(
    "body",
    [
        "<html>502 Bad Gateway</html>",
        '{"text": "x"',
        "[1, 2]",
        '{"text": "x"}',
        '{"intent": {"name": "greet", "confidence": "high"}}',
        '{"intent": {"name": "greet", "confidence": 0.9}, "entities": {}}',
    ],
)
async def test_malformed_json(rasa: FakeRasa, client: RasaHttpClient, body: str) -> None:
    rasa.raw_body = body
    with pytest.raises(RasaUnavailable, match="malformed") as err:
        await client.parse("你好")
    assert err.value.reason == "malformed"


async def test_connection_refused() -> None:
    async with RasaHttpClient(f"http://127.0.0.1:{free_port()}", timeout=0.5) as client:
        with pytest.raises(RasaUnavailable, match="cannot connect") as err:
            await client.parse("你好")
    assert err.value.reason == "connection"


async def test_session_reused_and_reopened(rasa: FakeRasa) -> None:
    client = RasaHttpClient(rasa.base_url + "/", timeout=1.0)  # trailing slash as pydantic URLs have
    await client.parse("a")
    session = client._session
    await client.parse("b")
    assert client._session is session
    await client.close()
    await client.parse("c")  # a closed client opens a new session
    assert client._session is not session
    await client.close()
    assert rasa.calls == ["a", "b", "c"]


async def test_version_tracks_status(rasa: FakeRasa) -> None:
    async with RasaHttpClient(rasa.base_url, timeout=1.0) as cached:
        await cached.parse("a")
        await cached.parse("b")
        assert rasa.status_calls == 1  # /status at most once per status_ttl
    async with RasaHttpClient(rasa.base_url, timeout=1.0, status_ttl=0) as client:
        rasa.model_id = "20240701-090000-new-model"
        assert (await client.parse("a")).version == "rasa:20240701-090000-new-model"
        rasa.model_id = None
        assert (await client.parse("b")).version == "rasa:unknown"


async def test_auth_token(rasa: FakeRasa) -> None:
    rasa.token = "s3cret"
    async with RasaHttpClient(rasa.base_url, timeout=1.0) as anonymous:
        with pytest.raises(RasaUnavailable, match="HTTP 401"):
            await anonymous.parse("你好")
    async with RasaHttpClient(rasa.base_url, timeout=1.0, token="s3cret") as client:
        assert (await client.parse("你好")).version == f"rasa:{DEFAULT_MODEL_ID}"


def test_parse_intent_map_formats() -> None:
    expected = {"chitchat": "greet", "report/fire": "report_issue/fire_safety"}
    assert parse_intent_map('{"chitchat": "greet", "report/fire": "report_issue/fire_safety"}') == expected
    assert parse_intent_map(" chitchat = greet , report/fire=report_issue/fire_safety ,") == expected
    assert parse_intent_map("") == {} and parse_intent_map("   ") == {}


@pytest.mark.parametrize("spec", ["chitchat", "a=", "=b", '{"a": 1}', '{"a": "b"', "[1]"])
def test_parse_intent_map_rejects(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_intent_map(spec)
