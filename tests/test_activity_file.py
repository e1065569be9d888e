"""Activity import files: good YAML and CSV give activities; any bad row gives no activity and every problem."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from shapely.geometry import Point, shape

from domain.volunteering.activity_file import ActivitySpec, guess_format, parse_activities, parse_time

DEMO = Path(__file__).resolve().parent.parent / "bot" / "demo"
BEIJING = timezone(timedelta(hours=8))

GOOD_YAML = """
activities:
  - community: QH-01
    title: 楼道清理
    description: 清理楼道杂物，消除消防隐患
    place: 杏林路12号院
    lat: 36.65405
    lon: 117.01801
    start: "2026-12-05 09:00"
    end: "2026-12-05 11:30"
    capacity: 20
    points_rule: per_hour
    points: 10
    team: 杏林社区党员志愿服务队
  - community: QH-02
    title: 垃圾分类宣传
    place: 桃园小区中心广场
    start: 2026-12-19T09:30:00+08:00
    end: 2026-12-19T03:30:00Z
    capacity: "10"
    points_rule: fixed
    points: 15
    signup_cutoff_hours: 24
"""

CSV_HEADER = (
    "community,title,description,place,lat,lon,start,end,capacity,points_rule,points,team,signup_cutoff_hours\n"
)
GOOD_CSV = (
    CSV_HEADER
    + "QH-01,敬老院陪伴,陪老人聊天、读报,杏林颐养院,36.65312,117.01453,"
    + "2026-12-12 14:30,2026-12-12 17:00,12,per_hour,10,,\n"
    + 'QH-02,文明交通劝导,"早高峰劝导电动车戴头盔,不闯红灯",南环路路口,,,2026/12/2 7:30,2026/12/2 9:00,16,fixed,20,'
    + "小巷红骑手,12\n"
)


def test_good_yaml() -> None:
    specs, problems = parse_activities(GOOD_YAML, "yaml")
    assert problems == []
    first, second = specs
    assert first == ActivitySpec(
        community="QH-01",
        title="楼道清理",
        description="清理楼道杂物，消除消防隐患",
        place="杏林路12号院",
        lat=36.65405,
        lon=117.01801,
        start=datetime(2026, 12, 5, 9, 0, tzinfo=BEIJING),
        end=datetime(2026, 12, 5, 11, 30, tzinfo=BEIJING),
        capacity=20,
        points_rule="per_hour",
        points=10,
        team="杏林社区党员志愿服务队",
        signup_cutoff_hours=2.0,
        row=1,
    )
    assert first.hours == 2.5
    assert first.start.utcoffset() == timedelta(hours=8)
    assert first.signup_cutoff == datetime(2026, 12, 5, 7, 0, tzinfo=BEIJING)
    assert second.description == ""
    assert second.lat is None and second.lon is None and second.team is None
    assert second.capacity == 10 and second.points_rule == "fixed" and second.signup_cutoff_hours == 24
    # A YAML timestamp and a UTC "Z" time both come out as the same instant in Beijing time.
    assert second.end == datetime(2026, 12, 19, 11, 30, tzinfo=BEIJING)
    assert second.hours == 2.0


def test_yaml_plain_list_is_accepted() -> None:
    text = """
- {community: QH-01, title: 楼道清理, place: 杏林路12号院, start: "2026-12-05 09:00", end: "2026-12-05 10:00",
   capacity: 5, points_rule: per_hour, points: 10}
"""
    specs, problems = parse_activities(text, "yml")
    assert problems == []
    assert [spec.title for spec in specs] == ["楼道清理"]


def test_good_csv_with_bom_quotes_and_slash_dates() -> None:
    specs, problems = parse_activities("\ufeff" + GOOD_CSV, "csv")
    assert problems == []
    first, second = specs
    assert first.title == "敬老院陪伴" and first.lat == 36.65312 and first.team is None
    assert first.signup_cutoff_hours == 2.0
    assert second.description == "早高峰劝导电动车戴头盔,不闯红灯"
    assert second.lat is None
    assert second.start == datetime(2026, 12, 2, 7, 30, tzinfo=BEIJING)
    assert second.team == "小巷红骑手" and second.signup_cutoff_hours == 12


def test_bad_yaml_reports_every_bad_row_and_returns_nothing() -> None:
    text = """
- community: QH-01
  title: 楼道清理
  place: 杏林路12号院
  start: "2026-12-05 09:00"
  end: "2026-12-05 11:00"
  capacity: 20
  points_rule: per_hour
  points: 10
- community: QH-01
  title: 敬老院陪伴
  place: 杏林颐养院
  start: "2026-12-12 17:00"
  end: "2026-12-12 14:30"
  capacity: 0
  points_rule: per_visit
  points: -5
- community: QH-02
  title: 垃圾分类宣传
  lat: 136.6
  lon: 117.03
  start: 下周六上午
  end: "2026-12-19 11:30"
  capacity: 十个
  points_rule: fixed
  points: 15
  capactiy: 10
