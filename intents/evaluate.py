"""Scores: accuracy, macro-F1, per-label F1 and confusions, for intent and report category."""

from __future__ import annotations

import itertools
import os
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import yaml
from joblib import Parallel, delayed
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from intents.model import DATA_DIR, NluModel, Prediction, answer_intent, train
from intents.rasa import REPORT, Example


@dataclass
class Scores:
    """Evaluation result of one task (intent or category)."""

    accuracy: float
    macro_f1: float
    per_label: dict[str, float] = field(default_factory=dict)
    confusions: list[tuple[str, str, int]] = field(default_factory=list)
    n: int = 0


def score(truth: list[str], predicted: list[str]) -> Scores:
    """Accuracy, macro-F1 over the true labels, per-label F1 and the most frequent confusions."""
    if not truth:
        return Scores(0.0, 0.0)
    labels = sorted(set(truth))
    per = f1_score(truth, predicted, labels=labels, average=None, zero_division=0)
    confusions = Counter((t, p) for t, p in zip(truth, predicted, strict=True) if t != p)
    return Scores(
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(np.mean(per)),
        per_label={lab: float(f) for lab, f in zip(labels, per, strict=True)},
        confusions=[(t, p, n) for (t, p), n in confusions.most_common()],
        n=len(truth),
    )


def evaluate(model: NluModel, examples: list[Example]) -> tuple[Scores, Scores]:
    """Intent scores on all rows; category scores on rows whose true intent is report_issue."""
    return score_predictions(examples, [model.predict(e.text) for e in examples])


def score_predictions(examples: list[Example], preds: list[Prediction]) -> tuple[Scores, Scores]:
    """Intent and category scores of predictions already made for these examples."""
    intent = score([answer_intent(e.intent) for e in examples], [p.intent for p in preds])
    pairs = [
        (e.category, p.category) for e, p in zip(examples, preds, strict=True) if e.intent == REPORT and e.category
    ]
    category = score([t for t, _ in pairs], [p or "" for _, p in pairs])
    return intent, category


def cross_validate(examples: list[Example], folds: int = 5, seed: int = 7) -> tuple[Scores, Scores]:
    """Stratified k-fold on (intent, category) labels; predictions pooled over folds, then scored."""
    labels = [f"{e.intent}/{e.category}" if e.intent == REPORT and e.category else e.intent for e in examples]
    smallest = min(Counter(labels).values())
    k = max(2, min(folds, smallest))
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    it_true: list[str] = []
    it_pred: list[str] = []
    cat_true: list[str] = []
    cat_pred: list[str] = []
    for train_idx, test_idx in skf.split(np.zeros(len(labels)), labels):
        model = train([examples[i] for i in train_idx])
        for i in test_idx:
            ex = examples[i]
            p = model.predict(ex.text)
            it_true.append(answer_intent(ex.intent))
            it_pred.append(p.intent)
            if ex.intent == REPORT and ex.category:
                cat_true.append(ex.category)
                cat_pred.append(p.category or "")
    return score(it_true, it_pred), score(cat_true, cat_pred)


def cross_validate_by_author(examples: list[Example]) -> tuple[Scores, Scores, dict[str, tuple[Scores, Scores]]]:
    """Leave one author out: train on everyone else, score on that author; pooled and per author.

    Texts by one hand share habits (words, length, punctuation) that a model learns and a stranger does not
    share, so a random split flatters; this is the figure that says how it does on people it has never met.
    """
    authors = sorted({e.source for e in examples})
    if len(authors) < 2:
        raise ValueError("leave-one-author-out needs examples from at least two authors")
    helds = [[e for e in examples if e.source == a] for a in authors]
    preds = Parallel(n_jobs=jobs(len(authors)))(
        delayed(_predict_held)([e for e in examples if e.source != a], held)
        for a, held in zip(authors, helds, strict=True)
    )
    per = {a: score_predictions(held, p) for a, held, p in zip(authors, helds, preds, strict=True)}
    pooled = [e for held in helds for e in held]
    return (*score_predictions(pooled, [p for part in preds for p in part]), per)


def _predict_held(train_on: list[Example], held: list[Example]) -> list[Prediction]:
    model = train(train_on)
    return [model.predict(e.text) for e in held]


def jobs(tasks: int) -> int:
    """Worker processes for independent fits: one per core, at most one per task."""
    return max(1, min(tasks, os.cpu_count() or 1))


@dataclass
class OfferScores:
    """How group listening does on labelled group messages."""

    false_offer_rate: float
    recall: float
    n_non_reports: int
    n_reports: int
    offered_non_reports: list[str] = field(default_factory=list)
    missed_reports: list[str] = field(default_factory=list)


def offered(p: Prediction, threshold: float) -> bool:
    """The group decision (mirrors the domain's): the report-or-chat score, else the report intent's confidence."""
    if p.report_score is not None:
        return p.report_score >= threshold
    return p.intent == REPORT and p.confidence >= threshold


