"""Danger to life, learned: a small model beside the lexicon (domain/cases/hazards.yml) for the forms no word list
foresees. It reads the characters, their pinyin (so an input method's homophones and typed pinyin meet the
characters they stand for) and Latin words, and answers none or one of seven hazards.

Trained on `intents/data/danger*.csv` (one file per author, each written for it by its own hand); the threshold is
chosen out of fold on that data alone, for recall first; the evaluation files in tests/data/eval are never used to
choose anything.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline

from intents.model import (
    DATA_DIR,
    LinearScorer,
    features,
    head_arrays,
    normalize,
    pack_strings,
    read_head,
    unpack_strings,
    write_arrays,
)

SHIPPED_DANGER = Path(__file__).parent / "trained" / "danger.npz"
NONE = "none"
REV = "2"
# Share of everyday group talk the model may take for danger, out of fold (half the 0.5 % more false offers a
# group is asked to bear, leaving room for what new authors write); within it, as much recall as possible.
FALSE_ALARMS = 0.0025
# Reports the stricter threshold may take for danger beyond the lexicon's reading. Not all of them are wrong: the
# classifier's report lines include things about to fall on people, live wires and sagging structures (a hand check of
# 25 above the bar: most were danger to life); 2 % pushed the bar to 0.975 once the report lines grew (REV 10).
URGENT_EXTRA = 0.04
MIN_CONTENT = 4  # characters or Latin words; shorter cries ("着火了", "fire!") are the lexicon's
_CONTENT = re.compile(r"[\u3400-\u9fff]|[a-z]+")


def danger_features(norm: str) -> list[str]:
    """The classifier's features, plus pinyin syllables and syllable pairs of the characters (marked ♪)."""
    from pypinyin import lazy_pinyin

    syllables = [s for s in lazy_pinyin(norm) if s.isalpha() and s.isascii()]
    # Typed pinyin arrives as Latin words already; the characters' syllables join them in one vocabulary.
    spoken = [f"♪{s}" for s in syllables] + [f"♪{a}_{b}" for a, b in itertools.pairwise(syllables)]
    return features(norm) + spoken


def _pipeline() -> Pipeline:
    return make_pipeline(
        TfidfVectorizer(analyzer=danger_features, sublinear_tf=True, min_df=1),
        LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced"),
    )


def load_examples(path: Path | None = None) -> list[tuple[str, str]]:
    """(text, kind or none) from one training file, or from every author's (`danger*.csv`), a text once."""
    import csv

    out: dict[str, str] = {}
    for file in [path] if path is not None else sorted(DATA_DIR.glob("danger*.csv")):
        with file.open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                out.setdefault(r["text"], r["kind"] if r["is_danger"] == "1" else NONE)
    return list(out.items())


def everyday_lines() -> list[str]:
    """Ordinary talk from the classifier's own training data (greetings, chat, questions about the service): more
    of what a group says all day, as 'none'. Reports stay out (a report may well be a danger)."""
    from intents.model import shipped_examples

    return sorted({e.text for e in shipped_examples() if e.intent not in ("report_issue", "help", "report_status")})


def training_set() -> list[tuple[str, str]]:
    """The danger file plus the everyday lines."""
    data = load_examples()
    seen = {t for t, _ in data}
    return data + [(t, NONE) for t in everyday_lines() if t not in seen]


def data_hash(examples: list[tuple[str, str]]) -> str:
    """Content hash of the data and the pipeline: the model's version."""
    h = hashlib.sha256(f"danger:{REV}".encode())
    for text, kind in examples:
        h.update(f"{text}\t{kind}\n".encode())
    return h.hexdigest()[:12]


