"""Character n-gram TF-IDF + logistic regression: one model for intent, one for report category."""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import pickle
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from intents.rasa import REPORT, Example, load_nlu

DATA_DIR = Path(__file__).parent / "data"
DATA = DATA_DIR / "nlu.yml"
# One file per independent author (persona): leave-one-author-out cross-validation is the honest measure.
AUTHORS = DATA_DIR / "authors"
# The model trained on the shipped data, shipped with the package (plain arrays; `gridbot nlu train` rebuilds it):
# a new office's first start trains nothing.
SHIPPED_MODEL = Path(__file__).parent / "trained" / "nlu.npz"
MODEL_FORMAT = 1
PIPELINE_NAME = "tfidf-char-lr"
# Bump when the features or estimator change, so cached models built by older code are not reused.
PIPELINE_REV = "10"
_DIGITS = re.compile(r"\d+")
# A tone number typed after a pinyin syllable (lu4deng1, "wu4 ye4"): a syllable ends in a vowel, n, g or r.
_TONE = re.compile(r"(?<=[aeiouvünrg])[1-5](?=[a-z]|\W|$)")
_HAN = re.compile(r"[\u4e00-\u9fff]")
# A Latin letter with a mark on it (pinyin tone marks: diàntī; also é, ñ): learners type pinyin the way textbooks print
# it, and the training data's pinyin copies carry no marks.
_MARKED = re.compile(r"[\u00c0-\u024f\u1e00-\u1eff]")
M = TypeVar("M")
# Talk between residents is a label of its own in the data (the group model learns it as "not a report"), but the
# bot does with it what it does with anything else it has no service for: the answer folds it into that intent.
FOLDED = {"chitchat": "out_of_scope"}
SHORT_MESSAGE = 5  # characters (or latin words) of content below which a group message is not offered fully


@functools.cache
def _t2s() -> Callable[[str], str]:
    # OpenCC's own Traditional → Simplified tables (phrases, not just characters): 樓道裡 → 楼道里.
    import opencc

    return opencc.OpenCC("t2s.json").convert  # type: ignore[no-any-return]


def _unmark(m: re.Match[str]) -> str:
    # ü and its toned forms become v, as pypinyin spells them (lǜ → lv) and as a pinyin keyboard types them.
    parts = unicodedata.normalize("NFD", m[0])
    return "v" if parts[0] == "u" and "\u0308" in parts else parts[0]


def normalize(text: str) -> str:
    """Full-width to half-width, Traditional to Simplified, lower case, pinyin tone marks and numbers dropped, every
    other number → 0 (building numbers carry no class signal), punctuation and symbols → a space (how much of it,
    and where — "？？" after every clause, "……", "gas,smell,building3" — is how people type, not what they say),
    voice-input fillers (那个、就是、嗯) dropped unless they are all there is, and whole-sentence pinyin typed without
    spaces split into its syllables, as the training data's pinyin copies are."""
    text = _t2s()(unicodedata.normalize("NFKC", text)).lower()
    text = _TONE.sub("", _MARKED.sub(_unmark, text))
    text = _DIGITS.sub("0", _PUNCTUATION.sub(" ", text))
    # Fillers say nothing about what a message is, and spoken input scatters them everywhere (chosen on eight
    # training authors held out: fillers every few characters 0.913 → 0.945 intent accuracy, clean 0.955 both).
    spoken = _FILLERS.sub(" ", text)
    return _spaced_pinyin(" ".join((spoken if spoken.strip() else text).split()))


_PUNCTUATION = re.compile(r"[^\w\s]+|_+")
_FILLERS = re.compile(r"就是说|就是|那个|然后|嗯+|呃+")
_LATIN_RUN = re.compile(r"[a-z]+")


@functools.cache
def _syllables() -> frozenset[str]:
    # Every toneless pinyin syllable (about 420), from pypinyin's own dictionary.
    from pypinyin import lazy_pinyin

    return frozenset(p for c in range(0x4E00, 0x9FA6) for p in lazy_pinyin(chr(c)) if p.isalpha())


