"""Place entities from the regexes and lookup tables kept in intents/data/nlu.yml."""

from __future__ import annotations

import timeit
from collections import Counter
from pathlib import Path

import pytest
import yaml

from intents.entities import DATA, Entity, EntityExtractor, chinese_number, load_extractor, place_text
from intents.rasa import load_nlu, parse_lookups, parse_nlu, parse_regexes

# Counted before the regex/lookup blocks were appended (and again after rule 16 moved three lines between intents):
# the blocks must not change the training data.
INTENT_EXAMPLES = 1577
LABEL_COUNTS = {
    "activity_list": 76,
    "greet": 78,
    "help": 75,
    "out_of_scope": 77,
    "points_query": 75,
    "points_redeem": 76,
    "report_issue/building_safety": 100,
    "report_issue/environment": 99,
    "report_issue/fire_safety": 104,
    "report_issue/neighbor_dispute": 97,
    "report_issue/other": 96,
    "report_issue/parking": 99,
    "report_issue/property_service": 100,
    "report_issue/public_facility": 97,
    "report_issue/road_traffic": 97,
    "report_status": 74,
    "service_request": 82,
    "volunteer_signup": 75,
}
# The invented roads of the demo district (scripts/make_demo_district.py).
DEMO_ROADS = [
    "柳泉路",
    "杏林路",
    "青禾路",
    "书院街",
    "桃园路",
    "东关路",
    "南环路",
    "文华街",
    "滨河南路",
    "滨河北路",
    "明湖街",
    "北园路",
]

