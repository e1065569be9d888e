"""Adapts the intents package to the domain's Classifier port (built-in model, optionally a Rasa server)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from domain.cases.model import Classification
from intents.calibrate import Thresholds, calibration_path, load
from intents.danger import DangerModel
from intents.danger import load_or_train as load_danger
from intents.entities import load_extractor, place_text
from intents.model import NluModel, Prediction, load_or_train, training_examples
from intents.rasa_http import RasaHttpClient, RasaUnavailable

log = logging.getLogger(__name__)


def to_classification(
    p: Prediction,
    th: Thresholds,
    place_hint: str | None = None,
    entities: list[tuple[str, str]] | None = None,
    danger: tuple[str, ...] = (),
    danger_hint: tuple[str, ...] = (),
) -> Classification:
    """Prediction → domain Classification, flagging what falls under the calibrated thresholds."""
    return Classification(
        intent=p.intent,
        confidence=p.confidence,
        category=p.category,
        category_confidence=p.category_confidence,
        ranking=p.ranking,
        category_ranking=p.category_ranking,
        model_version=p.version,
        intent_sure=p.confidence >= th.intent,
        category_sure=p.category_confidence >= th.category,
        place_hint=place_hint,
        entities=entities or [],
        report_score=p.report_score,
        danger=danger,
        danger_hint=danger_hint,
    )


class BuiltinClassifier:
    """The shipped TF-IDF model (plus reviewed corrections), trained or loaded from cache on first use."""

    def __init__(
        self,
        model: NluModel | None = None,
        extra_dir: Path | None = None,
        thresholds: Thresholds | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self._model = model
        self._extra_dir = extra_dir
        self._data_dir = data_dir
        self._thresholds = thresholds
        self._danger: DangerModel | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> NluModel:
        """The trained model."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = load_or_train(training_examples(self._extra_dir, self._data_dir))
        return self._model

    @property
    def thresholds(self) -> Thresholds:
        """Calibrated thresholds; defaults (and a warning) when the calibration is for other data."""
        if self._thresholds is None:
            th = None
            paths = [self._extra_dir / "calibration.yml"] if self._extra_dir else []
            for path in [*paths, calibration_path(self._data_dir)]:
                candidate = load(path)
                if candidate is not None and self.model.version.endswith(candidate.data_hash):
                    th = candidate
                    break
            if th is None:
                log.warning(
                    "no calibration for model %s; using default thresholds (run `gridbot nlu calibrate`)",
                    self.model.version,
                )
                th = Thresholds(intent=0.5, category=0.4, group_report=0.9)
            self._thresholds = th
        return self._thresholds

    def classify_now(self, text: str) -> Classification:
        """Synchronous classification (CPU only, well under a millisecond), with place entities."""
        entities = load_extractor().extract(text)
        return to_classification(
            self.model.predict(text),
            self.thresholds,
            place_text(entities),
            [(e.type, e.value) for e in entities],
            *self.danger.readings(text),
        )

    @property
    def danger(self) -> DangerModel:
        """The danger model (shipped; trained in seconds if its data changed)."""
        if self._danger is None:
            with self._lock:
                if self._danger is None:
                    self._danger = load_danger()
        return self._danger

    async def classify(self, text: str) -> Classification:
        """Intent and category of one message."""
        return self.classify_now(text)


class RasaClassifier:
    """Classify through an existing Rasa server; on timeout or error fall back to the built-in model."""

    def __init__(self, client: RasaHttpClient, fallback: BuiltinClassifier) -> None:
        self.client = client
        self.fallback = fallback
        self.fallbacks = 0

    @property
    def thresholds(self) -> Thresholds:
        """The built-in calibration (Rasa's confidences are judged by the same bar)."""
        return self.fallback.thresholds

    async def classify(self, text: str) -> Classification:
        """Rasa's answer mapped onto our intents; the built-in model when Rasa cannot answer."""
        try:
            prediction = await self.client.parse(text)
        except RasaUnavailable as e:
            self.fallbacks += 1
            log.warning("Rasa unavailable (%s); classified with the built-in model", e)
            return await self.fallback.classify(text)
        entities = load_extractor().extract(text)
        return to_classification(
            prediction,
            self.thresholds,
            place_text(entities),
            [(e.type, e.value) for e in entities],
            *self.fallback.danger.readings(text),  # Rasa knows no danger head: ours reads every message
        )

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.client.close()