@functools.cache
def _syllable_costs() -> dict[str, float]:
    # How often each syllable is read in pypinyin's phrase dictionary (≈ 400,000 words), as −log p: typed pinyin is
    # split into its likeliest syllables ("denan" is de nan, not den an; "quner" is qun er only if nothing better).
    import math
    import unicodedata

    from pypinyin.phrases_dict import phrases_dict

    counts = dict.fromkeys(_syllables(), 1)
    for readings in phrases_dict.values():
        for reading in readings:
            spelled = unicodedata.normalize("NFD", reading[0]).replace("u\u0308", "v")  # lǜ → lv, as typed
            plain = "".join(c for c in spelled if not unicodedata.combining(c))
            if plain in counts:
                counts[plain] += 1
    total = sum(counts.values())
    return {syllable: math.log(total / n) for syllable, n in counts.items()}


def _split_syllables(run: str) -> list[str] | None:
    """A run of letters as its likeliest pinyin syllables (fewest, commonest), or None if it is not pinyin."""
    costs = _syllable_costs()
    # best[i]: the cheapest split of run[:i] and where its last syllable starts.
    best: list[tuple[float, int]] = [(0.0, 0)] + [(float("inf"), 0)] * len(run)
    for i in range(len(run)):
        if best[i][0] == float("inf"):
            continue
        for n in range(1, min(6, len(run) - i) + 1):
            cost = costs.get(run[i : i + n])
            if cost is not None and best[i][0] + cost < best[i + n][0]:
                best[i + n] = (best[i][0] + cost, i)
    if best[-1][0] == float("inf"):
        return None
    out, end = [], len(run)
    while end:
        start = best[end][1]
        out.append(run[start:end])
        end = start
    return out[::-1]


def _spaced_pinyin(text: str) -> str:
    # Only a message that is pinyin through and through: English words are rarely all syllables ("the", "is",
    # "with" are not), so a sentence of English stays as it is.
    runs = _LATIN_RUN.findall(text)
    if not runs or sum(len(r) for r in runs) < 6:
        return text
    parts = {r: _split_syllables(r) for r in runs}
    if sum(len(r) for r in runs if parts[r] is not None) < 0.9 * sum(len(r) for r in runs):
        return text
    return _LATIN_RUN.sub(lambda m: " ".join(parts[m[0]] or [m[0]]), text)


def pinyin(text: str) -> str:
    """Toneless pinyin of a Chinese text, syllables spaced as people type them (楼道 → lou dao)."""
    from pypinyin import lazy_pinyin

    return " ".join(" ".join(lazy_pinyin(normalize(text))).split())


def augment(examples: list[Example]) -> list[Example]:
    """The examples plus a pinyin copy of each Chinese one: a message typed in pinyin then reads like its
    characters (nobody writes the training data twice)."""
    extra = [Example(pinyin(e.text), e.intent, e.category, e.source) for e in examples if _HAN.search(e.text)]
    return examples + extra


@dataclass
class Prediction:
    """Classifier output."""

    intent: str
    confidence: float
    category: str | None
    category_confidence: float
    ranking: list[tuple[str, float]] = field(default_factory=list)
    category_ranking: list[tuple[str, float]] = field(default_factory=list)
    version: str = ""
    report_score: float | None = None


_CHAR_GRAMS = TfidfVectorizer(analyzer="char", ngram_range=(1, 3)).build_analyzer()
_LATIN_WORD = re.compile(r"[a-z]{2,}")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")


@functools.cache
def _sound(char: str) -> str | None:
    """The toneless syllable of one Chinese character (its commonest reading)."""
    from pypinyin import lazy_pinyin

    syllable = lazy_pinyin(char)[0]
    return syllable if syllable.isascii() and syllable.isalpha() else None