# (message, [(type, value, surface)], place_text)
CASES: list[tuple[str, list[tuple[str, str, str]], str | None]] = [
    ("3号楼2单元楼道电动车充电", [("building", "3号楼", "3号楼"), ("unit", "2单元", "2单元")], "3号楼2单元"),
    ("井盖没了 东风路口 快来", [("road", "东风路口", "东风路口")], "东风路口"),
    (
        "红绿灯不亮了 幸福路与和平街交叉口",
        [("road", "幸福路与和平街交叉口", "幸福路与和平街交叉口")],
        "幸福路与和平街交叉口",
    ),
    (
        "路上有个大坑 骑车差点摔了 建设路和人民路交叉口",
        [("road", "建设路和人民路交叉口", "建设路和人民路交叉口")],
        "建设路和人民路交叉口",
    ),
    (
        "三号楼二单元502室有人飞线充电",
        [("building", "3号楼", "三号楼"), ("unit", "2单元", "二单元"), ("room", "502室", "502室")],
        "3号楼2单元502室",
    ),
    (
        "二十三号楼三单元 电梯又坏了",
        [("building", "23号楼", "二十三号楼"), ("unit", "3单元", "三单元")],
        "23号楼3单元",
    ),
    # courier shorthand
    (
        "快递 3-2-502 门口堆了好多箱子 挡路",
        [("building", "3号楼", "3"), ("unit", "2单元", "2"), ("room", "502室", "502")],
        "3号楼2单元502室",
    ),
    ("3#2单元 楼道堆杂物 速度", [("building", "3号楼", "3#"), ("unit", "2单元", "2单元")], "3号楼2单元"),
    (
        "5栋2-1203 漏水到楼下了",
        [("building", "5栋", "5栋"), ("unit", "2单元", "2"), ("room", "1203室", "1203")],
        "5栋2单元1203室",
    ),
    ("5幢1203房 楼上漏水", [("building", "5幢", "5幢"), ("room", "1203室", "1203房")], "5幢1203室"),
    ("１２号楼３单元 楼道灯不亮", [("building", "12号楼", "１２号楼"), ("unit", "3单元", "３单元")], "12号楼3单元"),
    # demo district places
    (
        "明湖街8号院3号楼2单元楼道（电动车充电）",
        [
            ("road", "明湖街", "明湖街"),
            ("building", "8号院", "8号院"),
            ("building", "3号楼", "3号楼"),
            ("unit", "2单元", "2单元"),
        ],
        "明湖街 · 8号院3号楼2单元",
    ),
    (
        "北园路书院小区东门消防通道（车辆占道）",
        [("road", "北园路", "北园路"), ("landmark", "书院小区", "书院小区")],
        "北园路 · 书院小区",
    ),
    (
        "南环路桃园农贸市场门口（雨水井盖破损）",
        [("road", "南环路", "南环路"), ("landmark", "桃园农贸市场", "桃园农贸市场")],
        "南环路 · 桃园农贸市场",
    ),
    ("杏林路12号楼下 井盖缺失", [("road", "杏林路", "杏林路"), ("building", "12号楼", "12号楼")], "杏林路 · 12号楼"),
    # names outside the lookup tables: function words never join a name
    (
        "今天金山路阳光小区门口堆满垃圾",
        [("road", "金山路", "金山路"), ("landmark", "阳光小区", "阳光小区")],
        "金山路 · 阳光小区",
    ),
    ("着火了快来光明路小吃街后面", [("road", "光明路", "光明路"), ("road", "小吃街", "小吃街")], "光明路 · 小吃街"),
    (
        "在和平街菜市场旁边那家饭店 燃气味儿特别大",
        [("road", "和平街", "和平街"), ("landmark", "菜市场", "菜市场")],
        "和平街 · 菜市场",
    ),
    ("燃气管道漏气 嘶嘶响 人民路18号", [("road", "人民路18号", "人民路18号")], "人民路18号"),
    ("老城区鼓楼街道路塌陷 半个车轮都陷进去了", [("road", "鼓楼街", "鼓楼街")], "鼓楼街"),
    ("traffic light broken 金山路 all red", [("road", "金山路", "金山路")], "金山路"),
    (
        "您好 我想反映一下 文化路靠近二中那段路面坑洼严重 每天上下学孩子们骑车都很危险 能不能尽快修一下",
        [("road", "文化路", "文化路"), ("landmark", "二中", "二中")],
        "文化路 · 二中",
    ),
    (
        "飞线充电 幸福小区5号楼 快管管",
        [("landmark", "幸福小区", "幸福小区"), ("building", "5号楼", "5号楼")],
        "幸福小区 · 5号楼",
    ),
    ("楼上602天天晚上跺脚 说了也不听", [("room", "602室", "602")], "602室"),
    (
        "3号楼2单元和5号楼1单元都停水了",
        [
            ("building", "3号楼", "3号楼"),
            ("unit", "2单元", "2单元"),
            ("building", "5号楼", "5号楼"),
            ("unit", "1单元", "1单元"),
        ],
        "3号楼2单元、5号楼1单元",
    ),
    (
        "红绿灯全灭了 向阳路与太原街交叉口 车太多",
        [("road", "向阳路与太原街交叉口", "向阳路与太原街交叉口")],
        "向阳路与太原街交叉口",
    ),
    (
        "一栋二单元302 独居老人需要送药",
        [("building", "1栋", "一栋"), ("unit", "2单元", "二单元"), ("room", "302室", "302")],
        "1栋2单元302室",
    ),
    ("B座1203 门口有人堆纸箱", [("building", "B座", "B座"), ("room", "1203室", "1203")], "B座1203室"),
    ("帮忙取个药 社区医院 我爸的降压药", [("landmark", "社区医院", "社区医院")], "社区医院"),
    # no place at all
    ("一栋两层的楼违章加到四层了", [], None),
    ("人行横道上停了一辆货车 行人得绕着走", [], None),
    ("饭店老板跑路了 我们十几个服务员的工资都没结", [], None),
    ("想加入小巷红骑手 怎么弄", [], None),
    ("雨后路面全是泥 车轮子打滑", [], None),
    ("小区消防通道停满了私家车 消防车根本进不来", [], None),
    ("这个路口的行人绿灯只有5秒 老人根本过不去", [], None),
    ("一栋楼一个灭火器都没有", [], None),
    ("柏油路被大车压得全是车辙", [], None),
    ("青禾街道的网格员电话多少", [], None),
    ("电话13812345678 明天2024-05-15来修", [], None),
]


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return load_extractor()


@pytest.mark.parametrize(("text", "expected", "place"), CASES, ids=[c[0][:12] for c in CASES])
def test_realistic_messages(
    extractor: EntityExtractor, text: str, expected: list[tuple[str, str, str]], place: str | None
):
    entities = extractor.extract(text)
    assert [(e.type, e.value, text[e.start : e.end]) for e in entities] == expected
    assert place_text(entities) == place


def test_spans_are_exact_and_in_text_order(extractor: EntityExtractor) -> None:
    text = "北园路书院小区3号楼 502 门口"
    assert extractor.extract(text) == [
        Entity("road", "北园路", 0, 3),
        Entity("landmark", "书院小区", 3, 7),
        Entity("building", "3号楼", 7, 10),
        Entity("room", "502室", 11, 14),
    ]