- community: QH-01
  title: 楼道清理
  place: 杏林路12号院
  start: "2026-12-05T01:00:00Z"
  end: "2026-12-05 12:00"
  capacity: 20
  points_rule: per_hour
  points: 10
"""
    specs, problems = parse_activities(text, "yaml")
    assert specs == []
    assert problems == [
        "row 2: end must be after start",
        "row 2: capacity must be between 1 and 10000, got 0",
        "row 2: points_rule must be per_hour or fixed, got 'per_visit'",
        "row 2: points must be between 0 and 10000, got -5",
        "row 3: unknown field 'capactiy'",
        "row 3: place is missing",
        "row 3: lat must be between -90 and 90, got 136.6",
        "row 3: start: '下周六上午' is not a time like 2026-12-05 09:00 or 2026-12-05T09:00+08:00",
        "row 3: capacity: '十个' is not a number",
        "row 4: same community, title and start as row 1",
    ]


def test_bad_csv_rows() -> None:
    text = (
        CSV_HEADER
        + "QH-01,楼道清理,,杏林路12号院,36.65,,2026-12-05 09:00,2026-12-05 09:00,20,per_hour,10,,\n"
        + "\n"
        + "QH-01,敬老院陪伴,,杏林颐养院,,,2026-12-12,2026-12-12 17:00,2.5,per_hour,ten,,-1\n"
        + "QH-02,文明交通劝导,,南环路路口,,,2026-12-02 07:30,2026-12-02 09:00,16,fixed,20,,,extra\n"
        + ",,,,,,,,,,,,\n"
        + "QH 02,垃圾分类宣传,,桃园小区,,,2026-12-19 09:30,2026-12-19 11:30,10,fixed,5,,\n"
    )
    specs, problems = parse_activities(text, "csv")
    assert specs == []
    assert problems == [
        "row 2: lat and lon go together: give both or neither",
        "row 2: end must be after start",
        "row 4: start: needs a time of day, not only a date",
        "row 4: capacity: '2.5' is not a whole number",
        "row 4: points: 'ten' is not a number",
        "row 4: signup_cutoff_hours must be between 0 and 720, got -1",
        "row 5: has 14 cells but the header has 13 columns",
        "row 7: community must be a code like QH-01, not 'QH 02'",
    ]


def test_csv_header_problems_are_reported_once() -> None:
    text = "community,title,start,finish\nQH-01,楼道清理,2026-12-05 09:00,2026-12-05 10:00\n"
    specs, problems = parse_activities(text, "csv")
    assert specs == []
    assert problems == [
        "file: the header row lacks the column(s) place, end, capacity, points_rule, points",
        "file: unknown column(s) 'finish'",
    ]


@pytest.mark.parametrize(
    ("text", "fmt", "problem"),
    [
        ("", "yaml", "file: no activities found"),
        ("activities: []", "yaml", "file: no activities found"),
        (CSV_HEADER, "csv", "file: no activities found"),
        ("title: 楼道清理", "yaml", "file: expected a list of activities"),
        ("- [QH-01, 楼道清理]", "yaml", "row 1: expected a mapping"),
        ("- title: 楼道清理\n  place: [", "yaml", "file: not valid YAML at line"),
    ],
)
def test_file_level_problems(text: str, fmt: str, problem: str) -> None:
    specs, problems = parse_activities(text, fmt)
    assert specs == []
    assert len(problems) == 1 and problems[0].startswith(problem)


def test_unknown_format_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="format"):
        parse_activities("", "xlsx")


def test_guess_format() -> None:
    assert guess_format("活动.yml") == "yaml"
    assert guess_format("/tmp/a.YAML") == "yaml"
    assert guess_format("a.csv") == "csv"
    with pytest.raises(ValueError):
        guess_format("a.xlsx")


def test_parse_time() -> None:
    assert parse_time("2026-12-05 09:00") == datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    assert parse_time("2026-12-05T09:00+09:00") == datetime(2026, 12, 5, 0, 0, tzinfo=UTC)
    assert parse_time(datetime(2026, 12, 5, 9, 0)) == datetime(2026, 12, 5, 9, 0, tzinfo=BEIJING)
    with pytest.raises(ValueError):
        parse_time("2026-12-05")


def test_demo_file_is_valid_and_in_its_communities() -> None:
    specs, problems = parse_activities((DEMO / "activities.yml").read_text(encoding="utf-8"), "yaml")
    assert problems == []
    assert len(specs) == 4
    assert {spec.community for spec in specs} == {"QH-01", "QH-02"}
    assert all(spec.start.year == 2026 and spec.start.month == 12 for spec in specs)
    district = json.loads((DEMO / "district.geojson").read_text(encoding="utf-8"))
    grids = [
        (feature["properties"]["parent"], shape(feature["geometry"]))
        for feature in district["features"]
        if feature.get("geometry")
    ]
    for spec in specs:
        assert spec.lat is not None and spec.lon is not None
        where = {parent for parent, area in grids if area.contains(Point(spec.lon, spec.lat))}
        assert where == {spec.community}, spec.title
