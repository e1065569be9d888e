"""Excel ledgers (台账): written from a month of real activity, read back with openpyxl as a clerk would."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from bot.admin import export_ledgers
from bot.demo_cast import COMMUNITY_GROUP, COMMUNITY_STAFF, GRID_GROUP, NEIGHBOUR, RESIDENT, RIDER, WORKER
from bot.jobs import sweep
from bot.scripted import Script
from desk.ledgers import Sheet, workbook
from domain.kernel.errors import Forbidden
from tests.conftest import FakeClock
from tests.helpers import sent_to, services, texts, user_of
from tests.test_deadlines import submit
from tests.test_points import award, stock_item


async def a_month(s: Script, spot: dict[str, float]) -> None:
    """A case handled and rated, one left open, points awarded and one redemption picked up."""
    await s.say(RIDER, "/start")
    await s.press(RIDER, "骑手")
    await submit(s, RIDER, "小区北门井盖松了 踩上去晃得厉害 电话13912345678", spot)
    for label in ("接单", "到场", "办结"):
        await s.press(WORKER, label, group=GRID_GROUP)
    await s.say(WORKER, "已更换井盖")
    await s.press(RIDER, "满意")
    await submit(s, RIDER, "楼道里堆满纸箱 堵住消防通道", spot, dlat=0.0015)
    await s.say(RESIDENT, "/start")
    await award(s, RESIDENT, 50)
    await stock_item(s, "洗衣液", 30, 5)
    await s.say(RESIDENT, "🎁 信用超市")
    await s.press(RESIDENT, "杏林社区")
    await s.press(RESIDENT, "洗衣液")
    await s.press(RESIDENT, "确认兑换")
    code = re.search(r"取货码：<b>(\w+)</b>", texts(sent_to(s.session, RESIDENT.id))[-1])
    assert code is not None
    await s.say(COMMUNITY_STAFF, f"/verify {code.group(1)}", group=COMMUNITY_GROUP)


def rows(sheet: Worksheet) -> list[dict[str, object]]:
    """Data rows keyed by header (row 2 holds the headers)."""
    headers = [str(c.value) for c in sheet[2]]
    out: list[dict[str, object]] = []
    for r in sheet.iter_rows(min_row=3, values_only=True):
        if not any(r):
            break  # the table ends at the first empty row (a note may follow)
        out.append(dict(zip(headers, r, strict=True)))
    return out


async def test_the_workbook_a_clerk_gets(district: Script, spot: dict[str, float], tmp_path: Path) -> None:
    s = district
    await a_month(s, spot)
    out = tmp_path / "2026-11.xlsx"
    name, counts = await export_ledgers(s.app.settings, ["cases", "grids", "points", "redemptions"], "2026-11",
                                        "QH-01", out, "zh-CN")  # fmt: skip
    assert name == "杏林社区" and counts == {"grids": 5, "cases": 2, "points": 3, "redemptions": 1}
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["汇总", "网格三率", "案件台账", "积分台账", "兑换台账"]
    cases = book["案件台账"]
    assert cases["A1"].value == "杏林社区 2026-11 案件台账"
    assert cases.freeze_panes == "A3" and cases.auto_filter.ref is not None and cases.auto_filter.ref.startswith("A2:")
    done, open_case = rows(cases)
    assert isinstance(done["上报时间"], datetime) and cases["B3"].number_format == "yyyy-mm-dd hh:mm"
    assert done["类别"] == "公共设施" and done["状态"] == "已关闭" and done["评价"] == "满意"
    assert done["接单人"] == "王网格员" and done["按期办结"] == "是" and done["上报人身份"] == "骑手"
    assert "139****5678" in str(done["描述"]) and "13912345678" not in str(done["描述"])
    assert "骑手小刘" not in [str(v) for v in done.values()]  # the reporter by role only
    assert open_case["状态"] == "待接单" and open_case["按期办结"] == "—" and open_case["接单时间"] is None
    [summary] = rows(book["汇总"])
    assert summary["单位"] == "杏林社区" and summary["收到"] == 2 and summary["满意率"] == 1
    assert book["汇总"]["E3"].number_format == "0.0%"
    grids = rows(book["网格三率"])
    assert grids[0]["单位"] == "杏林社区第二网格" and grids[0]["排名"] == 1 and grids[0]["收到"] == 2
    [redemption] = rows(book["兑换台账"])
    assert redemption["物品"] == "洗衣液" and redemption["状态"] == "已领取" and redemption["核销人"] == "李社区干事"
    kinds = sorted(str(r["类型"]) for r in rows(book["积分台账"]))
    assert kinds == ["兑换", "获得", "获得"]  # the award, the report's reward, the redemption
    # Widths fit the Chinese text (about two units a character), within reason.
    assert cases.column_dimensions["D"].width >= 40 and all(
        (cases.column_dimensions[c].width or 0) <= 60 for c in "ABCDEFGHIJ"
    )


async def test_ledgers_are_for_staff_of_the_unit_or_above(district: Script) -> None:
    s = district
    worker, staff = await user_of(s.app, WORKER), await user_of(s.app, COMMUNITY_STAFF)
    async with services(s.app) as svc:
        assert (await svc.ledgers.scope(worker, "QH-01-02")).code == "QH-01-02"
        with pytest.raises(Forbidden):
            await svc.ledgers.scope(worker, "QH-01")  # a grid worker does not read the community's ledgers
        assert (await svc.ledgers.scope(staff, "QH-01-02")).code == "QH-01-02"


def test_export_command_refuses_bad_arguments(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    runner = CliRunner()
    env = {"GRIDBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    result = runner.invoke(app, ["export", "bills", "--month", "2026-11", "--out", "x.xlsx"], env=env)
    assert result.exit_code == 2 and "unknown ledger" in result.output
    result = runner.invoke(app, ["export", "all", "--month", "2026-11", "--out", "x.csv"], env=env)
    assert result.exit_code == 2 and ".xlsx" in result.output


async def test_export_command_writes_a_workbook(district: Script, spot: dict[str, float], tmp_path: Path,
                                                clock: FakeClock) -> None:  # fmt: skip
    s = district
    await a_month(s, spot)
    name, counts = await export_ledgers(s.app.settings, ["cases"], "2026-10", None, tmp_path / "o.xlsx", "en")
    assert name == "青禾街道" and counts == {"cases": 0}
    book = openpyxl.load_workbook(tmp_path / "o.xlsx")
    assert book.sheetnames == ["Summary", "Cases"] and book["Cases"]["A2"].value == "Number"


async def test_closed_months_figures_are_kept_by_the_runner_and_read_by_the_desk(
    district: Script, spot: dict[str, float], clock: FakeClock
) -> None:
    s = district
    await a_month(s, spot)  # November: two cases, one resolved and rated, one still open
    clock.advance(9 * 86400)  # December: November is closed
    for _ in range(20):  # the runner refreshes a few stale unit-months a round
        if not (await sweep(s.app)).snapshots:
            break
    async with services(s.app) as svc:
        stored = await svc.ports.snapshots.get("QH-01", "2026-11")
    assert stored is not None and json.loads(stored[1])["totals"]["resolved"] == 1
    # November's open case is resolved in December: the desk shows the stored figures for up to two hours,
    # while /stats (and the ledgers) count it at once.
    for label in ("接单", "到场", "办结"):
        await s.press(WORKER, label, group=GRID_GROUP)
    await s.say(WORKER, "纸箱已清走")
    async with services(s.app) as svc:
        unit = await svc.org.get("QH-01")
        trend = dict(await svc.dashboard.trend(unit, "2026-12"))
    assert trend["2026-11"].resolved == 1 and trend["2026-11"].received == 2
    await s.say(COMMUNITY_STAFF, "/stats 2026-11", group=COMMUNITY_GROUP)
    assert "办结率 100%" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1].replace("：", " ")
    clock.advance(3601)
    await sweep(s.app)
    async with services(s.app) as svc:
        trend = dict(await svc.dashboard.trend(await svc.org.get("QH-01"), "2026-12"))
    assert trend["2026-11"].resolved == 2


async def test_who_reads_names_and_pickup_codes(district: Script, spot: dict[str, float]) -> None:
    s = district
    await a_month(s, spot)
    await s.say(NEIGHBOUR, "/start")
    worker, staff = await user_of(s.app, WORKER), await user_of(s.app, COMMUNITY_STAFF)
    async with services(s.app) as svc:
        # The community's own staff: volunteers by name, pickup codes to verify; a reporter never by name.
        await svc.ledgers.scope(staff, "QH-01")
        points = await svc.ledgers.points(await svc.org.get("QH-01"), "2026-11")
        report = next(p for p in points if p.ref and p.ref.startswith("case:"))
        assert report.person == "上报人" and "骑手小刘" not in [p.person for p in points]
        assert any(p.person == "张阿姨" for p in points)
        [redemption] = await svc.ledgers.redemptions(await svc.org.get("QH-01"), "2026-11")
        assert redemption.person == "张阿姨" and redemption.code != "••••"
        # A grid worker's grid-level ledgers hold no community's volunteering rows.
        await svc.ledgers.scope(worker, "QH-01-02")
        grid = await svc.org.get("QH-01-02")
        assert await svc.ledgers.points(grid, "2026-11") == []
        assert await svc.ledgers.redemptions(grid, "2026-11") == []
    async with services(s.app) as svc:
        # Street staff (here a street-level reader who is not the community's staff): names and codes masked.
        street = await user_of(s.app, NEIGHBOUR)
        await svc.org.staff.add("QH", street.id, None)
        await svc.ledgers.scope(street, "QH")
        [redemption] = await svc.ledgers.redemptions(await svc.org.get("QH"), "2026-11")
        assert redemption.code == "••••" and redemption.person == "张**"


def test_a_printed_ledger_is_landscape_one_page_wide_with_headers_on_every_page() -> None:
    book = workbook([Sheet("案件台账", "标题", ["编号", "描述"], [["SB1", "=1+1"]], [None, None], [None, None])])
    ws = book.active
    assert ws is not None
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$2"
    assert ws["B3"].data_type == "s" and ws["B3"].quotePrefix  # text, never a formula
