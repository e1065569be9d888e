"""The gridbot command line as a user runs it: exit codes, one-line config errors, imports, NLU scores."""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest

from bot.demo import DISTRICT

ROOT = Path(__file__).resolve().parent.parent


def gridbot(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: int | None = 300
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a clean environment (only what the test sets)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GRIDBOT_")}
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=base, cwd=cwd or ROOT, timeout=timeout
    )


@pytest.mark.parametrize(
    ("env", "args", "needle"),
    [
        ({"GRIDBOT_DATABASE_URL": "mysql://x"}, ["db", "upgrade"], "GRIDBOT_DATABASE_URL"),
        ({"GRIDBOT_BOT_TOKEN": "not-a-token"}, ["run"], "GRIDBOT_BOT_TOKEN"),
        ({}, ["run"], "GRIDBOT_BOT_TOKEN is not set"),
        ({"GRIDBOT_ADMIN_IDS": "12,abc"}, ["db", "upgrade"], "GRIDBOT_ADMIN_IDS"),
        ({"GRIDBOT_DEFAULT_LOCALE": "fr"}, ["db", "upgrade"], "GRIDBOT_DEFAULT_LOCALE"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(env: dict[str, str], args: list[str], needle: str, tmp_path: Path) -> None:
    res = gridbot(*args, env=env, cwd=tmp_path)
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0], res.stderr


def test_grids_import_good_then_bad_file(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    env = {"GRIDBOT_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    assert gridbot("db", "upgrade", env=env).returncode == 0
    ok = gridbot("grids", "import", str(DISTRICT), env=env)
    assert ok.returncode == 0 and "imported" in ok.stdout
    again = gridbot("grids", "import", str(DISTRICT), env=env)
    assert "0 new" in again.stdout  # re-import updates in place
    data = json.loads(DISTRICT.read_text(encoding="utf-8"))
    bad = copy.deepcopy(data)
    bad["features"][-1]["properties"]["parent"] = "NOWHERE"
    bad["features"][-2]["properties"]["name"] = "改过的名字"
    bad["features"].append(copy.deepcopy(bad["features"][-3]))
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    res = gridbot("grids", "import", str(path), env=env)
    assert res.returncode == 1
    assert "unknown parent 'NOWHERE'" in res.stderr and "duplicate code" in res.stderr
    names = {r[0] for r in sqlite3.connect(db).execute("select name from units")}
    assert "改过的名字" not in names  # nothing half-imported
    missing = gridbot("grids", "import", str(tmp_path / "nope.geojson"), env=env)
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_nlu_evaluate_json_last_line(tmp_path: Path) -> None:
    env = {"GRIDBOT_CACHE_DIR": str(tmp_path)}
    res = gridbot("nlu", "evaluate", str(ROOT / "tests/data/nlu_eval.csv"), "--json", env=env)
    assert res.returncode == 0, res.stderr
    last = json.loads(res.stdout.strip().splitlines()[-1])
    assert set(last) == {"intent_accuracy", "intent_macro_f1", "category_accuracy", "category_macro_f1"}
    assert "confusions" in res.stdout and "macro-F1" in res.stdout
    overlap = tmp_path / "overlap.csv"
    overlap.write_text("text,intent,category\n你好,greet,\n", encoding="utf-8")
    from intents.model import DATA
    from intents.rasa import load_nlu

    first = load_nlu(DATA)[0]
    overlap.write_text(f"text,intent,category\n{first.text},{first.intent},{first.category or ''}\n", encoding="utf-8")
    res = gridbot("nlu", "evaluate", str(overlap), env=env)
    assert res.returncode == 2 and "also appear in the training data" in res.stderr
    # The promise of the thresholds, checked on the file, with the calibration curve.
    res = gridbot("nlu", "evaluate", str(ROOT / "tests/data/eval/heldout_b.csv"), env=env)
    assert "(promised" in res.stdout and "calibration (confidence bin" in res.stdout, res.stdout[-800:]

    # Group listening on labelled group messages (the model is cached by now).
    group = tmp_path / "group.csv"
    group.write_text(
        "text,is_report\n"
        "团购车厘子接龙 5号楼 两箱,0\n谁家的钥匙落在东门保安亭了,0\n好嘞 下班我顺路带过去,0\n"
        "东门那个井盖没了 晚上能掉进去人 快来看看,1\n3号楼楼道里一排电动车在充电 电线拖了一地,1\n",
        encoding="utf-8",
    )
    res = gridbot("nlu", "offers", str(group), "--json", env=env)
    assert res.returncode == 0, res.stderr
    last = json.loads(res.stdout.strip().splitlines()[-1])
    assert set(last) == {"false_offer_rate", "recall", "n_non_reports", "n_reports"}
    assert (last["n_non_reports"], last["n_reports"]) == (3, 2)
    assert last["false_offer_rate"] == 0 and last["recall"] == 1
    # A threaded file: the neighbour's "me too" under a report is that report's thread, not a new offer.
    thread = tmp_path / "thread.csv"
    thread.write_text(
        "id,reply_to,author,text,is_report\n"
        "1,,张,东门那个井盖没了 晚上能掉进去人 快来看看,1\n"
        "2,1,李,对 我昨天也差点踩空 那个井盖没了好几天了,0\n",
        encoding="utf-8",
    )
    res = gridbot("nlu", "offers", str(thread), "--json", env=env)
    assert res.returncode == 0, res.stderr
    last = json.loads(res.stdout.strip().splitlines()[-1])
    assert last["false_offer_rate"] == 1 and last["thread_false_offer_rate"] == 0 and last["thread_recall"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\n你好,0\n", encoding="utf-8")
    res = gridbot("nlu", "offers", str(bad), env=env)
    assert res.returncode == 2 and "text,is_report" in res.stderr


def test_leave_one_author_out_on_a_file(tmp_path: Path) -> None:
    rows = ["text,intent,category,author"]
    for author, words in (
        ("a", ("楼道", "东门", "广场")),
        ("b", ("车库", "北门", "花园")),
        ("c", ("天台", "南门", "路口")),
    ):
        for w in words:
            rows += [
                f"{w}有电动车在充电 很危险,report_issue,fire_safety,{author}",
                f"{w}的路灯坏了 晚上好黑,report_issue,public_facility,{author}",
                f"我想问问{w}那边的活动怎么报名,volunteer_signup,,{author}",
                f"你好 {w}的朋友,greet,,{author}",
            ]
    data = tmp_path / "authors.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    res = gridbot(
        "nlu", "cross-validate", str(data), "--by", "author", "--json", env={"GRIDBOT_CACHE_DIR": str(tmp_path)}
    )
    assert res.returncode == 0, res.stderr
    assert [ln.split()[0] for ln in res.stdout.splitlines()[:3]] == ["a", "b", "c"]
    assert set(json.loads(res.stdout.strip().splitlines()[-1])) == {
        "intent_accuracy",
        "intent_macro_f1",
        "category_accuracy",
        "category_macro_f1",
    }
    res = gridbot("nlu", "cross-validate", "--by", "reader", env={"GRIDBOT_CACHE_DIR": str(tmp_path)})
    assert res.returncode == 2 and "--by" in res.stderr


def test_export_review_train_round_trip(tmp_path: Path) -> None:
    import asyncio
    from datetime import datetime

    import yaml

    from domain.cases.model import LabelledExample
    from intents.model import AUTHORS, DATA
    from storage.cases import ExampleRepo
    from storage.db import create_engine, session_factory

    db = tmp_path / "e.db"
    # An office's own, smaller training set (three authors): retraining recalibrates with every author left out in
    # turn, a fit each, which on the full shipped set takes half an hour on 2 cores.
    data = tmp_path / "data"
    (data / "authors").mkdir(parents=True)
    (data / "nlu.yml").write_text(DATA.read_text(encoding="utf-8"), encoding="utf-8")
    for name in ("elder.yml", "group_oldtown.yml"):
        (data / "authors" / name).write_text((AUTHORS / name).read_text(encoding="utf-8"), encoding="utf-8")
    env = {
        "GRIDBOT_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "GRIDBOT_CACHE_DIR": str(tmp_path / "cache"),
        "GRIDBOT_NLU_EXTRA_DIR": str(tmp_path / "reviewed"),
        "GRIDBOT_NLU_DATA_DIR": str(data),
    }
    assert gridbot("db", "upgrade", env=env).returncode == 0

    async def seed() -> None:
        engine = create_engine(env["GRIDBOT_DATABASE_URL"])
        async with session_factory(engine).begin() as s:
            repo = ExampleRepo(s, lambda: datetime.now(UTC))
            await repo.add(LabelledExample("消防栓被人拿来拴狗了", "correction", "report_issue", "fire_safety"))
            await repo.add(LabelledExample("帮我妈交下燃气费", "clarification", "service_request"))
            await repo.add(LabelledExample("还没回答的问题", "clarification"))
        await engine.dispose()

    asyncio.run(seed())
    out = tmp_path / "review.yml"
    res = gridbot("nlu", "export", str(out), env=env)
    assert res.returncode == 0, res.stderr
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    labels = {item["intent"]: item["examples"] for item in doc["nlu"]}
    assert "消防栓被人拿来拴狗了" in labels["report_issue/fire_safety"]
    assert "帮我妈交下燃气费" in labels["service_request"]
    assert "还没回答" not in out.read_text(encoding="utf-8")
    # Without corrections the thresholds are written beside the office's data, not over the shipped ones.
    shipped = (DATA.parent / "calibration.yml").read_bytes()
    # These two train (three authors, once per author left out): no fixed timeout, however busy the machine.
    res = gridbot("nlu", "calibrate", env=env, timeout=None)
    assert res.returncode == 0, res.stderr
    assert (data / "calibration.yml").exists() and (DATA.parent / "calibration.yml").read_bytes() == shipped
    (tmp_path / "reviewed").mkdir()
    (tmp_path / "reviewed" / "batch1.yml").write_text(out.read_text(encoding="utf-8"), encoding="utf-8")
    res = gridbot("nlu", "train", env=env, timeout=None)
    assert res.returncode == 0, res.stderr
    assert "(2 reviewed corrections)" in res.stdout
    th = yaml.safe_load((tmp_path / "reviewed" / "calibration.yml").read_text(encoding="utf-8"))
    assert th["folds"] == "author"
    # The bot itself picks up the model and thresholds of the office's data plus corrections.
    code = (
        "from pathlib import Path; from bot.nlu import BuiltinClassifier; "
        f"c = BuiltinClassifier(extra_dir=Path({str(tmp_path / 'reviewed')!r}), data_dir=Path({str(data)!r})); "
        "print(c.thresholds.data_hash, c.model.version)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env})
    assert run.returncode == 0, run.stderr
    hash_, version = run.stdout.split()
    assert hash_ == th["data_hash"] and version.endswith(hash_)
    empty = tmp_path / "empty"
    empty.mkdir()
    res = gridbot("nlu", "train", env={**env, "GRIDBOT_NLU_DATA_DIR": str(empty)})
    assert res.returncode == 2 and "GRIDBOT_NLU_DATA_DIR" in _one_error_line(res)


def _one_error_line(res: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in res.stderr and "Unclosed" not in res.stderr, res.stderr[-2000:]
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("gridbot:")]
    assert len(lines) == 1, res.stderr[-2000:]
    return lines[0]


def test_unreachable_bot_api_or_database_at_start_is_one_line_and_exit_3(tmp_path: Path) -> None:
    token = "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    db = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    res = gridbot(
        "run",
        env={"GRIDBOT_BOT_TOKEN": token, "GRIDBOT_DATABASE_URL": db, "GRIDBOT_TELEGRAM_API_URL": "http://127.0.0.1:9"},
    )
    assert res.returncode == 3
    assert "cannot reach the Bot API at http://127.0.0.1:9" in _one_error_line(res)
    pg = "postgresql+asyncpg://postgres@127.0.0.1:9/nothing"
    res = gridbot("run", env={"GRIDBOT_BOT_TOKEN": token, "GRIDBOT_DATABASE_URL": pg})
    assert res.returncode == 3
    line = _one_error_line(res)
    assert "cannot use the database at postgresql+asyncpg://postgres@127.0.0.1:9/nothing" in line
    res = gridbot("db", "upgrade", env={"GRIDBOT_DATABASE_URL": pg})
    assert res.returncode == 3 and "database" in _one_error_line(res)


def _units(db: Path) -> list[tuple[str, str]]:
    return sorted(sqlite3.connect(db).execute("select code, name from units").fetchall())


def test_hostile_district_file_is_refused_whole(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    env = {"GRIDBOT_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    assert gridbot("grids", "import", str(DISTRICT), env=env).returncode == 0
    before = _units(db)
    data = json.loads(DISTRICT.read_text(encoding="utf-8"))
    grids = [f for f in data["features"] if f["properties"]["level"] == "grid"]
    grids[0]["geometry"]["coordinates"][0] = grids[0]["geometry"]["coordinates"][0][:-1]  # ring left open
    grids[1]["properties"]["code"] = "G" * 5000
    grids[2]["properties"]["name"] = "名" * 500
    path = tmp_path / "hostile.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    res = gridbot("grids", "import", str(path), env=env)
    assert res.returncode == 1
    assert "is not closed" in res.stderr and "'code' must be 1–32" in res.stderr and "longer than 100" in res.stderr
    assert "G" * 100 not in res.stderr  # the problem is described, the 5,000 characters are not echoed
    assert _units(db) == before


ACTIVITY_ROW = """
- community: {community}
  title: {title}
  place: 杏林路12号院
  start: "{start}"
  end: "2027-01-09 11:00"
  capacity: {capacity}
  points_rule: fixed
  points: 5
"""


def test_hostile_activity_file_lists_every_problem_and_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    env = {"GRIDBOT_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    assert gridbot("grids", "import", str(DISTRICT), env=env).returncode == 0
    rows = [
        ACTIVITY_ROW.format(community="QH-01", title="过去的活动", start="2020-01-09 09:00", capacity=5),
        ACTIVITY_ROW.format(community="QH-01", title="标" * 100_000, start="2027-01-09 09:00", capacity=5),
        ACTIVITY_ROW.format(community="QH-01", title="人很多", start="2027-01-09 09:00", capacity=99999999999999999999),
        ACTIVITY_ROW.format(community="NOPE", title="没这个社区", start="2027-01-09 09:30", capacity=5),
    ]
    path = tmp_path / "hostile.yml"
    path.write_text("".join(rows), encoding="utf-8")
    res = gridbot("activities", "import", str(path), env=env)
    assert res.returncode == 1, res.stdout
    assert "row 1: start 2020-01-09 09:00 is in the past" in res.stderr
    assert "row 2: title is longer than 100 characters (100000)" in res.stderr
    assert "row 3: capacity must be between 1 and 10000" in res.stderr
    assert "Traceback" not in res.stderr
    assert sqlite3.connect(db).execute("select count(*) from activities").fetchone() == (0,)
    path.write_text(rows[3], encoding="utf-8")
    res = gridbot("activities", "import", str(path), env=env)
    assert res.returncode == 1 and "row 1: 'NOPE' is not a community code" in res.stderr


@pytest.mark.parametrize(
    ("name", "body", "needles"),
    [
        ("empty.yml", "", ["no items found"]),
        ("noitems.yml", "goods:\n  - name: x\n", ["key 'items'"]),
        ("notyaml.yml", "items: [unclosed\n  - : :", ["not valid YAML"]),
        (
            "rows.yml",
            "items:\n  - {community: QH-01, name: '" + "米" * 10_000 + "', price: 99999999999999999999, stock: -1}\n"
            "  - {community: NOPE, name: 油, price: 5, stock: 1}\n",
            ["row 1: name is longer than 100", "row 1: price must be between 1 and 100000", "row 1: stock must be"],
        ),
        ("unknown.csv", "community,name,price,stock\nNOPE,油,5,1\n", ["row 2: 'NOPE' is not a community code"]),
        ("binary.csv", None, ["not UTF-8"]),
    ],
)
def test_hostile_catalog_files_are_refused_with_every_problem(
    name: str, body: str | None, needles: list[str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    env = {"GRIDBOT_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    assert gridbot("grids", "import", str(DISTRICT), env=env).returncode == 0
    path = tmp_path / name
    if body is None:
        path.write_bytes(b"\xff\xfe\x00garbage")
    else:
        path.write_text(body, encoding="utf-8")
    res = gridbot("catalog", "import", str(path), env=env)
    assert res.returncode == 1, (res.stdout, res.stderr)
    for needle in needles:
        assert needle in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert sqlite3.connect(db).execute("select count(*) from shop_items").fetchone() == (0,)
