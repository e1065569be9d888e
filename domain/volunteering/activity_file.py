"""Volunteer activities imported from a YAML or CSV file (`gridbot activities import FILE`).

All or nothing: `parse_activities` returns either every activity of the file or, when any row is wrong,
no activity and one problem line per fault ("row 3: end must be after start"), so staff fix the file in one go.
Rows are counted as a spreadsheet shows them: in a CSV file the header is row 1 and the first activity row 2;
in a YAML file row N is the N-th activity of the list.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import PurePath
from typing import Any, Final, Literal

import yaml

from domain.kernel.text import clean

PointsRule = Literal["per_hour", "fixed"]

SHANGHAI: Final = timezone(timedelta(hours=8), "Asia/Shanghai")
POINTS_RULES: Final[tuple[str, ...]] = ("per_hour", "fixed")
DEFAULT_SIGNUP_CUTOFF_HOURS: Final = 2.0

FIELDS: Final[tuple[str, ...]] = (
    "community",
    "title",
    "description",
    "place",
    "lat",
    "lon",
    "start",
    "end",
    "capacity",
    "points_rule",
    "points",
    "team",
    "signup_cutoff_hours",
)
REQUIRED: Final[tuple[str, ...]] = ("community", "title", "place", "start", "end", "capacity", "points_rule", "points")

# Documented limits (README, "Activity files"); they keep posts within Telegram's limits and numbers sane.
TITLE_MAX: Final = 100
DESCRIPTION_MAX: Final = 1000
PLACE_MAX: Final = 200
TEAM_MAX: Final = 100
CODE_MAX: Final = 32
CAPACITY_MAX: Final = 10_000
POINTS_MAX: Final = 10_000
CUTOFF_MAX_HOURS: Final = 720.0
LENGTH_MAX_HOURS: Final = 24.0 * 7

_LOCAL_FORMATS: Final = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S")


@dataclass(frozen=True)
class ActivitySpec:
    """One volunteer activity as written in an import file, checked and with times made timezone-aware."""

    community: str
    title: str
    description: str
    place: str
    lat: float | None
    lon: float | None
    start: datetime
    end: datetime
    capacity: int
    points_rule: PointsRule
    points: int
    team: str | None = None
    signup_cutoff_hours: float = DEFAULT_SIGNUP_CUTOFF_HOURS
    # Where it came from in its file (as `parse_activities` counts rows), for problems found later.
    row: int = 0

    @property
    def hours(self) -> float:
        """Planned length of the activity in hours."""
        return (self.end - self.start).total_seconds() / 3600

    @property
    def signup_cutoff(self) -> datetime:
        """The moment sign-up closes."""
        return self.start - timedelta(hours=self.signup_cutoff_hours)


def guess_format(filename: str) -> str:
    """The `fmt` for `parse_activities` from a file name: "yaml" for .yml/.yaml, "csv" for .csv."""
    suffix = PurePath(filename).suffix.lower()
    if suffix in (".yml", ".yaml"):
        return "yaml"
    if suffix == ".csv":
        return "csv"
    raise ValueError(f"cannot tell the format of {filename!r}: use a .yml, .yaml or .csv file")


def parse_time(value: Any) -> datetime:
    """A time from a file: "2026-12-05 09:00" is Beijing time; ISO 8601 with an offset is taken as written."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        raise ValueError("needs a time of day, not only a date")
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("is empty")
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            for pattern in _LOCAL_FORMATS:
                try:
                    moment = datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
            else:
                raise ValueError(f"{text!r} is not a time like 2026-12-05 09:00 or 2026-12-05T09:00+08:00") from None
        if len(text) <= 10:
            raise ValueError("needs a time of day, not only a date")
    else:
        raise ValueError(f"{value!r} is not a time like 2026-12-05 09:00")
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def _short(number: float) -> str:
    text = f"{number:g}" if isinstance(number, float) else str(number)
    return text if len(text) <= 24 else text[:20] + "…"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("must be text")
    return str(value).strip()


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError(f"{value.strip()!r} is not a number") from None
    else:
        raise ValueError(f"{value!r} is not a number")
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a number")
    return number


