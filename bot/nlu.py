"""Adapts the intents package to the domain's Classifier port."""

from __future__ import annotations

import threading

from domain.model import Classification
from intents.model import NluModel, load_or_train


class BuiltinClassifier:
    """The shipped TF-IDF model, trained (or loaded from cache) on first use."""

    def __init__(self, model: NluModel | None = None) -> None:
        self._model = model
        self._lock = threading.Lock()

    @property
    def model(self) -> NluModel:
        """The trained model."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = load_or_train()
        return self._model

    def classify(self, text: str) -> Classification:
        """Intent and category of one message."""
        p = self.model.predict(text)
        return Classification(
            intent=p.intent,
            confidence=p.confidence,
            category=p.category,
            category_confidence=p.category_confidence,
            ranking=p.ranking,
            category_ranking=p.category_ranking,
            model_version=p.version,
        )