@dataclass
class DangerModel:
    """A gate (danger or not) at a threshold, and which hazard it is."""

    gate: LinearScorer
    kind: LinearScorer
    threshold: float
    version: str
    # Stricter, for acting on it alone in a private chat (emergency numbers, an urgent draft): ordinary reports of
    # hazards (e-bikes in a stairwell, a broken railing) are not danger to life now.
    urgent_threshold: float = 1.0

    def score(self, text: str) -> float:
        """How much the text reads as danger to life now."""
        return self._score(normalize(text))

    def _score(self, norm: str) -> float:
        return float(self.gate.proba(norm)[self.gate.classes.index(DANGER)])

    def readings(self, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The hazard it reads (at most one) at the stricter threshold and at the group's, each empty below its
        bar; a lone word ("电梯", "漏水？") is no message to judge. One pass for both."""
        norm = normalize(text)
        if len(_CONTENT.findall(norm)) < MIN_CONTENT:
            return (), ()
        score = self._score(norm)
        if score < self.threshold:
            return (), ()
        kind = (self.kind.ranking(norm)[0][0],)
        return (kind if score >= self.urgent_threshold else ()), kind

    def kinds(self, text: str, urgent: bool = False) -> tuple[str, ...]:
        """The hazard it reads at the group's threshold, or (`urgent`) at the stricter one."""
        strict, hint = self.readings(text)
        return strict if urgent else hint


DANGER = "danger"


def _gate(norms: list[str], labels: list[str]) -> LinearScorer:
    return LinearScorer(_pipeline().fit(norms, [DANGER if k != NONE else NONE for k in labels])).portable()


def choose_threshold(examples: list[tuple[str, str]], everyday: int, folds: int = 5) -> float:
    """The lowest threshold whose out-of-fold false alarms on everyday talk (the last `everyday` examples) stay
    within FALSE_ALARMS: as much recall as a group's patience allows."""
    norms = [normalize(t) for t, _ in examples]
    labels = [k for _, k in examples]
    scores = np.zeros(len(examples))
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=0).split(norms, labels):
        gate = _gate([norms[i] for i in train_idx], [labels[i] for i in train_idx])
        col = gate.classes.index(DANGER)
        scores[test_idx] = [gate.proba(norms[i])[col] for i in test_idx]
    talk = np.sort(scores[len(examples) - everyday :])
    if not len(talk):
        return 0.5
    # Above the (1 - FALSE_ALARMS) quantile of everyday talk's scores: at most that share of it raises an alarm.
    return round(max(0.5, float(talk[int(np.ceil(len(talk) * (1 - FALSE_ALARMS))) - 1]) + 1e-6), 6)


def choose_urgent_threshold(gate: LinearScorer, reports: list[str], known: Callable[[str], bool] | None) -> float:
    """The lowest threshold at which at most URGENT_EXTRA of ordinary reports (the classifier's report lines, which
    the gate never trained on) would be taken for danger beyond what `known` (the lexicon) already says."""
    col = gate.classes.index(DANGER)
    scores = np.array([gate.proba(normalize(t))[col] for t in reports])
    extra = np.array([not known(t) for t in reports]) if known is not None else np.ones(len(reports), dtype=bool)
    for bar in np.arange(0.5, 1.0, 0.005):
        if ((scores >= bar) & extra).mean() <= URGENT_EXTRA:
            return round(float(bar), 3)
    return 1.0


def report_lines() -> list[str]:
    """The classifier's report lines (hazards and nuisances alike)."""
    from intents.model import shipped_examples

    return sorted({e.text for e in shipped_examples() if e.intent == "report_issue"})


def train(examples: list[tuple[str, str]] | None = None, known: Callable[[str], bool] | None = None) -> DangerModel:
    """Fit the gate on everything and the kinds on the dangers, with the thresholds chosen on training data."""
    data = examples if examples is not None else training_set()
    everyday = len(data) - len(load_examples()) if examples is None else 0
    norms = [normalize(t) for t, _ in data]
    labels = [k for _, k in data]
    kinds = [(n, k) for n, k in zip(norms, labels, strict=True) if k != NONE]
    kind = LinearScorer(_pipeline().fit([n for n, _ in kinds], [k for _, k in kinds])).portable()
    threshold = choose_threshold(data, everyday)
    gate = _gate(norms, labels)
    urgent = choose_urgent_threshold(gate, report_lines(), known) if examples is None else threshold
    return DangerModel(gate, kind, threshold, f"danger-{data_hash(data)}", max(threshold, urgent))


def save(model: DangerModel, path: Path = SHIPPED_DANGER) -> None:
    """Plain arrays, as the intent model's file."""
    arrays: dict[str, np.ndarray] = {
        "version": pack_strings([model.version]),
        "threshold": np.array([model.threshold]),
        "urgent_threshold": np.array([model.urgent_threshold]),
    }
    arrays |= head_arrays("gate", model.gate) | head_arrays("kind", model.kind)
    write_arrays(path, arrays)


def read(path: Path = SHIPPED_DANGER) -> DangerModel:
    """The model from its file."""
    with np.load(path, allow_pickle=False) as npz:
        heads = []
        for name in ("gate", "kind"):
            scorer = read_head(npz, name)
            scorer.analyzer = danger_features
            heads.append(scorer)
        return DangerModel(
            heads[0],
            heads[1],
            float(npz["threshold"][0]),
            unpack_strings(npz["version"])[0],
            float(npz["urgent_threshold"][0]),
        )


def load_or_train(known: Callable[[str], bool] | None = None) -> DangerModel:
    """The shipped model when it was trained on the shipped data, else trained now (seconds)."""
    data = training_set()
    version = f"danger-{data_hash(data)}"
    if SHIPPED_DANGER.exists():
        try:
            model = read()
            if model.version == version:
                return model
        except (OSError, ValueError, KeyError):
            pass
    return train(known=known)
