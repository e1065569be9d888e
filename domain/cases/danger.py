"""Danger to life in a message, whatever its form: a lexicon (hazards.yml) matched on the text made plain, on its
pinyin (typed, or the homophones a phone's input method puts in) and on English — the words stay readable and
reviewable, and a match never depends on a model's mood."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LEXICON = Path(__file__).with_name("hazards.yml")
KINDS = ("fire", "gas", "trapped", "injury", "electric", "collapse", "flood")
# What voice input and chatty typing leave between words: dropped before matching ("燃气 嗯 就是那个味").
_FILLERS = re.compile(r"那个|这个|就是|然后|好像|感觉|[嗯呃额啊哎呀哦吧呢啦哈嘛喔咯哇唉呐噢诶欸哟嘞]")
_HAN = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]|\d")
_LATIN_TOKEN = re.compile(r"[a-z]+")
# Said before the words: it is not happening, or not now (防止着火, 没有冒烟, 会不会着火, 昨天那个着火).
_NEGATED = re.compile(
    r"(没有|没|无|(?<!是)不是|防止|预防|以防|避免|会不会|会不|小心|注意|如何|怎样|怎么防|昨天|前天|上次|上周|去年|以前|之前|前几天|"
    r"演习|演练|安检|燃气费|煤气费|电费|缴|交费|科普|宣传|知识|培训|讲座|通知|提醒|如果|万一|假如|怕|担心|"
    r"防溺|防火|防汛|防触电|防坠|差点|差一点|幸亏|幸好|报的|报了|报过|工单|莫慌|虚惊)"
)
# Said after them: it is over, or it was an exercise (已经灭了, 处理好了, 是演练).
_SETTLED = re.compile(
    r"(已经|已)(灭|处理|修好|解决|救出|出来|没事)|灭了|处理好|修好了|没事了|演习|演练|安检|费|小知识|通知"
)
# Said anywhere in the message: a false alarm, or an exercise (冒烟那是烤红薯的炉子 … 虚惊一场; 那是消防演练).
_FALSE_ALARM = re.compile(r"虚惊|不是着火|不是火灾|没着火|没有着火|不是漏|演练|演习|false alarm|just a drill")
_ENGLISH_CALM = re.compile(
    r"\b(drill|exercise|practice|test(ing)?|no|not|never|yesterday|last (week|night|month|year)|already|in case|"
    r"prevent|tips?|bill|song|lit|vibes?|lol|fired|fire ?works?|ceasefire|hot ?pot|planned|scheduled|"
    r"weld(er|ers|ing))\b",
    re.ASCII,
)


@functools.cache
def _t2s() -> Callable[[str], str]:
    # OpenCC's tables read Traditional text as Simplified (燃氣洩漏 → 燃气泄漏), phrases and all.
    import opencc

    return opencc.OpenCC("t2s.json").convert  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Kind:
    words: re.Pattern[str] | None
    near: tuple[re.Pattern[str], re.Pattern[str]] | None
    pinyin: tuple[str, ...]
    homophones: tuple[str, ...]
    english: re.Pattern[str] | None
    unless: re.Pattern[str] | None
    # The Han words and near-lists as syllables, for text typed in pinyin (two syllables or more: one alone is
    # too many words).
    spoken: tuple[tuple[str, ...], ...] = ()
    spoken_near: tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]] = ((), ())
    mixed: re.Pattern[str] | None = None
    sounds: tuple[tuple[tuple[str, ...], str], ...] = ()


def _spoken(words: list[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(sorted({seq for seq, _ in _spoken_words(words)}))


def _core(seq: tuple[str, ...]) -> tuple[str, ...]:
    return seq[:-1] if seq and seq[-1] in ("le", "la", "a", "ne", "ba") else seq


def _spoken_words(words: list[str]) -> tuple[tuple[tuple[str, ...], str], ...]:
    from pypinyin import lazy_pinyin

    out = {(tuple(lazy_pinyin(w)), w) for w in words if w and all(_HAN.fullmatch(c) for c in w)}
    return tuple(sorted((seq, w) for seq, w in out if len(seq) >= 2 and all(p.isalpha() for p in seq)))


def _pair(near: list[list[str]] | None) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    if not near:
        return None
    things, states = _alternation([str(w) for w in near[0]]), _alternation([str(w) for w in near[1]])
    return (things, states) if things is not None and states is not None else None


def _alternation(words: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True)))) if words else None


@functools.cache
def _lexicon() -> dict[str, _Kind]:
    data: dict[str, Any] = yaml.safe_load(LEXICON.read_text(encoding="utf-8"))
    out: dict[str, _Kind] = {}
    for kind in KINDS:
        entry = data.get(kind) or {}
        near = entry.get("near")
        english = entry.get("english") or []
        out[kind] = _Kind(
            _alternation([str(w) for w in entry.get("words") or []]),
            _pair(near),
            tuple(str(w) for w in entry.get("pinyin") or []),
            tuple(str(w) for w in entry.get("homophones") or []),
            # ASCII word boundaries: "gas leak了", "电梯stuck了" end their English words at a character.
            re.compile("|".join(f"(?:{e})" for e in english), re.ASCII) if english else None,
            _alternation([str(w) for w in entry.get("unless") or []]),
            _spoken([str(w) for w in entry.get("words") or []]),
            (_spoken(near[0]), _spoken(near[1])) if near else ((), ()),
            re.compile(r"\b(" + "|".join(entry["mixed"]) + r")\b", re.ASCII) if entry.get("mixed") else None,
            # A trailing 了 is no syllable of the word (墙倒了 sounds like 抢到了, 受伤了 like 手上了).
            tuple(x for x in _spoken_words([str(w) for w in entry.get("words") or []]) if len(_core(x[0])) >= 3),
        )
    return out


@functools.cache
def _inventory() -> frozenset[str]:
    # Every toneless pinyin syllable (about 420), from pypinyin's own dictionary.
    from pypinyin import lazy_pinyin

    return frozenset(p for c in range(0x4E00, 0x9FA6) for p in lazy_pinyin(chr(c)) if p.isalpha())


def _segment(token: str) -> list[str]:
    """A run of letters as pinyin syllables (longest first, backtracking); the token itself if it is none."""
    inventory = _inventory()

    # Remembered by position: without it a run that is almost pinyin ("anan…anq") backtracks exponentially.
    @functools.cache
    def split(start: int) -> tuple[str, ...] | None:
        if start == len(token):
            return ()
        for n in range(min(6, len(token) - start), 0, -1):
            if token[start : start + n] in inventory and (tail := split(start + n)) is not None:
                return (token[start : start + n], *tail)
        return None

    found = split(0) if len(token) <= 40 else None
    return list(found) if found else [token]


# Pinyin saying it is not so, or not now (meiyou, fangzhi, zuotian …), a few syllables before.
_SPOKEN_CALM = (("mei", "you"), ("fang", "zhi"), ("yu", "fang"), ("zuo", "tian"), ("hui", "bu", "hui"), ("fang",))


def _spoken_match(k: _Kind, units: list[str]) -> bool:
    def at(seq: tuple[str, ...]) -> list[int]:
        n = len(seq)
        return [i for i in range(len(units) - n + 1) if tuple(units[i : i + n]) == seq]

    def calm(i: int) -> bool:
        before = units[max(0, i - 4) : i]
        return any(tuple(before[j : j + len(c)]) == c for c in _SPOKEN_CALM for j in range(len(before)))

    if any(not calm(i) for seq in k.spoken for i in at(seq)):
        return True
    things, states = k.spoken_near
    for thing in things:
        for i in at(thing):
            for state in states:
                if any(abs(j - i) <= 6 and not calm(min(i, j)) for j in at(state)):
                    return True
    return False


def _plain(text: str) -> str:
    han = "".join(_HAN.findall(_t2s()(text)))
    return _FILLERS.sub("", han)


def _starts(tokens: list[str]) -> tuple[str, set[int]]:
    joined, starts, at = "", set(), 0
    for token in tokens:
        starts.add(at)
        joined += token
        at += len(token)
    return joined, starts


def _at_starts(stream: str, starts: set[int], phrases: tuple[str, ...]) -> bool:
    # A phrase counts from the start of a syllable or word ("ranqi xielou"), never from inside one ("instantaneous").
    return any(i in starts for phrase in phrases for i in _find_all(stream, phrase))


def _find_all(stream: str, phrase: str) -> Iterator[int]:
    i = stream.find(phrase)
    while i >= 0:
        yield i
        i = stream.find(phrase, i + 1)


def _calm_han(plain: str, start: int, end: int, harmless: list[tuple[int, int]]) -> bool:
    if any(a < end and start < b for a, b in harmless):
        return True  # part of a harmless phrase of its own (轮胎漏气)
    if start > 0 and plain[start - 1] == "防":
        return True  # guarding against it: 防溺水, 防火, 防触电
    # Close before (没冒烟, 防止着火, 昨天那个着火): further off, "闻到没有 整层都是燃气味" is a question, not a denial.
    return bool(_NEGATED.search(plain[max(0, start - 6) : start]) or _SETTLED.search(plain[end : end + 8]))


def _harmless(k: _Kind, plain: str) -> list[tuple[int, int]]:
    return [m.span() for m in k.unless.finditer(plain)] if k.unless is not None else []


def _han_match(k: _Kind, plain: str, harmless: list[tuple[int, int]]) -> bool:
    return k.words is not None and any(
        not _calm_han(plain, m.start(), m.end(), harmless) for m in k.words.finditer(plain)
    )


def _near(k: _Kind, plain: str, harmless: list[tuple[int, int]], window: int = 6) -> bool:
    if k.near is None:
        return False
    things, states = k.near
    for m in things.finditer(plain):
        around = plain[max(0, m.start() - window) : m.end() + window]
        for s in states.finditer(around):
            start = max(0, m.start() - window) + s.start()
            if not _calm_han(plain, min(start, m.start()), max(start + len(s.group(0)), m.end()), harmless):
                return True
    return False


def _english(pattern: re.Pattern[str] | None, lower: str) -> bool:
    if pattern is None:
        return False
    for m in pattern.finditer(lower):
        sentence_start = max(lower.rfind(c, 0, m.start()) for c in ".!?。！？\n")
        stops = [i for i in (lower.find(c, m.end()) for c in ".?。？\n") if i >= 0]
        sentence = lower[sentence_start + 1 : min(stops) if stops else len(lower)]
        if not _ENGLISH_CALM.search(sentence):
            return True
    return False


def _sound_of(plain: str) -> tuple[tuple[str, list[int]], tuple[list[str], list[int]]]:
    """The characters' pinyin (one pass), two ways: run together, with where each character's syllable starts
    (phrases by sound); and as syllables, with where in the plain text each one's character is (words by sound)."""
    from pypinyin import lazy_pinyin

    joined, starts = "", []
    syllables: list[str] = []
    where: list[int] = []
    at = 0
    for item in lazy_pinyin(plain) if plain else []:
        # pypinyin gives a Han character one syllable and a run of digits one item: keep the characters' count.
        for _ in item if item.isdigit() else [item]:
            starts.append(len(joined))
        if item.isalpha():
            joined += item
            syllables.append(item)
            where.append(at)
            at += 1
        else:
            at += len(item)
    return (joined, starts), (syllables, where)


