"""Place entities (building, unit, room, road, landmark) from the regexes and lookup tables of the Rasa NLU YAML.

Rules, in order:

1. Lookup tables: one alternation per type, longest entry first; overlapping lookup matches keep the longest.
2. Regexes: one alternation per type (`(?:p1)|(?:p2)|…`, in file order). A regex match overlapping a lookup
   match of the same type that it extends to the right (东风路口 ⊃ 东风路, 人民路18号, 幸福路与和平街交叉口)
   is a compound and wins on length; otherwise the lookup wins and the regex match is cut back to the part
   outside the lookup match, kept only if that part still matches the type's regexes on its own.
3. All surviving candidates: longest first (lookup before regex on a tie, then earlier, then type order in
   the file); no two entities overlap. Entities come back in text order.

Values are normalised: full-width characters to half-width, whitespace dropped, Chinese numerals of
building/unit numbers to digits (三号楼 → 3号楼, 二单元 → 2单元), `3#` → 3号楼, courier chains `3-2-502`
→ 3号楼 / 2单元 / 502室, room numbers → `502室`. A lookup match takes the table's spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from intents.rasa import parse_lookups, parse_regexes

DATA = Path(__file__).parent / "data" / "nlu.yml"
PLACE_TYPES = ("road", "landmark")
ADDRESS_TYPES = ("building", "unit", "room")
# Full-width ASCII (！…～) and the ideographic space → half-width; keeps every offset unchanged.
_HALF_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_NUMBER = re.compile(r"([〇零一二两三四五六七八九十百]+|\d+)(.*)", re.S)
_SPACE = re.compile(r"\s+")
_MAX_PLACES = 3  # place_text keeps at most this many road/landmark names and address groups


@dataclass(frozen=True)
class Entity:
    """One extracted entity: `text[start:end]` is what was written, `value` its normalised form."""

    type: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class _Candidate:
    type: str
    start: int
    end: int
    lookup: str | None  # the table entry for lookup matches, None for regex matches

    @property
    def length(self) -> int:
        return self.end - self.start

    def overlaps(self, other: _Candidate) -> bool:
        return self.start < other.end and other.start < self.end


def chinese_number(text: str) -> int | None:
    """Value of a Chinese numeral: 三 → 3, 十二 → 12, 二十三 → 23, 一〇二 → 102; None if not one."""
    if not text or any(c not in _CN_DIGITS and c not in "十百" for c in text):
        return None
    if "十" not in text and "百" not in text:  # digit by digit: 一〇二
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    total, digit = 0, None
    for c in text:
        if c in "〇零":
            digit = None  # 一百零二: a place-holder zero
        elif c in _CN_DIGITS:
            if digit is not None:
                return None  # 二三十: two digits in a row
            digit = _CN_DIGITS[c]
        else:
            unit = 10 if c == "十" else 100
            total += (1 if digit is None else digit) * unit
            digit = None
    return total + (digit or 0)


def _number_value(surface: str, default_suffix: str) -> str:
    """`三号楼` → 3号楼, `3#` → 3号楼, `12 栋` → 12栋, bare `3` → 3 + default_suffix."""
    m = _NUMBER.fullmatch(surface)
    if not m:
        return surface
    digits, suffix = m.groups()
    number = int(digits) if digits.isdigit() else chinese_number(digits)
    if number is None:
        return surface
    if suffix in ("", "#", "#楼"):
        suffix = default_suffix
    return f"{number}{suffix}"


def _room_value(surface: str) -> str:
    """`502` / `502号` / `1203房` → 502室 / 1203室; other shapes unchanged."""
    digits = surface.rstrip("室房间号")
    return f"{digits}室" if digits.isdigit() else surface


def normalise_value(entity_type: str, surface: str) -> str:
    """Normalised value of a regex match of an entity type (see the module docstring)."""
    surface = _SPACE.sub("", surface.translate(_HALF_WIDTH))
    if entity_type == "building":
        return surface.upper() if surface.endswith("座") else _number_value(surface, "号楼")
    if entity_type == "unit":
        return _number_value(surface, "单元")
    if entity_type == "room":
        return _room_value(surface)
    return surface


def _alternation(patterns: Iterable[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


class EntityExtractor:
    """Regex + lookup-table entity extractor built from the `regex:` and `lookup:` blocks of Rasa NLU data."""

    def __init__(self, regexes: Mapping[str, Sequence[str]], lookups: Mapping[str, Sequence[str]]) -> None:
        """Compile one alternation per entity type for its regexes and one for its lookup table."""
        self.types: tuple[str, ...] = tuple(dict.fromkeys([*regexes, *lookups]))
        self._rank = {t: i for i, t in enumerate(self.types)}
        self._regex: dict[str, re.Pattern[str]] = {}
        self._lookup: dict[str, re.Pattern[str]] = {}
        for name, patterns in regexes.items():
            for p in patterns:
                try:
                    re.compile(p)
                except re.error as exc:
                    raise ValueError(f"regex {name!r}: bad pattern {p!r}: {exc}") from exc
            if patterns:
                self._regex[name] = re.compile(_alternation(patterns))
        for name, entries in lookups.items():
            words = sorted({e.strip() for e in entries if e.strip()}, key=lambda w: (-len(w), w))
            if words:
                self._lookup[name] = re.compile("|".join(map(re.escape, words)))

    @classmethod
    def from_yaml(cls, text: str) -> EntityExtractor:
        """Extractor from the text of a Rasa NLU YAML document."""
        return cls(parse_regexes(text), parse_lookups(text))

    @classmethod
    def from_nlu_file(cls, path: Path | str = DATA) -> EntityExtractor:
        """Extractor from a Rasa NLU YAML file (default: the shipped intents/data/nlu.yml)."""
        return cls.from_yaml(Path(path).read_text(encoding="utf-8"))

    def extract(self, text: str) -> list[Entity]:
        """Non-overlapping entities of a message, in text order."""
        text = text.translate(_HALF_WIDTH)
        lookups = self._pick(
            _Candidate(name, m.start(), m.end(), m.group())
            for name, pattern in self._lookup.items()
            for m in pattern.finditer(text)
        )
        candidates = list(lookups)
        for name, pattern in self._regex.items():
            for m in pattern.finditer(text):
                cand = self._reconcile(text, self._strip(text, _Candidate(name, m.start(), m.end(), None)), lookups)
                if cand is not None:
                    candidates.append(cand)
        chosen = self._pick(candidates)
        return [
            Entity(
                c.type,
                c.lookup if c.lookup is not None else normalise_value(c.type, text[c.start : c.end]),
                c.start,
                c.end,
            )
            for c in sorted(chosen, key=lambda c: c.start)
        ]

    def _pick(self, candidates: Iterable[_Candidate]) -> list[_Candidate]:
        """Greedy: longest first, lookups before regexes, earlier first, file order of types; no overlaps."""
        chosen: list[_Candidate] = []
        ordered = sorted(candidates, key=lambda c: (-c.length, c.lookup is None, c.start, self._rank[c.type]))
        for cand in ordered:
            if cand.length > 0 and not any(cand.overlaps(c) for c in chosen):
                chosen.append(cand)
        return chosen

    @staticmethod
    def _strip(text: str, cand: _Candidate) -> _Candidate:
        """The candidate without leading/trailing whitespace (patterns like `(?<=单元)\\s*\\d+`)."""
        start, end = cand.start, cand.end
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        return cand if (start, end) == (cand.start, cand.end) else _Candidate(cand.type, start, end, None)

    def _matches_alone(self, entity_type: str, text: str, start: int, end: int) -> bool:
        return start < end and self._regex[entity_type].fullmatch(text, start, end) is not None

    def _reconcile(self, text: str, cand: _Candidate, lookups: Sequence[_Candidate]) -> _Candidate | None:
        """A regex candidate against the lookup matches: a compound extension, cut back, or dropped."""
        start, end = cand.start, cand.end
        changed = True
        while changed:
            changed = False
            for lk in lookups:
                if lk.end <= start or lk.start >= end:
                    continue
                if lk.type == cand.type and start <= lk.start and lk.end < end:
                    continue  # compound: 东风路口, 人民路18号, an intersection
                if end > lk.end and self._matches_alone(cand.type, text, lk.end, end):
                    start = lk.end
                elif start < lk.start and self._matches_alone(cand.type, text, start, lk.start):
                    end = lk.start
                else:
                    return None
                changed = True
                break
        return cand if (start, end) == (cand.start, cand.end) else _Candidate(cand.type, start, end, None)


def place_text(entities: Iterable[Entity]) -> str | None:
    """Short place description, e.g. "东风路 · 3号楼2单元502室"; None when there is no place entity."""
    # Roads and landmarks first (text order, distinct), then building+unit+room values concatenated; a
    # building/unit/room that does not continue the previous one (3号楼 … 5号楼) starts a new group,
    # groups joined by "、". At most three names and three groups.
    places: list[str] = []
    groups: list[str] = []
    current: list[str] = []
    last_level = -1
    for ent in sorted(entities, key=lambda e: e.start):
        if ent.type in PLACE_TYPES:
            if ent.value not in places:
                places.append(ent.value)
        elif ent.type in ADDRESS_TYPES:
            level = _address_level(ent)
            if current and level <= last_level:
                groups.append("".join(current))
                current = []
            current.append(ent.value)
            last_level = level
    if current:
        groups.append("".join(current))
    groups = list(dict.fromkeys(groups))
    parts = places[:_MAX_PLACES]
    if groups:
        parts.append("、".join(groups[:_MAX_PLACES]))
    return " · ".join(parts) or None


def _address_level(ent: Entity) -> int:
    """Nesting depth: compound (号院) 0, building 1, unit 2, room 3."""
    if ent.type == "building":
        return 0 if ent.value.endswith("院") else 1
    return ADDRESS_TYPES.index(ent.type) + 1


@cache
def load_extractor() -> EntityExtractor:
    """The extractor of the shipped intents/data/nlu.yml, built once per process."""
    return EntityExtractor.from_nlu_file(DATA)