def features(norm: str) -> list[str]:
    """Character 1–3-grams of a normalized text, character pairs one apart (marked ¤), and its words and word pairs
    (marked §): Latin words, and the syllables of its Chinese characters."""
    words = _LATIN_WORD.findall(norm)
    grams: list[str] = _CHAR_GRAMS(norm)
    # A pair with one character skipped meets across the small words people drop in or leave out (电梯又坏了 and
    # 电梯坏了 share 梯坏); English and typed pinyin carry their meaning in words, which trigrams see in pieces.
    skips = [f"¤{a}{c}" for a, c in zip(norm, norm[2:], strict=False) if not (a.isspace() or c.isspace())]
    pairs = list(itertools.pairwise(words))
    # Characters read as their syllables too: an input method's homophones (电题, 然气) and typed pinyin (dian ti)
    # meet the words they stand for. Chosen on eight training authors held out: homophones 0.894 → 0.949 intent
    # accuracy, clean text unchanged (0.955). Pairs stay inside a run of characters.
    for run in _HAN_RUN.findall(norm):
        sounds = [s for s in map(_sound, run) if s]
        words += sounds
        pairs += itertools.pairwise(sounds)
    return grams + skips + ["§" + w for w in words] + [f"§{a}_{b}" for a, b in pairs]


def _pipeline() -> Pipeline:
    return make_pipeline(
        # Character 1–3-grams chosen by 5-fold CV (intent macro-F1 0.821 → 0.852 over char_wb, unbalanced); the
        # Latin words by leave-one-author-out (intent 0.935 → 0.939, category 0.959 → 0.963; English and pinyin
        # authors +1.4 to +2.8 points); the one-apart pairs the same way (intent 0.946 → 0.947 on 28 authors).
        TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=1),
        LogisticRegression(C=20.0, max_iter=3000, class_weight="balanced"),
    )


class LinearScorer:
    """The fitted TF-IDF + logistic regression evaluated directly (same numbers as predict_proba).

    sklearn's per-call input validation costs ~0.4 ms a message; a message has ~60 n-grams, so the
    sparse dot product itself is a few microseconds.
    """

    def __init__(self, pipe: Pipeline) -> None:
        vec: TfidfVectorizer = pipe.steps[0][1]
        lr: LogisticRegression = pipe.steps[-1][1]
        if vec.norm != "l2" or not vec.sublinear_tf or not vec.use_idf:
            raise ValueError("LinearScorer expects sublinear TF, IDF and l2 norm")
        self.analyzer: Callable[[str], list[str]] = vec.build_analyzer()
        self.vocabulary: dict[str, int] = {str(k): int(v) for k, v in vec.vocabulary_.items()}
        self.idf = np.asarray(vec.idf_, dtype=np.float64)
        self.weights_t = np.ascontiguousarray(np.asarray(lr.coef_, dtype=np.float64).T)
        self.intercept = np.asarray(lr.intercept_, dtype=np.float64)
        self.classes = [str(c) for c in lr.classes_]

    @classmethod
    def from_arrays(
        cls, terms: list[str], idf: np.ndarray, weights_t: np.ndarray, intercept: np.ndarray, classes: list[str]
    ) -> LinearScorer:
        """A scorer from its stored arrays (the portable model file)."""
        scorer = cls.__new__(cls)
        scorer.analyzer = features
        scorer.vocabulary = {t: i for i, t in enumerate(terms)}
        scorer.idf = np.asarray(idf, dtype=np.float64)
        scorer.weights_t = np.ascontiguousarray(np.asarray(weights_t, dtype=np.float64))
        scorer.intercept = np.asarray(intercept, dtype=np.float64)
        scorer.classes = list(classes)
        return scorer

    def portable(self) -> LinearScorer:
        """Rounded as the model file keeps it (IDF float32, weights float16: under 10⁻³ in any probability), so
        a model just trained and the same model read from its file answer exactly alike."""
        self.idf = self.idf.astype(np.float32).astype(np.float64)
        self.weights_t = self.weights_t.astype(np.float16).astype(np.float64)
        return self

    def terms(self) -> list[str]:
        """The vocabulary in index order."""
        out = [""] * len(self.vocabulary)
        for term, i in self.vocabulary.items():
            out[i] = term
        return out

    def proba(self, text: str) -> np.ndarray:
        """Class probabilities of one (already normalised) text."""
        counts: dict[int, int] = {}
        vocab = self.vocabulary
        for gram in self.analyzer(text):
            j = vocab.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if counts:
            idx = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            v = (1.0 + np.log(tf)) * self.idf[idx]
            v /= np.sqrt(v @ v)
            scores = v @ self.weights_t[idx] + self.intercept
        else:
            scores = self.intercept.copy()
        if len(self.classes) == 2:
            p1 = 1.0 / (1.0 + np.exp(-scores[0]))
            return np.array([1.0 - p1, p1])
        scores -= scores.max()
        e = np.exp(scores)
        return np.asarray(e / e.sum())

    def ranking(self, text: str) -> list[tuple[str, float]]:
        """Labels with probabilities, best first."""
        proba = self.proba(text)
        order = np.argsort(-proba)
        return [(self.classes[i], float(proba[i])) for i in order]


