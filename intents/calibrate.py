"""Confidence thresholds chosen from out-of-fold predictions on the training data.

Below the intent (or category) threshold the bot asks with buttons instead of guessing; above the group
threshold a group message reads as a report clearly enough to offer filing it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import yaml
from sklearn.model_selection import StratifiedKFold

from intents.model import data_hash, train
from intents.rasa import REPORT, Example

CALIBRATION = Path(__file__).parent / "data" / "calibration.yml"


@dataclass
class Thresholds:
    """Confidence thresholds and what they buy, as measured out of fold."""

    intent: float = 0.5
    category: float = 0.4
    group_report: float = 0.9
    data_hash: str = ""
    intent_precision_above: float = 0.0
    intent_coverage: float = 0.0
    category_precision_above: float = 0.0
    category_coverage: float = 0.0
    group_precision_above: float = 0.0
    group_recall: float = 0.0


def _oof(examples: list[Example], folds: int, seed: int) -> list[tuple[Example, str, float, str | None, float]]:
    labels = [f"{e.intent}/{e.category}" if e.category else e.intent for e in examples]
    k = max(2, min(folds, min(Counter(labels).values())))
    out: list[tuple[Example, str, float, str | None, float]] = []
    for tr, te in StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels):
        model = train([examples[i] for i in tr])
        for i in te:
            p = model.predict(examples[i].text)
            out.append((examples[i], p.intent, p.confidence, p.category, p.category_confidence))
    return out


def _lowest_threshold(pairs: list[tuple[float, bool]], precision: float) -> tuple[float, float, float]:
    """Smallest t whose predictions at confidence ≥ t are right at least `precision` of the time."""
    pairs.sort(key=lambda x: -x[0])
    best = (1.0, 1.0, 0.0)
    right = 0
    for n, (conf, ok) in enumerate(pairs, start=1):
        right += ok
        if right / n >= precision:
            best = (conf, right / n, n / len(pairs))
    return best


def choose(
    examples: list[Example],
    folds: int = 5,
    seed: int = 11,
    intent_precision: float = 0.97,
    category_precision: float = 0.95,
    group_precision: float = 0.99,
) -> Thresholds:
    """Pick thresholds that keep precision above the targets on out-of-fold predictions."""
    rows = _oof(examples, folds, seed)
    it, it_p, it_cov = _lowest_threshold([(c, e.intent == p) for e, p, c, _, _ in rows], intent_precision)
    cat_rows = [(cc, e.category == pc) for e, _, _, pc, cc in rows if e.intent == REPORT and e.category]
    ct, ct_p, ct_cov = _lowest_threshold(cat_rows, category_precision)
    # Group offers: precision of "this is a report" among messages the model calls reports.
    grp = [(c, e.intent == REPORT) for e, p, c, _, _ in rows if p == REPORT]
    gt, gt_p, _ = _lowest_threshold(grp, group_precision)
    reports = sum(1 for e, *_ in rows if e.intent == REPORT)
    recall = sum(1 for e, p, c, _, _ in rows if e.intent == REPORT and p == REPORT and c >= gt) / max(1, reports)
    return Thresholds(
        intent=round(it, 4),
        category=round(ct, 4),
        group_report=round(max(gt, 0.5), 4),
        data_hash=data_hash(examples),
        intent_precision_above=round(it_p, 4),
        intent_coverage=round(it_cov, 4),
        category_precision_above=round(ct_p, 4),
        category_coverage=round(ct_cov, 4),
        group_precision_above=round(gt_p, 4),
        group_recall=round(recall, 4),
    )


def save(thresholds: Thresholds, path: Path = CALIBRATION) -> None:
    """Write thresholds as YAML."""
    path.write_text(
        "# Written by `gridbot nlu calibrate` (out-of-fold predictions on the training data).\n"
        + yaml.safe_dump(asdict(thresholds), sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )


def load(path: Path = CALIBRATION) -> Thresholds | None:
    """Thresholds from YAML, or None."""
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Thresholds(**{k: v for k, v in data.items() if k in Thresholds.__dataclass_fields__})