def _homophone(k: _Kind, plain: str, syllables: tuple[str, list[int]], harmless: list[tuple[int, int]]) -> bool:
    stream, starts = syllables
    char_at = {at: i for i, at in enumerate(starts)}
    for phrase in k.homophones:
        for at in _find_all(stream, phrase):
            first = char_at.get(at)
            if first is None:
                continue  # from inside a syllable
            last = next((i for i in range(first, len(starts)) if starts[i] >= at + len(phrase)), len(starts))
            if not _calm_han(plain, first, last, harmless):
                return True
    return False


def _sounds_like(k: _Kind, plain: str, sounds: tuple[list[str], list[int]], harmless: list[tuple[int, int]]) -> bool:
    # A word of three syllables or more written with other characters that sound the same (然气泄漏, 电悌卡住);
    # the word in its own characters is judged by the exact match, with its own exceptions.
    syllables, where = sounds
    for seq, word in k.sounds:
        n = len(seq)
        for i in range(len(syllables) - n + 1):
            if tuple(syllables[i : i + n]) != seq:
                continue
            start, end = where[i], where[i + n - 1] + 1
            if plain[start:end] != word and not _calm_han(plain, start, end, harmless):
                return True
    return False


def _mixed(k: _Kind, plain: str, lower: str) -> bool:
    # Chinese with an English word for what is wrong ("电梯stuck了", "外机要fall了"): the thing in characters, the
    # trouble in English.
    if k.mixed is None or k.near is None or not plain:
        return False
    return bool(k.near[0].search(plain) and k.mixed.search(lower) and not _ENGLISH_CALM.search(lower))