class NluModel:
    """A trained set of classifiers: intent, report category, and report-or-not for group listening."""

    def __init__(
        self,
        intent_model: Pipeline,
        category_model: Pipeline | None,
        version: str,
        report_model: Pipeline | None = None,
    ) -> None:
        # The fitted pipelines (kept while the model is in memory after training; a model read from its file has
        # only the scorers).
        self.intent_model: Pipeline | None = intent_model
        self.category_model = category_model
        self.report_model = report_model
        self.version = version
        self._intent = LinearScorer(intent_model).portable()
        self._category = LinearScorer(category_model).portable() if category_model is not None else None
        self._report = LinearScorer(report_model).portable() if report_model is not None else None

    @classmethod
    def from_scorers(
        cls, intent: LinearScorer, category: LinearScorer | None, report: LinearScorer | None, version: str
    ) -> NluModel:
        """A model read from its file."""
        model = cls.__new__(cls)
        model.intent_model = model.category_model = model.report_model = None
        model.version = version
        model._intent, model._category, model._report = intent, category, report
        return model

    def predict(self, text: str) -> Prediction:
        """Intent, category (always predicted, meaningful for reports), their runners-up, and the group score."""
        norm = normalize(text)
        labels = self._intent.ranking(norm)
        ranking = _fold(labels)
        cat_ranking = self._category.ranking(norm) if self._category is not None else []
        category, cat_conf = cat_ranking[0] if cat_ranking else (None, 0.0)
        intent, conf = ranking[0]
        report = None
        if self._report is not None:
            proba = self._report.proba(norm)
            # The report head's yes, discounted by how much the intent head reads it as talk between residents:
            # the two disagree most on chat that names what reports name (leave-one-group-author-out over 16
            # group authors, false offers at 95 % recall 2.7 % → 2.2 %).
            chat = dict(labels).get("chitchat", 0.0)
            report = float(proba[self._report.classes.index("report")]) * _content_weight(norm) * (1.0 - chat)
        return Prediction(intent, conf, category, cat_conf, ranking[:3], cat_ranking[:3], self.version, report)


def answer_intent(label: str) -> str:
    """The intent the bot answers for a training label (chat between residents is answered as out of scope)."""
    return FOLDED.get(label, label)


def _fold(ranking: list[tuple[str, float]]) -> list[tuple[str, float]]:
    merged: dict[str, float] = {}
    for label, p in ranking:
        key = answer_intent(label)
        merged[key] = merged.get(key, 0.0) + p
    return sorted(merged.items(), key=lambda kv: -kv[1])


def _content_weight(norm: str) -> float:
    # A lone noun ("电梯", "路灯") is a word in a conversation, not a report: short messages weigh less.
    content = len(_HAN.findall(norm)) + len(re.findall(r"[a-z]+", norm))
    return min(1.0, content / SHORT_MESSAGE)


