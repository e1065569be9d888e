"""Domain unit tests: geometry, masking, drafts, texts (no database, no Telegram)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.demo import DISTRICT, places
from domain.cases.model import CATEGORIES, INTENTS, Draft
from domain.kernel.i18n import normalize_locale
from domain.kernel.privacy import mask_personal_numbers
from domain.org.geo import GridIndex, parse_district
from handlers import i18n

DATA: dict[str, Any] = json.loads(DISTRICT.read_text(encoding="utf-8"))
ROOT = Path(__file__).resolve().parent.parent


def feature(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(f for f in data["features"] if f["properties"]["code"] == code)


def test_demo_district_is_valid_and_big_enough() -> None:
    units, problems = parse_district(DATA)
    assert problems == []
    levels = [u.level.value for u in units]
    assert levels.count("street") == 1 and levels.count("community") >= 3 and levels.count("grid") >= 12


def test_points_land_in_their_grids() -> None:
    units, _ = parse_district(DATA)
    index = GridIndex(units)
    for name, p in places().items():
        where = index.locate(float(p["lat"]), float(p["lon"]))
        if p.get("grid"):
            assert where is not None and where.unit_code == p["grid"] and not where.fallback, name
    gap = places()["gap"]
    where = index.locate(float(gap["lat"]), float(gap["lon"]))
    assert where is not None and where.fallback and where.unit_code.startswith("QH-0")
    far = places()["far"]
    assert index.locate(float(far["lat"]), float(far["lon"])) is None
    assert index.locate(91.0, 0.0) is None and index.locate(float("nan"), 117.0) is None


def test_bad_district_lists_every_problem() -> None:
    bad = copy.deepcopy(DATA)
    feature(bad, "QH-01-01")["properties"]["parent"] = "QH-99"
    dup = copy.deepcopy(feature(bad, "QH-01-02"))
    bad["features"].append(dup)
    bow = feature(bad, "QH-02-01")
    (x0, y0), (x1, y1) = bow["geometry"]["coordinates"][0][0], bow["geometry"]["coordinates"][0][2]
    bow["geometry"] = {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]]}
    over = feature(bad, "QH-03-01")
    over["geometry"] = copy.deepcopy(feature(bad, "QH-03-02")["geometry"])
    feature(bad, "QH-04")["properties"]["level"] = "province"
    units, problems = parse_district(bad)
    text = "\n".join(str(p) for p in problems)
    assert units == []
    assert "unknown parent 'QH-99'" in text
    assert "duplicate code" in text
    assert "Self-intersection" in text or "invalid polygon" in text
    assert "overlaps grid" in text
    assert "level must be" in text
    assert all(re.match(r"feature #\d+", str(p)) for p in problems)


def test_not_a_feature_collection() -> None:
    assert parse_district({"type": "Feature"})[1]
    assert parse_district([])[1]


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("电话13912345678快来", "电话139****5678快来"),
        ("+86 139 1234 5678", "+86 139 **** 5678"),
        ("电话１３９１２３４５６７８快来", "电话139****5678快来"),
        ("call 139.1234.5678", "call 139.****.5678"),
        ("座机(010)62345678", "座机(010)****5678"),
        ("13812345678和15900001111", "138****5678和159****1111"),
        ("价格12345678元 编号20261130123456", "价格12345678元 编号20261130123456"),
        ("身份证370102199001011234", "身份证3701**********1234"),
        ("身份证37010219900101123X号", "身份证3701**********123X号"),
        ("座机0531-88123456", "座机0531-****3456"),
        ("3号楼2单元502", "3号楼2单元502"),
    ],
)
def test_masking(raw: str, masked: str) -> None:
    assert mask_personal_numbers(raw) == masked


def test_draft_completeness() -> None:
    d = Draft(user_id=1)
    assert not d.has_description and not d.has_place
    d.photo_file_id = "p"
    assert not d.has_description
    d.category = "parking"
    assert d.has_description
    d.unit_code = "QH-01-01"
    assert d.has_place


def _used_keys() -> set[str]:
    keys: set[str] = set()
    sources = [*ROOT.glob("domain/**/*.py"), *ROOT.glob("handlers/**/*.py"), *ROOT.glob("bot/*.py")]
    for path in sources:
        if path.name in ("certificate.py", "activity_file.py"):
            continue
        src = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r"""\b(?:t|plain)\(\s*"([a-z_]+\.[a-z_.]+)\"""", src))
        keys |= set(re.findall(r"""\bPhrase\(\s*"([a-z_]+\.[a-z_.]+)\"""", src))
        keys |= {f"notice.{k}" for k in re.findall(r"""\bNotice\(\s*"([a-z_]+\.[a-z_]+)\"""", src)}
        keys |= {
            f"errors.{code}"
            for code in re.findall(r"""(?:Error|NotFound|Forbidden|Conflict|Invalid)\(\s*"([a-z_]+)\"""", src)
        }
    # Notices drawn by their own renderer rather than one template.
    keys -= {"notice.case.card", "notice.activity.card", "notice.volunteer.review", "notice.order.card"}
    keys -= {"notice.points.board", "notice.call.card", "notice.fixed.recorded", "notice.stats.month"}
    keys -= {"notice.fixed.eve", "notice.fixed.morning"}
    keys -= {"notice.home.review", "notice.matter.card", "notice.matter.result", "notice.matter.proposed"}
    keys -= {"notice.rating.closed"}
    keys |= {
        "notice.fixed.eve",
        "notice.fixed.morning",
        "notice.admin.no_group",
        "notice.case.claimed",
        "notice.case.on_site",
        "notice.case.sent_back",
    }
    keys |= {"notice.case.reopened", "notice.case.closed", "notice.volunteer.active", "notice.volunteer.rejected"}
    keys |= {"notice.offer.accepted", "notice.offer.declined", "notice.activity.reminder_day"}
    keys |= {"notice.activity.reminder_hour"}
    keys |= {f"category.{c}" for c in CATEGORIES}
    keys |= {f"state.{s}" for s in ("new", "claimed", "on_site", "resolved", "closed")}
    keys |= {f"rating.{r}" for r in ("satisfied", "basic", "unsatisfied")}
    keys |= {f"case.btn.{a}" for a in ("claim", "reject", "dispatch", "onsite", "resolve", "recat")}
    keys |= {f"case.done.{a}" for a in ("claim", "onsite", "reject", "dispatch", "recat")}
    keys |= {
        f"action.{a}"
        for a in ("submit", "claim", "onsite", "resolve", "reject", "dispatch", "reopen", "rate", "recategorize")
    }
    keys |= {f"intent.{i}" for i in INTENTS}
    keys |= {f"points.kind.{k}" for k in ("earn", "redeem", "refund", "expire", "adjust")}
    keys |= {f"errors.order_{s}" for s in ("picked_up", "cancelled")}
    keys |= {f"activity.state.{s}" for s in ("pending", "confirmed", "waitlisted", "cancelled", "attended", "no_show")}
    keys |= {f"act.rule.{r}" for r in ("per_hour", "fixed")}
    keys |= {f"act.{k}_ask" for k in ("checkin", "checkout")}
    keys |= {f"volunteer.state.{k}" for k in ("draft", "pending", "active", "rejected", "inactive")}
    keys |= {f"volunteer.decided.{k}" for k in ("active", "rejected")}
    keys |= {f"vol.decided_{k}" for k in ("active", "rejected")}
    keys |= {f"errors.volunteer_{k}" for k in ("pending", "active")}
    keys |= {f"order.when_choice.{w}" for w in ("asap", "today", "tomorrow", "week")}
    keys |= {"group.offer_yes", "group.offer_no", "vol.approve", "vol.reject", "ledger.report", "ledger.order"}
    steps = ("community", "title", "description", "place", "start", "end", "capacity", "points_rule", "points", "team")
    keys |= {f"form.ask.{k}" for k in steps} | {f"form.field.{k}" for k in steps}
    keys |= {f"intent_answer.{i}" for i in ("greet", "out_of_scope")}
    keys |= {f"civic.state.{s}" for s in ("pending", "confirmed", "refused")}
    keys |= {f"civic.per.{p}" for p in ("person", "household")} | {"ledger.home", "matter_option.yes"}
    keys |= {f"civic.part.{p}" for p in ("residents", "spot_checks", "review", "cases")}
    keys |= {f"civic.{k}" for k in ("confirm", "refuse", "accept", "decline", "rating_start")}
    return keys


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_used_text_exists(locale: str) -> None:
    missing = sorted(k for k in _used_keys() if not i18n.has(k, locale))
    assert missing == []


def test_locales_have_the_same_keys() -> None:
    assert i18n.TEXTS.keys("zh-CN") == i18n.TEXTS.keys("en")


def test_translation_falls_back_and_tolerates_missing_params() -> None:
    assert i18n.t("category.parking", "fr") == "停车秩序"
    assert "{number}" in i18n.t("report.submitted", "zh-CN", unit="x")
    assert normalize_locale("en-US") == "en" and normalize_locale("zh-hans") == "zh-CN"