# Said anywhere: the danger is over or in hand (烟灭了, 没事了, 人救出来了, 消防车到了, "all clear").
_OVER = re.compile(
    r"灭了|没事了|救出来|已经出来|劝下来|处理好|修好了|已经打|打了119|打了120|打过了|"
    r"(消防车|消防员|消防|救护车|警察|民警)(已经)?(到了|来了)|"
    r"all clear|is out now|fire is out|no one (was )?hurt|everyone is (ok|fine|safe)"
)


def settled(text: str) -> bool:
    """Whether a message says a danger is over, in hand, or was none (a thread's follow-ups: 烟灭了, 已经打110了,
    警察来了 没事了), or is about a harmless thing the lexicon knows: what the lexicon reads near its words, said
    of the whole message for any other reading."""
    lower = unicodedata.normalize("NFKC", text or "").lower()
    plain = _plain(lower)
    # A harmless phrase the lexicon knows (轮胎漏气, 打不着火, 发烧) says what the message is about.
    harmless = any(k.unless is not None and k.unless.search(plain) for k in _lexicon().values())
    return harmless or bool(
        _FALSE_ALARM.search(plain) or _FALSE_ALARM.search(lower) or _OVER.search(plain) or _OVER.search(lower)
    )


def hazards(text: str) -> tuple[str, ...]:
    """The hazards to life a text describes as happening now, in the lexicon's order — whatever its form:
    Traditional or Simplified, with fillers and heavy punctuation, a question to neighbours, pinyin (also the
    homophones a phone's input method puts in), English, or dialect words the lexicon knows."""
    if not text:
        return ()
    lower = unicodedata.normalize("NFKC", text).lower()
    plain = _plain(lower)
    if _FALSE_ALARM.search(plain) or _FALSE_ALARM.search(lower):
        return ()
    latin, latin_starts = _starts(_LATIN_TOKEN.findall(re.sub(r"(?<=[a-z])[1-5]", "", lower)))
    units = [u for token in _LATIN_TOKEN.findall(re.sub(r"(?<=[a-z])[1-5]", " ", lower)) for u in _segment(token)]
    # The characters as syllables: an input method's homophones (电悌卡住, 然气泄漏) read like the words; a lone word
    # of two syllables only through the near-lists, three or more alone.
    syllables, sounds = _sound_of(plain)
    found: list[str] = []
    for kind, k in _lexicon().items():
        harmless = _harmless(k, plain)
        if (
            _han_match(k, plain, harmless)
            or _near(k, plain, harmless)
            or (latin and _at_starts(latin, latin_starts, k.pinyin) and not _ENGLISH_CALM.search(lower))
            or _english(k.english, lower)
            or _homophone(k, plain, syllables, harmless)
            or (len(units) > 1 and _spoken_match(k, units) and not _ENGLISH_CALM.search(lower))
            or _sounds_like(k, plain, sounds, harmless)
            or _mixed(k, plain, lower)
        ):
            found.append(kind)
    return tuple(found)