def data_hash(examples: list[Example]) -> str:
    """Content hash of training data and pipeline revision: the cache key and model version."""
    h = hashlib.sha256(f"{PIPELINE_NAME}:{PIPELINE_REV}".encode())
    for ex in examples:
        h.update(f"{ex.text}\t{ex.intent}\t{ex.category or ''}\n".encode())
    return h.hexdigest()[:12]


def train(examples: list[Example]) -> NluModel:
    """Fit the classifiers (on the examples and their pinyin copies)."""
    if len({ex.intent for ex in examples}) < 2:
        raise ValueError("training data needs at least two intents")
    data = augment(examples)
    texts = [normalize(e.text) for e in data]
    intent_model = _pipeline().fit(texts, [e.intent for e in data])
    reports = [(t, e.category) for t, e in zip(texts, data, strict=True) if e.intent == REPORT and e.category]
    category_model = None
    if len({c for _, c in reports}) >= 2:
        category_model = _pipeline().fit([t for t, _ in reports], [c for _, c in reports])
    # Group listening asks one question — report or not? — of a model trained for exactly that.
    report_model = _pipeline().fit(texts, ["report" if e.intent == REPORT else "other" for e in data])
    return NluModel(intent_model, category_model, f"{PIPELINE_NAME}-{data_hash(examples)}", report_model)


def shipped_examples(data_dir: Path | None = None) -> list[Example]:
    """The training data (default: the shipped set; or an office's own `nlu.yml` and `authors/*.yml` in
    `data_dir`), each example tagged with its author (the file it came from)."""
    base = data_dir or DATA_DIR
    examples = load_nlu(base / "nlu.yml", source="core") if (base / "nlu.yml").exists() else []
    for path in sorted((base / "authors").glob("*.yml")):
        examples += load_nlu(path, source=path.stem)
    if not examples:
        raise ValueError(f"no training data in {base} (nlu.yml or authors/*.yml)")
    return examples


def reviewed_examples(extra_dir: Path | None) -> list[Example]:
    """Every reviewed Rasa file in `extra_dir` (corrections accepted by a person), each file its own source."""
    if extra_dir is None or not extra_dir.is_dir():
        return []
    return [e for path in sorted(extra_dir.glob("*.yml")) for e in load_nlu(path, source=path.name)]


def training_examples(extra_dir: Path | None = None, data_dir: Path | None = None) -> list[Example]:
    """The training data plus the reviewed corrections in `extra_dir`."""
    return shipped_examples(data_dir) + reviewed_examples(extra_dir)


