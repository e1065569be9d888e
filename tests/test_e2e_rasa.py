"""Classifying through a (fake) Rasa server, with fallback to the built-in model."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, create_app
from bot.config import Settings
from bot.demo_cast import RIDER
from bot.nlu import BuiltinClassifier, RasaClassifier
from bot.recording import RecordingSession
from bot.scripted import Script
from intents.rasa_http import RasaHttpClient
from tests.conftest import FakeClock
from tests.fakes.rasa import FakeRasa, rasa_reply
from tests.helpers import scalar

TEXT = "东大街那个口子上 有个坑"


async def draft_data(app: App) -> dict[str, Any]:
    """The single draft's JSON (SQLite hands back text, PostgreSQL a dict)."""
    raw = await scalar(app, "select data from drafts")
    return raw if isinstance(raw, dict) else json.loads(raw)


@pytest.fixture
async def rasa() -> AsyncIterator[FakeRasa]:
    """A fake Rasa server that calls TEXT a parking report (unlike the built-in model)."""
    fake = FakeRasa()
    await fake.start()
    fake.responses[TEXT] = rasa_reply(
        TEXT,
        "problem_report",
        0.97,
        retrieval=("problem_report/parking_chaos", 0.91),
        retrieval_intents=("problem_report",),
    )
    yield fake
    await fake.stop()


@pytest.fixture
async def app(
    settings: Settings, engine: AsyncEngine, classifier: BuiltinClassifier, clock: FakeClock, rasa: FakeRasa
) -> AsyncIterator[App]:
    """The app classifying through the fake Rasa, mapping its intent name onto ours."""
    mapping = {"problem_report": "report_issue", "problem_report/parking_chaos": "report_issue/parking"}
    client = RasaHttpClient(rasa.base_url, mapping, timeout=0.3)
    application = create_app(
        settings,
        bot_session=RecordingSession(),
        classifier=RasaClassifier(client, classifier),
        clock=clock,
        engine=engine,
    )
    yield application
    await application.close()


async def test_rasa_classifies_and_mapping_applies(district: Script, rasa: FakeRasa) -> None:
    await district.say(RIDER, TEXT)
    assert rasa.calls == [TEXT]
    data = await draft_data(district.app)
    assert data["category"] == "parking" and data["model_version"].startswith("rasa:")


async def test_rasa_down_falls_back_to_builtin(district: Script, rasa: FakeRasa) -> None:
    rasa.fail_status = 500
    await district.say(RIDER, "3号楼楼道电动车充电")
    data = await draft_data(district.app)
    assert data["category"] == "fire_safety" and data["model_version"].startswith("tfidf-char-lr")
    assert isinstance(district.app.classifier, RasaClassifier) and district.app.classifier.fallbacks == 1


async def test_rasa_timeout_falls_back(district: Script, rasa: FakeRasa) -> None:
    rasa.delay = 1.0
    await district.say(RIDER, "3号楼楼道电动车充电")
    assert await scalar(district.app, "select count(*) from drafts") == 1
