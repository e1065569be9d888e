"""How the classifier holds up under the way people really type: the held-out files, each rewritten
mechanically (seeded) as voice input with fillers, with "？？" after every clause, with heavy punctuation, as
unspaced whole-sentence pinyin, as English with punctuation glued between words, and with a quarter of the
characters swapped for homophones — against the same files typed cleanly.

Per form: intent accuracy (answered intents) and the share of reports a group would be offered (the report-or-not
score at the shipped group threshold). The baseline is the clean text in the same run; the bar (issue 20) is
each form within 2 points of clean.

Usage: python bench/nlu_typing.py [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.nlu import BuiltinClassifier  # noqa: E402
from intents.model import answer_intent, load_or_train  # noqa: E402

FILES = (ROOT / "tests/data/nlu_eval.csv", ROOT / "tests/data/eval/heldout_b.csv")
_CLAUSE = re.compile(r"[，。！？,.!?；;\s]+")
_HAN = re.compile(r"[\u4e00-\u9fff]")
FILLERS = ("那个", "就是", "嗯", "然后", "呃", "就是说")


def fillers(text: str, rng: random.Random) -> str:
    """Voice input: a filler every few characters."""
    out, i = [], 0
    while i < len(text):
        step = rng.randint(3, 6)
        out.append(text[i : i + step])
        i += step
        if i < len(text):
            out.append(rng.choice(FILLERS))
    return "".join(out)


def question_marks(text: str, rng: random.Random) -> str:
    """ "？？" after every clause."""
    return "？？".join(p for p in _CLAUSE.split(text) if p) + "？？"


def heavy_punctuation(text: str, rng: random.Random) -> str:
    """…… and 。。。 between clauses, ！！！ at the end."""
    parts = [p for p in _CLAUSE.split(text) if p]
    return "".join(p + rng.choice(("……", "。。。", "！！", "，，")) for p in parts[:-1]) + parts[-1] + "！！！"


def unspaced_pinyin(text: str, rng: random.Random) -> str:
    """The whole sentence in toneless pinyin, no spaces."""
    from pypinyin import lazy_pinyin

    return "".join(s for s in lazy_pinyin(text) if s.strip())


def spaced_pinyin(text: str, rng: random.Random) -> str:
    """The whole sentence in toneless pinyin, a space between syllables (the ceiling for the unspaced form)."""
    from pypinyin import lazy_pinyin

    return " ".join(s for s in lazy_pinyin(text) if s.strip())


def glued_english(text: str, rng: random.Random) -> str:
    """English with punctuation instead of spaces ("gas,smell,building3")."""
    return re.sub(r"\s+", lambda _: rng.choice((",", ".", "!", ",,")), text.strip())


def homophones(pool: dict[str, list[str]]) -> Callable[[str, random.Random], str]:
    """A quarter of the characters swapped for another common one with the same sound."""
    from pypinyin import lazy_pinyin

    def swap(text: str, rng: random.Random) -> str:
        out = []
        for ch in text:
            if _HAN.fullmatch(ch) and rng.random() < 0.25:
                others = [c for c in pool.get(lazy_pinyin(ch)[0], []) if c != ch]
                out.append(rng.choice(others) if others else ch)
            else:
                out.append(ch)
        return "".join(out)

    return swap


def main() -> None:
    """Print accuracy and group share per form; the last line is JSON with --json."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from pypinyin import lazy_pinyin

    rows = []
    for path in FILES:
        with path.open(encoding="utf-8", newline="") as fh:
            rows += [(r["text"], r["intent"]) for r in csv.DictReader(fh)]
    model = load_or_train()
    classifier = BuiltinClassifier(model)
    threshold = classifier.thresholds.group_report
    # Homophones come from characters people actually type: those of the training data.
    from intents.model import shipped_examples

    pool: dict[str, list[str]] = {}
    for ch in sorted({c for e in shipped_examples() for c in e.text if _HAN.fullmatch(c)}):
        pool.setdefault(lazy_pinyin(ch)[0], []).append(ch)
    forms: dict[str, tuple[Callable[[str, random.Random], str], Callable[[str], bool]]] = {
        "clean": (lambda t, r: t, lambda t: True),
        "fillers": (fillers, lambda t: bool(_HAN.search(t))),
        "question_marks": (question_marks, lambda t: True),
        "heavy_punctuation": (heavy_punctuation, lambda t: True),
        "spaced_pinyin": (spaced_pinyin, lambda t: bool(_HAN.search(t))),
        "unspaced_pinyin": (unspaced_pinyin, lambda t: bool(_HAN.search(t))),
        "glued_english": (glued_english, lambda t: not _HAN.search(t) and len(t.split()) > 2),
        "homophones_25": (homophones(pool), lambda t: bool(_HAN.search(t))),
    }
    results = {}
    for name, (rewrite, applies) in forms.items():
        rng = random.Random(20261207)
        chosen = [(rewrite(t, rng), gold) for t, gold in rows if applies(t)]
        right = offered = reports = 0
        for text, gold in chosen:
            p = model.predict(text)
            right += p.intent == answer_intent(gold)
            if gold == "report_issue":
                reports += 1
                offered += (p.report_score or 0.0) >= threshold
        results[name] = {"n": len(chosen), "accuracy": right / len(chosen), "group_offered": offered / max(1, reports)}
        print(
            f"{name:18} n={len(chosen):4}  intent accuracy {right / len(chosen):.3f}  reports a group would be offered "
            f"{offered / max(1, reports):.3f}"
        )
    clean = results["clean"]
    worst = min((r["accuracy"] - clean["accuracy"], n) for n, r in results.items())
    print(f"worst drop from clean: {worst[0] * 100:+.1f} points ({worst[1]})")
    if args.json:
        print(json.dumps({n: {k: round(v, 4) for k, v in r.items()} for n, r in results.items()}))


if __name__ == "__main__":
    main()