def cache_dir() -> Path:
    """Where trained models are kept between runs."""
    base = os.environ.get("GRIDBOT_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "gridbot")
    return Path(base)


def cached_model(path: Path, kind: type[M], build: Callable[[], M]) -> M:
    """A model pickled at `path` (keyed by content hash) or, failing that, built and stored there (the optional
    embedding model only; the shipped model is a portable file, see save_model)."""
    if path.exists():
        try:
            with path.open("rb") as fh:
                model = pickle.load(fh)  # noqa: S301 - our own cache file, keyed by content hash
            if isinstance(model, kind):
                return model
        except Exception:  # noqa: BLE001, S110 - a corrupt or incompatible cache is simply rebuilt
            pass
    model = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(model, fh)
        tmp.replace(path)
    except OSError:
        pass  # a read-only home still gets a working (uncached) model
    return model


def pack_strings(values: list[str]) -> np.ndarray:
    """Strings as one UTF-8 byte array, NUL-separated (no feature holds a NUL: text is cleaned at the door)."""
    return np.frombuffer("\x00".join(values).encode("utf-8"), dtype=np.uint8)


def unpack_strings(array: np.ndarray) -> list[str]:
    """The strings pack_strings packed."""
    return bytes(array).decode("utf-8").split("\x00")


def save_model(model: NluModel, path: Path) -> None:
    """Write a model as plain arrays (a vocabulary, IDF, weights, classes; numpy's npz, no pickle), readable by
    any later numpy and scikit-learn; written atomically."""
    heads = {"intent": model._intent, "category": model._category, "report": model._report}
    shared = model._intent.terms()
    index = {t: i for i, t in enumerate(shared)}
    arrays: dict[str, np.ndarray] = {"format": np.array([MODEL_FORMAT]), "version": pack_strings([model.version])}
    arrays["terms"] = pack_strings(shared)
    for name, head in heads.items():
        if head is None:
            continue
        own = head.terms()
        # Every head's terms are among the intent head's (all heads read the same texts, or a subset of them); a
        # head with exactly those terms needs no index.
        if own != shared:
            arrays[f"{name}.index"] = np.fromiter((index[t] for t in own), dtype=np.int32, count=len(own))
        arrays |= head_arrays(name, head, with_terms=False)
    write_arrays(path, arrays)


def head_arrays(name: str, head: LinearScorer, with_terms: bool = True) -> dict[str, np.ndarray]:
    """One scorer as named arrays (IDF float32, weights float16, as `portable` rounds them)."""
    arrays: dict[str, np.ndarray] = {
        f"{name}.idf": head.idf.astype(np.float32),
        f"{name}.weights": head.weights_t.astype(np.float16),
        f"{name}.intercept": head.intercept,
        f"{name}.classes": pack_strings(head.classes),
    }
    if with_terms:
        arrays[f"{name}.terms"] = pack_strings(head.terms())
    return arrays


def read_head(npz: Any, name: str, terms: list[str] | None = None) -> LinearScorer:
    """A scorer from the arrays `head_arrays` wrote (its own terms, unless given)."""
    return LinearScorer.from_arrays(
        terms if terms is not None else unpack_strings(npz[f"{name}.terms"]),
        npz[f"{name}.idf"],
        npz[f"{name}.weights"],
        npz[f"{name}.intercept"],
        unpack_strings(npz[f"{name}.classes"]),
    )


def write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A compressed npz, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
    np.savez_compressed(tmp, **arrays)  # type: ignore[arg-type]
    tmp.replace(path)


def model_version(path: Path) -> str | None:
    """The version a model file holds (without reading its arrays), or None if there is no readable one."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            if int(npz["format"][0]) != MODEL_FORMAT:
                return None
            return unpack_strings(npz["version"])[0]
    except (OSError, ValueError, KeyError, IndexError, EOFError):
        return None


def read_model(path: Path) -> NluModel:
    """A model from its file."""
    with np.load(path, allow_pickle=False) as npz:
        if int(npz["format"][0]) != MODEL_FORMAT:
            raise ValueError(f"{path}: model format {npz['format'][0]}, expected {MODEL_FORMAT}")
        shared = unpack_strings(npz["terms"])
        heads: dict[str, LinearScorer | None] = {}
        for name in ("intent", "category", "report"):
            if f"{name}.weights" not in npz.files:
                heads[name] = None
                continue
            terms = [shared[i] for i in npz[f"{name}.index"]] if f"{name}.index" in npz.files else shared
            heads[name] = read_head(npz, name, terms)
        intent = heads["intent"]
        if intent is None:
            raise ValueError(f"{path}: no intent head")
        return NluModel.from_scorers(intent, heads["category"], heads["report"], unpack_strings(npz["version"])[0])


def load_or_train(examples: list[Example] | None = None, cache: Path | None = None) -> NluModel:
    """The model for these examples (default: the shipped data): the shipped file when it was trained on exactly
    them, else a file in the cache, else trained now (and written to the cache)."""
    data = examples if examples is not None else shipped_examples()
    version = f"{PIPELINE_NAME}-{data_hash(data)}"
    cached = (cache or cache_dir()) / f"nlu-{data_hash(data)}.npz"
    for path in (SHIPPED_MODEL, cached):
        if model_version(path) == version:
            try:
                return read_model(path)
            except (OSError, ValueError, KeyError, IndexError, EOFError):
                continue  # a damaged file is rebuilt below
    model = train(data)
    try:
        save_model(model, cached)
    except OSError:
        pass  # a read-only home still gets a working (uncached) model
    return model
