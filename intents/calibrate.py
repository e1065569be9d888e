"""Confidence thresholds chosen from out-of-fold predictions on the training data.

Below the intent (or category) threshold the bot asks with buttons instead of guessing; above the group
threshold a group message reads as a report clearly enough to offer filing it. The folds leave one author out
at a time, so a threshold keeps its promise on people whose writing the model has not seen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import yaml
from joblib import Parallel, delayed
from sklearn.model_selection import StratifiedKFold

from intents.evaluate import curve, jobs
from intents.model import DATA_DIR, answer_intent, data_hash, train
from intents.rasa import REPORT, Example

CALIBRATION = DATA_DIR / "calibration.yml"
# A top answer under even odds is a guess, however right the head is on average (on 28 authors the category head
# kept 0.97 at every confidence, and would never have asked): there one tap on a button is cheaper.
FLOOR = 0.5


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
    group_false_offer: float = 0.0
    folds: str = "author"
    # Reliability out of fold: [low, high, count, mean confidence, share right] per confidence bin.
    intent_curve: list[list[float]] = field(default_factory=list)
    category_curve: list[list[float]] = field(default_factory=list)


Row = tuple[Example, str, float, str | None, float, float]


def _splits(examples: list[Example], folds: int, seed: int) -> list[tuple[list[int], list[int]]]:
    authors = sorted({e.source for e in examples})
    if len(authors) >= 3:
        return [
            ([i for i, e in enumerate(examples) if e.source != a], [i for i, e in enumerate(examples) if e.source == a])
            for a in authors
        ]
    labels = [f"{e.intent}/{e.category}" if e.category else e.intent for e in examples]
    k = max(2, min(folds, min(Counter(labels).values())))
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(list(tr), list(te)) for tr, te in skf.split(np.zeros(len(labels)), labels)]


def _fold_rows(train_on: list[Example], held: list[Example]) -> list[Row]:
    model = train(train_on)
    out: list[Row] = []
    for e in held:
        p = model.predict(e.text)
        report = p.report_score if p.report_score is not None else (p.confidence if p.intent == REPORT else 0.0)
        out.append((e, p.intent, p.confidence, p.category, p.category_confidence, report))
    return out


def _oof(examples: list[Example], folds: int, seed: int) -> list[Row]:
    splits = _splits(examples, folds, seed)
    # One fit per author is the cost (about 30 s each); the folds are independent, so every core takes some.
    parts = Parallel(n_jobs=jobs(len(splits)))(
        delayed(_fold_rows)([examples[i] for i in tr], [examples[i] for i in te]) for tr, te in splits
    )
    return [row for part in parts for row in part]


def _group_threshold(rows: list[Row], max_false_offer: float) -> tuple[float, float, float, float]:
    """Smallest group score whose false-offer rate on non-reports stays within the target; with its false-offer
    rate, the recall of reports and the precision of offers."""
    reports = sorted((r[5] for r in rows if r[0].intent == REPORT), reverse=True)
    others = sorted((r[5] for r in rows if r[0].intent != REPORT), reverse=True)
    allowed = int(max_false_offer * len(others))
    # Above the (allowed+1)-th highest non-report score, at most `allowed` non-reports are offered.
    t = others[allowed] + 1e-6 if allowed < len(others) else 0.0
    t = max(t, 0.5)
    false = sum(1 for x in others if x >= t) / max(1, len(others))
    recall = sum(1 for x in reports if x >= t) / max(1, len(reports))
    offered = sum(1 for x in reports if x >= t) + sum(1 for x in others if x >= t)
    precision = sum(1 for x in reports if x >= t) / max(1, offered)
    return t, false, recall, precision


def _lowest_threshold(
    pairs: list[tuple[float, bool]], precision: float, floor: float = FLOOR
) -> tuple[float, float, float]:
    """Smallest t (at least `floor`) whose predictions at confidence ≥ t are right at least `precision` of the
    time; with the precision and the share of predictions at or above it."""
    pairs.sort(key=lambda x: -x[0])
    best = (1.0, 1.0, 0.0)
    right = 0
    for n, (conf, ok) in enumerate(pairs, start=1):
        right += ok
        if right / n >= precision:
            best = (conf, right / n, n / len(pairs))
    if best[0] < floor:
        above = [ok for conf, ok in pairs if conf >= floor]
        best = (floor, sum(above) / max(1, len(above)), len(above) / max(1, len(pairs)))
    return best


def choose(
    examples: list[Example],
    folds: int = 5,
    seed: int = 11,
    intent_precision: float = 0.97,
    category_precision: float = 0.97,
    max_false_offer: float = 0.015,
) -> Thresholds:
    """Pick thresholds that keep precision (and the group false-offer rate) within the targets out of fold."""
    rows = _oof(examples, folds, seed)
    it_rows = [(c, answer_intent(e.intent) == p) for e, p, c, _, _, _ in rows]
    it, it_p, it_cov = _lowest_threshold(list(it_rows), intent_precision)
    cat_rows = [(cc, e.category == pc) for e, _, _, pc, cc, _ in rows if e.intent == REPORT and e.category]
    ct, ct_p, ct_cov = _lowest_threshold(list(cat_rows), category_precision)
    gt, false, recall, precision = _group_threshold(rows, max_false_offer)
    return Thresholds(
        intent=round(it, 4),
        category=round(ct, 4),
        group_report=round(gt, 4),
        data_hash=data_hash(examples),
        intent_precision_above=round(it_p, 4),
        intent_coverage=round(it_cov, 4),
        category_precision_above=round(ct_p, 4),
        category_coverage=round(ct_cov, 4),
        group_precision_above=round(precision, 4),
        group_recall=round(recall, 4),
        group_false_offer=round(false, 4),
        folds="author" if len({e.source for e in examples}) >= 3 else f"{folds}-fold",
        intent_curve=curve(it_rows),
        category_curve=curve(cat_rows),
    )


def calibration_path(data_dir: Path | None = None) -> Path:
    """Where the thresholds for a training set live: beside its data."""
    return (data_dir or DATA_DIR) / "calibration.yml"


def save(thresholds: Thresholds, path: Path = CALIBRATION) -> None:
    """Write thresholds as YAML."""
    path.write_text(
        "# Written by `gridbot nlu calibrate` (out-of-fold predictions on the training data, one author left out"
        " at a time).\n"
        + yaml.safe_dump(asdict(thresholds), sort_keys=False, allow_unicode=True, width=200, default_flow_style=None),
        encoding="utf-8",
    )


def load(path: Path = CALIBRATION) -> Thresholds | None:
    """Thresholds from YAML, or None."""
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Thresholds(**{k: v for k, v in data.items() if k in Thresholds.__dataclass_fields__})
