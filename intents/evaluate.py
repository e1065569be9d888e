"""Scores: accuracy, macro-F1, per-label F1 and confusions, for intent and report category."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from intents.model import NluModel, train
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
    preds = [model.predict(e.text) for e in examples]
    intent = score([e.intent for e in examples], [p.intent for p in preds])
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
            it_true.append(ex.intent)
            it_pred.append(p.intent)
            if ex.intent == REPORT and ex.category:
                cat_true.append(ex.category)
                cat_pred.append(p.category or "")
    return score(it_true, it_pred), score(cat_true, cat_pred)


def summary_json(intent: Scores, category: Scores) -> dict[str, float]:
    """The four headline numbers."""
    return {
        "intent_accuracy": round(intent.accuracy, 4),
        "intent_macro_f1": round(intent.macro_f1, 4),
        "category_accuracy": round(category.accuracy, 4),
        "category_macro_f1": round(category.macro_f1, 4),
    }


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
    return "\n".join(out)