def test_place_text_orders_places_first_and_dedupes() -> None:
    entities = [
        Entity("building", "3号楼", 0, 3),
        Entity("road", "东风路", 5, 8),
        Entity("unit", "2单元", 10, 13),
        Entity("road", "东风路", 20, 23),
        Entity("room", "502室", 14, 17),
    ]
    assert place_text(entities) == "东风路 · 3号楼2单元502室"
    assert place_text([]) is None
    assert place_text([Entity("floor", "5楼", 0, 2)]) is None


def test_lookup_beats_generic_regex_and_compounds_win() -> None:
    doc = """
nlu:
- regex: road
  examples: |
    - [\\u4e00-\\u9fff]{2,4}路口?
- regex: landmark
  examples: |
    - [\\u4e00-\\u9fff]{2,6}小区
- lookup: road
  examples: |
    - 光明路
    - 北园路
"""
    ex = EntityExtractor.from_yaml(doc)
    # the generic regex alone would take 快来光明路; the table entry wins
    assert [(e.type, e.value) for e in ex.extract("快来光明路")] == [("road", "光明路")]
    # a regex match extending a table entry to the right is a compound and wins on length
    assert [(e.type, e.value) for e in ex.extract("光明路口")] == [("road", "光明路口")]
    # a landmark regex match swallowing a road from the table is cut back to what follows it
    assert [(e.type, e.value, e.start) for e in ex.extract("北园路书院小区")] == [
        ("road", "北园路", 0),
        ("landmark", "书院小区", 3),
    ]


def test_longest_lookup_entry_wins() -> None:
    doc = (
        "nlu:\n- lookup: road\n  examples: |\n    - 滨河路\n    - 滨河南路\n"
        "- lookup: landmark\n  examples: |\n    - 河南\n"
    )
    assert EntityExtractor.from_yaml(doc).extract("滨河南路") == [Entity("road", "滨河南路", 0, 4)]


def test_parse_regexes_and_lookups_merge_blocks_and_skip_intents() -> None:
    doc = """
nlu:
- intent: greet
  examples: |
    - 你好
- regex: unit
  examples: |
    - \\d+单元
- lookup: road
  examples: |
    - 东风路
- regex: unit
  examples: |
    - [一二三]单元
    - \\d+单元
"""
    assert parse_regexes(doc) == {"unit": ["\\d+单元", "[一二三]单元"]}
    assert parse_lookups(doc) == {"road": ["东风路"]}
    assert [e.text for e in parse_nlu(doc)] == ["你好"]


def test_bad_pattern_is_reported() -> None:
    with pytest.raises(ValueError, match="building"):
        EntityExtractor({"building": ["(\\d+号楼"]}, {})


def test_chinese_numbers() -> None:
    assert [chinese_number(s) for s in ["三", "十", "十二", "二十", "二十三", "一〇二", "一百零二"]] == [
        3,
        10,
        12,
        20,
        23,
        102,
        102,
    ]
    assert chinese_number("二三十") is None
    assert chinese_number("东") is None


def test_shipped_nlu_still_loads_the_same_intent_examples() -> None:
    examples = load_nlu(DATA)
    assert len(examples) == INTENT_EXAMPLES
    labels = Counter(f"{e.intent}/{e.category}" if e.category else e.intent for e in examples)
    assert dict(labels) == LABEL_COUNTS


def test_shipped_nlu_has_regexes_and_lookup_tables() -> None:
    text = DATA.read_text(encoding="utf-8")
    assert isinstance(yaml.safe_load(text), dict)
    regexes, lookups = parse_regexes(text), parse_lookups(text)
    assert set(regexes) == {"building", "unit", "room", "road", "landmark"}
    assert set(DEMO_ROADS) <= set(lookups["road"])
    assert len(lookups["road"]) >= 40 + len(DEMO_ROADS)
    assert len(lookups["landmark"]) >= 40
    assert load_extractor().types == ("building", "unit", "room", "road", "landmark")


def test_extractor_is_cached_and_file_default(tmp_path: Path) -> None:
    assert load_extractor() is load_extractor()
    copy = tmp_path / "nlu.yml"
    copy.write_text(DATA.read_text(encoding="utf-8"), encoding="utf-8")
    text = "井盖没了 东风路口 3号楼"
    assert EntityExtractor.from_nlu_file(copy).extract(text) == EntityExtractor.from_nlu_file().extract(text)


def test_fast_enough(extractor: EntityExtractor) -> None:
    text = "井盖没了 东风路口 快来 3号楼2单元502室门口有个大坑啊"  # 30 characters
    assert len(text) == 30
    per_call = min(timeit.repeat(lambda: extractor.extract(text), number=200, repeat=5)) / 200
    assert per_call < 0.2e-3