def _integer(value: Any) -> int:
    number = _number(value)
    if not number.is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def _check_length(problems: list[str], key: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        problems.append(f"{key} is longer than {limit} characters ({len(value)})")


def _check_row(raw: dict[str, Any], problems: list[str], now: datetime | None = None) -> ActivitySpec | None:
    """One row's fields checked one by one; None when anything is wrong (the problems go to `problems`)."""
    fields = {key.strip().lower(): value for key, value in raw.items()}
    for key in fields:
        if key not in FIELDS:
            problems.append(f"unknown field {key!r}")
    for key in REQUIRED:
        if _blank(fields.get(key)):
            problems.append(f"{key} is missing")

    def get(key: str, convert: Any) -> Any:
        value = fields.get(key)
        if _blank(value):
            return None
        try:
            return convert(value)
        except ValueError as exc:
            problems.append(f"{key}: {exc}")
            return None

    community = get("community", _text)
    if community is not None and (any(ch.isspace() for ch in community) or len(community) > CODE_MAX):
        problems.append(f"community must be a code like QH-01, not {community[:40]!r}")
    title = get("title", _text)
    description = get("description", _text) or ""
    place = get("place", _text)
    team = get("team", _text) or None
    _check_length(problems, "title", title, TITLE_MAX)
    _check_length(problems, "description", description, DESCRIPTION_MAX)
    _check_length(problems, "place", place, PLACE_MAX)
    _check_length(problems, "team", team, TEAM_MAX)

    lat = get("lat", _number)
    lon = get("lon", _number)
    if lat is not None and not -90 <= lat <= 90:
        problems.append(f"lat must be between -90 and 90, got {lat:g}")
    if lon is not None and not -180 <= lon <= 180:
        problems.append(f"lon must be between -180 and 180, got {lon:g}")
    if _blank(fields.get("lat")) != _blank(fields.get("lon")):
        problems.append("lat and lon go together: give both or neither")

    start = get("start", parse_time)
    end = get("end", parse_time)
    if start is not None and end is not None and end <= start:
        problems.append("end must be after start")
    elif start is not None and end is not None and (end - start) > timedelta(hours=LENGTH_MAX_HOURS):
        problems.append(f"an activity lasts at most {LENGTH_MAX_HOURS:g} hours")
    if start is not None and now is not None and start <= now:
        problems.append(f"start {start:%Y-%m-%d %H:%M} is in the past")

    capacity = get("capacity", _integer)
    if capacity is not None and not 0 < capacity <= CAPACITY_MAX:
        problems.append(f"capacity must be between 1 and {CAPACITY_MAX}, got {_short(capacity)}")

    rule = get("points_rule", _text)
    if rule is not None and rule not in POINTS_RULES:
        problems.append(f"points_rule must be per_hour or fixed, got {rule!r}")
    points = get("points", _integer)
    if points is not None and not 0 <= points <= POINTS_MAX:
        problems.append(f"points must be between 0 and {POINTS_MAX}, got {_short(points)}")

    cutoff = get("signup_cutoff_hours", _number)
    if cutoff is not None and not 0 <= cutoff <= CUTOFF_MAX_HOURS:
        problems.append(f"signup_cutoff_hours must be between 0 and {CUTOFF_MAX_HOURS:g}, got {_short(cutoff)}")

    if problems:
        return None
    points_rule: PointsRule = "per_hour" if rule == "per_hour" else "fixed"
    return ActivitySpec(
        community=community,
        title=title,
        description=description,
        place=place,
        lat=lat,
        lon=lon,
        start=start,
        end=end,
        capacity=capacity,
        points_rule=points_rule,
        points=points,
        team=team,
        signup_cutoff_hours=DEFAULT_SIGNUP_CUTOFF_HOURS if cutoff is None else cutoff,
    )


def _yaml_rows(text: str, problems: list[str]) -> list[tuple[int, Any]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problems.append(f"file: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}")
        return []
    if isinstance(data, dict) and "activities" in data:
        extra = [str(key) for key in data if key != "activities"]
        if extra:
            problems.append(f"file: unknown top-level key(s) {', '.join(extra)} beside 'activities'")
            return []
        data = data["activities"]
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append("file: expected a list of activities, or a mapping with the key 'activities' holding one")
        return []
    return list(enumerate(data, start=1))


def _csv_rows(text: str, problems: list[str]) -> list[tuple[int, Any]]:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        records = list(reader)
    except csv.Error as exc:
        problems.append(f"file: not valid CSV: {exc}")
        return []
    header_at = next((i for i, record in enumerate(records) if any(cell.strip() for cell in record)), None)
    if header_at is None:
        return []
    header = [cell.strip().lower() for cell in records[header_at]]
    missing = [key for key in REQUIRED if key not in header]
    unknown = [key for key in header if key and key not in FIELDS]
    if missing:
        problems.append(f"file: the header row lacks the column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"file: unknown column(s) {', '.join(repr(key) for key in unknown)}")
    repeated = sorted({key for key in header if key and header.count(key) > 1})
    if repeated:
        problems.append(f"file: column(s) {', '.join(repeated)} appear more than once")
    if problems:
        return []
    rows: list[tuple[int, Any]] = []
    for index, record in enumerate(records[header_at + 1 :], start=header_at + 2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header) and any(cell.strip() for cell in record[len(header) :]):
            rows.append((index, f"has {len(record)} cells but the header has {len(header)} columns"))
            continue
        rows.append((index, {key: cell for key, cell in zip(header, record, strict=False) if key}))
    return rows


def parse_activities(text: str, fmt: str, now: datetime | None = None) -> tuple[list[ActivitySpec], list[str]]:
    """Read activities from YAML or CSV text: (all activities, []) or, when anything is wrong, ([], every problem).

    With `now`, an activity that starts at or before it is refused (an import publishes for the future).
    """
    text = clean(text)  # the file's text, cleaned once where it comes in
    kind = fmt.strip().lower().lstrip(".")
    problems: list[str] = []
    if kind in ("yaml", "yml"):
        rows = _yaml_rows(text, problems)
    elif kind == "csv":
        rows = _csv_rows(text, problems)
    else:
        raise ValueError(f"unknown activity file format {fmt!r}: use 'yaml' or 'csv'")
    if problems:
        return [], problems

    specs: list[ActivitySpec] = []
    seen: dict[tuple[str, str, datetime], int] = {}
    for number, raw in rows:
        if isinstance(raw, str):
            problems.append(f"row {number}: {raw}")
            continue
        if not isinstance(raw, dict) or not all(isinstance(key, str) for key in raw):
            problems.append(f"row {number}: expected a mapping of field names to values")
            continue
        row_problems: list[str] = []
        spec = _check_row(raw, row_problems, now)
        problems.extend(f"row {number}: {problem}" for problem in row_problems)
        if spec is None:
            continue
        key = (spec.community, spec.title, spec.start)
        if key in seen:
            problems.append(f"row {number}: same community, title and start as row {seen[key]}")
            continue
        seen[key] = number
        specs.append(dataclasses.replace(spec, row=number))
    if not rows and not problems:
        problems.append("file: no activities found")
    if problems:
        return [], problems
    return specs, []
