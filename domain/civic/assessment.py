"""物业 五位一体 assessment: the office's plan (a YAML file), quarters, and the combined score and ranking.

The score of a company in a quarter is the weighted mean of the parts that have a figure: the residents' rating
(items 1–5 → 0–100), the housing department's spot checks of the quarter's months, the community's review of the
year, and the company's own case figures (`domain/cases/bodies.py`). A part without a figure is left out and the
other weights scaled up, so a company is never ranked on a zero it did not earn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path

import yaml

from domain.kernel.time import CHINA_TZ, local

DEFAULT_PLAN = Path(__file__).with_name("assessment.yml")
PARTS = ("residents", "spot_checks", "review", "cases")


@dataclass(frozen=True)
class Item:
    """One question of the residents' rating."""

    key: str
    names: dict[str, str]

    def name(self, locale: str) -> str:
        """The item's name in a language (the office's Chinese otherwise)."""
        return self.names.get(locale) or self.names.get("zh-CN") or self.key


@dataclass(frozen=True)
class Plan:
    """The office's assessment: rating items and window, weights of the parts, the flag line."""

    items: tuple[Item, ...]
    weights: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PARTS, 25.0))
    open_day: int = 1
    window_days: int = 14
    flag_below: float = 60.0


def load_plan(path: Path | None = None) -> Plan:
    """The plan from YAML (the shipped one when no file is given); ValueError lists every problem."""
    target = path or DEFAULT_PLAN
    data = yaml.safe_load(target.read_text(encoding="utf-8")) or {}
    problems: list[str] = []
    rating = data.get("rating") if isinstance(data, dict) else None
    rating = rating if isinstance(rating, dict) else {}
    raw = rating.get("items")
    items: list[Item] = []
    if not isinstance(raw, list) or not 1 <= len(raw) <= 10:
        problems.append("rating.items: a list of 1–10 items, each with key, zh-CN and en")
        raw = []
    for i, it in enumerate(raw, start=1):
        if not isinstance(it, dict) or not isinstance(it.get("key"), str) or not isinstance(it.get("zh-CN"), str):
            problems.append(f"rating.items[{i}]: key and zh-CN are required")
            continue
        items.append(Item(it["key"], {k: str(v) for k, v in it.items() if k != "key"}))
    if len({i.key for i in items}) != len(items):
        problems.append("rating.items: keys must differ")
    open_day, window = rating.get("open_day", 1), rating.get("window_days", 14)
    if not isinstance(open_day, int) or not 1 <= open_day <= 28:
        problems.append("rating.open_day: a day of the month from 1 to 28")
    if not isinstance(window, int) or not 1 <= window <= 60:
        problems.append("rating.window_days: 1 to 60")
    weights = data.get("weights") if isinstance(data, dict) else None
    if not isinstance(weights, dict) or set(weights) != set(PARTS):
        problems.append(f"weights: exactly {', '.join(PARTS)}")
        weights = {}
    elif not all(isinstance(v, int | float) and v >= 0 for v in weights.values()) or not sum(weights.values()):
        problems.append("weights: numbers ≥ 0, not all 0")
    flag = data.get("flag_below", 60) if isinstance(data, dict) else 60
    if not isinstance(flag, int | float) or not 0 <= flag <= 100:
        problems.append("flag_below: 0 to 100")
    if problems:
        raise ValueError(f"{target}: " + "; ".join(problems))
    return Plan(tuple(items), {k: float(v) for k, v in weights.items()}, open_day, window, float(flag))


@cache
def default_plan() -> Plan:
    """The shipped plan, read once."""
    return load_plan()


def quarter_of(at: datetime) -> str:
    """2026Q4: the Beijing quarter of a moment."""
    d = local(at)
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def quarter_label(text: str | None) -> str | None:
    """2026Q4 as someone typed it (2026q4, spaces around), or None when it names no quarter."""
    label = (text or "").strip().upper()
    return label if re.fullmatch(r"20\d\dQ[1-4]", label) else None


def quarter_bounds(quarter: str) -> tuple[datetime, datetime]:
    """[start, end) of a quarter, Beijing time, as UTC."""
    year, q = int(quarter[:4]), int(quarter[-1])
    start = datetime(year, 3 * q - 2, 1, tzinfo=CHINA_TZ)
    end = datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=CHINA_TZ)
    return start.astimezone(UTC), end.astimezone(UTC)


def quarter_months(quarter: str) -> list[str]:
    """The quarter's months as 2026-10 … 2026-12."""
    year, q = int(quarter[:4]), int(quarter[-1])
    return [f"{year}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]


def rating_window(quarter: str, plan: Plan) -> tuple[datetime, datetime]:
    """When the residents' rating of a quarter is open: from 9:00 on the plan's day of its last month."""
    year, q = int(quarter[:4]), int(quarter[-1])
    opens = datetime.combine(date(year, 3 * q, plan.open_day), time(9), tzinfo=CHINA_TZ).astimezone(UTC)
    return opens, opens + timedelta(days=plan.window_days)


@dataclass(frozen=True)
class Standing:
    """A company's place in a quarter's ranking, with the parts behind its score."""

    code: str
    name: str
    parts: dict[str, float]  # part → 0–100, only those with a figure
    respondents: int
    total: float | None
    rank: int = 0
    flagged: bool = False


def combine(parts: dict[str, float], weights: dict[str, float]) -> float | None:
    """The weighted mean of the parts present (weights of missing parts are spread over the rest)."""
    used = {k: weights.get(k, 0.0) for k in parts if weights.get(k, 0.0) > 0}
    total = sum(used.values())
    return sum(parts[k] * w for k, w in used.items()) / total if total else None


def rank(rows: list[Standing], flag_below: float) -> list[Standing]:
    """Best first; ties share a rank; those below the line and the last one (with a score) are flagged."""
    scored = sorted((r for r in rows if r.total is not None), key=lambda r: (-(r.total or 0), r.code))
    out: list[Standing] = []
    for i, r in enumerate(scored):
        same = out and out[-1].total is not None and round(out[-1].total, 1) == round(r.total or 0, 1)
        place = out[-1].rank if same else i + 1
        last = len(scored) > 1 and round(r.total or 0, 1) == round(scored[-1].total or 0, 1)
        out.append(Standing(r.code, r.name, r.parts, r.respondents, r.total, place,
                            (r.total or 0) < flag_below or last))  # fmt: skip
    return out + [r for r in rows if r.total is None]