def offers(model: NluModel, rows: list[tuple[str, bool]], threshold: float) -> OfferScores:
    """False-offer rate on messages that are not reports, recall on those that are."""
    non = [t for t, r in rows if not r]
    rep = [t for t, r in rows if r]
    wrong = [t for t in non if offered(model.predict(t), threshold)]
    missed = [t for t in rep if not offered(model.predict(t), threshold)]
    return OfferScores(
        len(wrong) / max(1, len(non)), 1 - len(missed) / max(1, len(rep)), len(non), len(rep), wrong, missed
    )


BINS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)


def curve(pairs: list[tuple[float, bool]], bins: tuple[float, ...] = BINS) -> list[list[float]]:
    """Reliability curve: per confidence bin [low, high, count, mean confidence, share right]."""
    out: list[list[float]] = []
    for lo, hi in itertools.pairwise(bins):
        inside = [(c, ok) for c, ok in pairs if lo <= c < hi or (hi == bins[-1] and c == hi)]
        if inside:
            mean = sum(c for c, _ in inside) / len(inside)
            right = sum(ok for _, ok in inside) / len(inside)
            out.append([lo, hi, len(inside), round(mean, 3), round(right, 3)])
    return out


def precision_above(pairs: list[tuple[float, bool]], threshold: float) -> tuple[float, float]:
    """Share right among predictions at confidence ≥ threshold, and the share of predictions that are."""
    above = [ok for c, ok in pairs if c >= threshold]
    return (sum(above) / len(above) if above else 0.0), len(above) / max(1, len(pairs))


def curve_text(name: str, rows: list[list[float]]) -> str:
    """A reliability curve as lines a person reads: is 0.9 confident right 9 times in 10?"""
    out = [f"{name} calibration (confidence bin: n, mean confidence → share right):"]
    out += [f"  [{lo:.2f}, {hi:.2f}): n={int(n):<5} {mean:.3f} → {right:.3f}" for lo, hi, n, mean, right in rows]
    return "\n".join(out)


def confidence_pairs(
    examples: list[Example], preds: list[Prediction]
) -> tuple[list[tuple[float, bool]], list[tuple[float, bool]]]:
    """(confidence, right) for the intent of every row and the category of every report row."""
    it = [(p.confidence, p.intent == answer_intent(e.intent)) for e, p in zip(examples, preds, strict=True)]
    cat = [
        (p.category_confidence, p.category == e.category)
        for e, p in zip(examples, preds, strict=True)
        if e.intent == REPORT and e.category
    ]
    return it, cat


def summary_json(intent: Scores, category: Scores) -> dict[str, float]:
    """The four headline numbers."""
    return {
        "intent_accuracy": round(intent.accuracy, 4),
        "intent_macro_f1": round(intent.macro_f1, 4),
        "category_accuracy": round(category.accuracy, 4),
        "category_macro_f1": round(category.macro_f1, 4),
    }


UNITS = DATA_DIR / "units.yml"


def handling_units() -> dict[str, str]:
    """Category → the body that usually handles it (`intents/data/units.yml`)."""
    data = yaml.safe_load(UNITS.read_text(encoding="utf-8")) or {}
    return {str(k): str(v).split(" (")[0] for k, v in data.items()}


def across_units(category: Scores, units: dict[str, str] | None = None) -> tuple[int, list[tuple[str, str, int]]]:
    """Category errors that would send a case to another body: how many, and which."""
    units = handling_units() if units is None else units
    wrong = [(t, p, n) for t, p, n in category.confusions if units.get(t, t) != units.get(p, p)]
    return sum(n for _, _, n in wrong), wrong


def report_text(intent: Scores, category: Scores) -> str:
    """Human-readable report."""
    out: list[str] = []
    for name, s in (("intent", intent), ("category", category)):
        out.append(f"{name}: n={s.n} accuracy={s.accuracy:.3f} macro-F1={s.macro_f1:.3f}")
        for lab, f in sorted(s.per_label.items()):
            out.append(f"  {lab:<20} F1={f:.3f}")
        if s.confusions:
            out.append("  confusions (true → predicted: count):")
            out += [f"    {t} → {p}: {n}" for t, p, n in s.confusions[:15]]
    if category.n:
        units = handling_units()
        n, wrong = across_units(category, units)
        errors = sum(c for _, _, c in category.confusions)
        out.append(
            f"category errors that reach another body: {n} of {errors} errors, {n / category.n:.1%} of {category.n}"
            " reports (intents/data/units.yml)"
        )
        out += [f"    {t} ({units.get(t, '?')}) → {p} ({units.get(p, '?')}): {c}" for t, p, c in wrong[:10]]
    return "\n".join(out)
