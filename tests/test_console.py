"""The staff console: sign-in by a one-time link from the bot, sessions and CSRF, scope, actions that reach
Telegram through the same rules; and a real headless browser (Debian's Chromium via Playwright) driving it."""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import openpyxl
import pytest
from pydantic import SecretStr

from bot.demo_cast import ADMIN, COMMUNITY_GROUP, COMMUNITY_STAFF, GRID_GROUP, RESIDENT, RIDER, WORKER
from bot.scripted import Person, Script
from bot.web import create_web
from desk.console.telegram_login import sign
from domain.cases.model import CaseState
from tests.conftest import FakeClock
from tests.helpers import all_cases, sent_to, services, texts
from tests.test_activities import people, publish
from tests.test_deadlines import submit

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("GRIDBOT_SCREENSHOTS", "")) if os.environ.get("GRIDBOT_SCREENSHOTS") else None
OTHER_WORKER = Person(900103, "孙网格员", "sun_grid")


async def link_for(s: Script, who: Person) -> str:
    """What the bot answers to /console in a private chat: the one-time link."""
    await s.say(who, "/console")
    found = re.search(r"(http://\S+/console/login\?t=[\w-]+)", texts(sent_to(s.session, who.id))[-1])
    assert found, texts(sent_to(s.session, who.id))[-1]
    return found.group(1)


@contextlib.asynccontextmanager
async def signed_in(s: Script, base: str, who: Person) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client with a console session for this person."""
    link = await link_for(s, who)
    async with httpx.AsyncClient(base_url=base) as http:
        reply = await http.get(link.removeprefix(base))
        assert reply.status_code == 303 and reply.headers["location"] == "/console/cases"
        yield http


def csrf_of(html: str) -> str:
    """The session's form token from a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def test_links_work_once_expire_and_only_for_staff(district: Script, desk: str, clock: FakeClock) -> None:
    s = district
    await s.say(RESIDENT, "/start")
    await s.say(RESIDENT, "/console")
    assert "只对各级工作人员开放" in texts(sent_to(s.session, RESIDENT.id))[-1]
    link = await link_for(s, COMMUNITY_STAFF)
    async with httpx.AsyncClient() as http:
        first = await http.get(link)
        assert first.status_code == 303
        cookie = first.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/console" in cookie
        assert (await http.get(link)).status_code == 403  # a link works once
        late = await link_for(s, COMMUNITY_STAFF)
        clock.advance(11 * 60)
        assert (await http.get(late)).status_code == 403  # and only for ten minutes
        assert (await http.get(f"{desk}/console/login?t=forged")).status_code == 403
    for _ in range(5):  # five in ten minutes (the earlier ones are past the window), then no more
        await link_for(s, COMMUNITY_STAFF)
    await s.say(COMMUNITY_STAFF, "/console")
    assert "太频繁" in texts(sent_to(s.session, COMMUNITY_STAFF.id))[-1]
    async with httpx.AsyncClient(base_url=desk) as anonymous:
        reply = await anonymous.get("/console/cases")
        assert reply.status_code == 303 and reply.headers["location"] == "/console/signed-out"


async def test_the_telegram_login_widget_and_a_tile_base_map_where_the_office_enabled_them(
    district: Script, clock: FakeClock
) -> None:
    s = district
    token = "4242:desk-test-token"
    tiles = "https://tiles.intranet.example/{z}/{x}/{y}.png"
    s.app.settings = s.app.settings.model_copy(
        update={"bot_token": SecretStr(token), "login_widget_bot": "@xinglin_desk_bot", "map_tiles": tiles}
    )
    transport = httpx.ASGITransport(app=create_web(s.app))
    async with httpx.AsyncClient(transport=transport, base_url="http://desk.test") as http:
        page = await http.get("/console/signed-out")
        assert 'data-telegram-login="xinglin_desk_bot"' in page.text
        assert "script-src https://telegram.org" in page.headers["content-security-policy"]
        # Every other page runs no script at all.
        assert "script-src 'none'" in (await http.get("/console/login?t=x")).headers["content-security-policy"]

        def signed(who: Person, age_s: float = 5, key: str = token) -> dict[str, str]:
            fields = {
                "id": str(who.id),
                "first_name": who.first_name,
                "auth_date": str(int(clock.now.timestamp() - age_s)),
            }
            return {**fields, "hash": sign(fields, key)}

        forged = await http.get("/console/login/telegram", params=signed(COMMUNITY_STAFF, key="9999:someone-else"))
        assert forged.status_code == 403
        stale = await http.get("/console/login/telegram", params=signed(COMMUNITY_STAFF, age_s=11 * 60))
        assert stale.status_code == 403
        tampered = {**signed(RIDER), "id": str(COMMUNITY_STAFF.id)}
        assert (await http.get("/console/login/telegram", params=tampered)).status_code == 403
        await s.say(RIDER, "/start")
        not_staff = await http.get("/console/login/telegram", params=signed(RIDER))
        assert not_staff.status_code == 403 and "没有权限" in not_staff.text
        good = await http.get("/console/login/telegram", params=signed(COMMUNITY_STAFF))
        assert good.status_code == 303 and good.headers["location"] == "/console/cases"
        assert "httponly" in good.headers["set-cookie"].lower()
        assert (await http.get("/console/cases")).status_code == 200
        drawn = await http.get("/console/map")
        assert "img-src 'self' data: https://tiles.intranet.example;" in drawn.headers["content-security-policy"]
        assert '<image href="https://tiles.intranet.example/' in drawn.text


async def test_actions_go_through_the_rules_and_reach_telegram(
    district: Script, spot: dict[str, float], desk: str
) -> None:
    s = district
    case = await submit(s, RIDER, "小区北门井盖松了 踩上去晃得厉害 13912345678", spot)
    async with signed_in(s, desk, COMMUNITY_STAFF) as http:
        page = (await http.get(f"/console/cases/{case.number}")).text
        assert "139****5678" in page and "13912345678" not in page and "骑手小刘" not in page
        form = {"action": "claim", "rev": str(case.rev), "value": ""}
        refused = await http.post(f"/console/cases/{case.number}", data=form)  # no CSRF token
        assert refused.status_code == 403 and (await all_cases(s.app))[0].state is CaseState.NEW
        done = await http.post(f"/console/cases/{case.number}", data={**form, "csrf": csrf_of(page)})
        assert done.status_code == 200 and "已完成" in done.text
        [after] = await all_cases(s.app)
        assert after.state is CaseState.CLAIMED
        await s.app.sender.drain()
        s._collect()
        assert any("已由工作人员 李社区干事 接单" in x for x in texts(sent_to(s.session, RIDER.id)))
        # A stale form (the case moved on) is refused with a reason, and changes nothing.
        again = await http.post(f"/console/cases/{case.number}", data={**form, "csrf": csrf_of(page)})
        assert again.status_code == 400 and (await all_cases(s.app))[0].rev == after.rev
        # Resolve from the desk with its note: the reporter is asked to rate, as from a phone.
        page = (await http.get(f"/console/cases/{case.number}")).text
        for action, value in (("onsite", ""), ("resolve", "已更换井盖")):
            current = (await all_cases(s.app))[0]
            data = {"action": action, "rev": str(current.rev), "value": value, "csrf": csrf_of(page)}
            assert (await http.post(f"/console/cases/{case.number}", data=data)).status_code == 200
        await s.app.sender.drain()
        s._collect()
        assert (await all_cases(s.app))[0].state is CaseState.RESOLVED
        assert any("已更换井盖" in x for x in texts(sent_to(s.session, RIDER.id)))
    await s.say(ADMIN, "/start")
    async with signed_in(s, desk, ADMIN) as admin:
        audit = (await admin.get("/console/audit")).text
        # In words, like every other page: 接单, 办结 — never the codes case.claim, case.resolve.
        assert "<td>接单</td>" in audit and "<td>办结</td>" in audit and case.number in audit
        assert "case.claim" not in audit
        listed = (await admin.get("/console/cases")).text
        assert "杏林社区第二网格" in listed and "<td>QH-01-02</td>" not in listed


async def test_a_desk_claims_for_a_grid_worker_who_phoned_in(
    district: Script, spot: dict[str, float], desk: str
) -> None:
    s = district
    case = await submit(s, RIDER, "小区北门井盖松了 踩上去晃得厉害", spot)
    await s.say(WORKER, "/start")
    async with signed_in(s, desk, COMMUNITY_STAFF) as http:
        page = (await http.get(f"/console/cases/{case.number}")).text
        found = re.search(r'<option value="(\d+)">代为接单：王网格员</option>', page)
        assert found, page
        worker_id = found.group(1)
        form = {"action": "claim", "rev": str(case.rev), "csrf": csrf_of(page)}
        # Only staff of the case's unit: a resident's id is refused and changes nothing.
        refused = await http.post(f"/console/cases/{case.number}", data={**form, "value": str(RESIDENT.id)})
        assert refused.status_code == 400 and "只能替本案件所在单位的工作人员接单" in refused.text
        assert (await all_cases(s.app))[0].state is CaseState.NEW
        done = await http.post(f"/console/cases/{case.number}", data={**form, "value": worker_id})
        assert done.status_code == 200
        [after] = await all_cases(s.app)
        assert after.state is CaseState.CLAIMED and after.assignee_id == int(worker_id)
        story = (await http.get(f"/console/cases/{case.number}")).text
        assert "指派" in story and "李社区干事" in story
    await s.say(ADMIN, "/start")
    async with signed_in(s, desk, ADMIN) as admin:
        audit = (await admin.get("/console/audit")).text
        assert "<td>指派</td>" in audit and "<td>王网格员</td>" in audit and f"<td>{worker_id}</td>" not in audit
    await s.app.sender.drain()
    s._collect()
    told = texts(sent_to(s.session, WORKER.id))
    assert any("指派给您" in x and case.number in x and "李社区干事" in x for x in told), told
    assert any(f"已由工作人员 {WORKER.first_name} 接单" in x for x in texts(sent_to(s.session, RIDER.id)))
    # The worker's figures count the claim as theirs (the desk only assigned it).
    async with services(s.app) as svc:
        unit = await svc.org.get(after.unit_code)
        workers = await svc.stats.workers(unit, svc.dashboard.this_month())
    assert [w.name for w in workers if w.claimed] == [WORKER.first_name]


async def test_volunteering_ledgers_are_listed_searched_and_downloaded(
    district: Script, desk: str, tmp_path: Path
) -> None:
    s = district
    act = await publish(s, tmp_path, capacity=1)
    first, second = people(2, base=975000)
    for p in (first, second):  # one seat: the second waits
        await s.say(p, "/start")
        await s.press(p, "x", group=COMMUNITY_GROUP, data=f"act:join:{act}")
    reply = s.message_dict(first, "我来了", COMMUNITY_GROUP)
    await s.say(COMMUNITY_STAFF, f"/backfill {act} 1.5", group=COMMUNITY_GROUP, reply_to_message=reply)
    await s.say(COMMUNITY_STAFF, "/team 红马甲服务队", group=COMMUNITY_GROUP)
    async with signed_in(s, desk, COMMUNITY_STAFF) as http:
        page = await http.get("/console/ledger/activities", params={"month": "2026-11"})
        assert page.status_code == 200
        cells = re.findall(r"<td>([^<]*)</td>", page.text)
        # title, community, place, team, seats 1, signed up 1, waiting 1, attended 1, no-shows 0, hours 1.50
        assert cells[1:] == ["楼道清理", "杏林社区", "杏林社区3号楼", "", "1", "1", "1", "1", "0", "1.50"], cells
        teams = (await http.get("/console/ledger/teams", params={"month": "2026-11"})).text
        assert "红马甲服务队" in teams and "杏林社区" in teams
        hours = await http.get("/console/ledger/hours", params={"month": "2026-11", "q": first.first_name})
        assert first.first_name in hours.text and "共 1 行" in hours.text
        nobody = await http.get("/console/ledger/hours", params={"month": "2026-11", "q": "没有这个人"})
        assert "这个月没有记录" in nobody.text
        assert (await http.get("/console/ledger/hours", params={"month": "2026-13"})).status_code == 400
        assert (await http.get("/console/ledger/bills")).status_code == 404
        found = (await http.get("/console/volunteers", params={"q": "没有这个人"})).text
        assert "还没有志愿者" in found
        download = await http.get("/console/export", params={"month": "2026-11", "kind": "activities"})
        book = openpyxl.load_workbook(io.BytesIO(download.content))
        assert book.sheetnames == ["汇总", "志愿活动台账"]
        assert [c.value for c in book["志愿活动台账"][3]][1:] == ["楼道清理", "杏林社区", "杏林社区3号楼", None,
                                                              1, 1, 1, 1, 0, 1.5]  # fmt: skip


async def test_a_grid_worker_sees_only_their_grid(district: Script, spot: dict[str, float], desk: str) -> None:
    s = district
    case = await submit(s, RIDER, "小区北门井盖松了 踩上去晃得厉害", spot)
    await s.say(OTHER_WORKER, "/start")
    await s.say(ADMIN, "/bind QH-01-03", group=GRID_GROUP.__class__(-1001000000113, "杏林社区第三网格"))
    await s.say(ADMIN, "/staff add @sun_grid", group=GRID_GROUP.__class__(-1001000000113, "杏林社区第三网格"))
    async with signed_in(s, desk, OTHER_WORKER) as http:
        assert case.number not in (await http.get("/console/cases")).text
        assert (await http.get(f"/console/cases/{case.number}")).status_code == 403
        assert (await http.get("/console/cases", params={"unit": "QH-01-02"})).status_code == 403
    async with signed_in(s, desk, WORKER) as mine:
        assert case.number in (await mine.get("/console/cases")).text


@pytest.mark.skipif(
    bool(os.environ.get("GRIDBOT_NO_BROWSER")) or not os.path.exists(CHROMIUM),
    reason="GRIDBOT_NO_BROWSER set, or no Chromium (make test installs it where apt may)",
)
async def test_in_a_real_browser(district: Script, spot: dict[str, float], desk: str, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    s = district
    urgent = await submit(s, RIDER, "12号楼地下车库冒烟了 有焦糊味", spot)
    plain = await submit(s, RIDER, "小区北门井盖松了 踩上去晃得厉害", spot, dlat=0.001)
    link = await link_for(s, COMMUNITY_STAFF)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = await browser.new_context(
            accept_downloads=True, locale="zh-CN", viewport={"width": 1280, "height": 900}
        )
        page = await context.new_page()
        await page.goto(link)
        assert page.url.endswith("/console/cases")
        assert await page.locator(f"text={urgent.number}").count() == 1
        shot = SCREENSHOTS or tmp_path
        shot.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(shot / "cases.png"), full_page=True)
        # Filter: urgent only.
        await page.check("input[name=urgent]")
        await page.click("#apply")
        assert await page.locator(f"text={plain.number}").count() == 0
        assert await page.locator(f"text={urgent.number}").count() == 1
        # A text search that finds nothing says so.
        await page.fill("input[name=q]", "不存在的问题")
        await page.click("#apply")
        assert await page.locator("#empty").count() == 1
        # Open a case and claim it; Telegram hears of it.
        await page.goto(f"{desk}/console/cases/{plain.number}")
        await page.screenshot(path=str(shot / "case.png"), full_page=True)
        await page.click("button[data-action=claim]")
        assert "已完成" in await page.inner_text("#done")
        await s.app.sender.drain()
        s._collect()
        assert any("已由工作人员 李社区干事 接单" in x for x in texts(sent_to(s.session, RIDER.id)))
        # The map draws the grids from the database (no tiles, no internet) with the open cases on them.
        await page.goto(f"{desk}/console/map")
        assert await page.locator("#map svg path").count() >= 5
        assert "杏林社区第二网格" in await page.inner_html("#map")
        await page.screenshot(path=str(shot / "map.png"), full_page=True)
        await page.goto(f"{desk}/console/dashboard")
        assert await page.locator("#trend svg").count() == 1
        # The dashboard leads with the month's 三率 as large figures; the charts' text is at reading size.
        assert await page.locator("#headline .figure").count() == 4
        big = await page.eval_on_selector("#headline .value", "e => parseFloat(getComputedStyle(e).fontSize)")
        assert big >= 28
        sizes = await page.eval_on_selector_all(
            "#trend svg text", "ts => ts.map(t => t.getBoundingClientRect().height)"
        )
        assert min(sizes) >= 10, sizes  # an axis label was about 6 px when a 640-wide chart was squeezed in
        await page.screenshot(path=str(shot / "dashboard.png"), full_page=True)
        # A phone: the case list as cards, every field readable on its own line.
        phone = await browser.new_context(
            locale="zh-CN", viewport={"width": 390, "height": 844}, storage_state=await context.storage_state()
        )
        mobile = await phone.new_page()
        await mobile.goto(f"{desk}/console/cases")
        row = await mobile.eval_on_selector("#cases tbody tr", "e => e.getBoundingClientRect().width")
        assert row >= 300, row  # a card as wide as the phone, not a 530-px table squeezed to a column a letter wide
        assert await mobile.eval_on_selector("#cases thead", "e => getComputedStyle(e).display") == "none"
        await mobile.screenshot(path=str(shot / "cases-phone.png"), full_page=True)
        await phone.close()
        # Download the month's ledger and read it back.
        await page.goto(f"{desk}/console/cases")
        async with page.expect_download() as download_info:
            await page.click("#download")
        download = await download_info.value
        target = tmp_path / "ledger.xlsx"
        await download.save_as(str(target))
        book = openpyxl.load_workbook(target)
        assert "案件台账" in book.sheetnames and book["案件台账"].max_row >= 4
        await browser.close()


async def test_refusals_keep_the_header_and_a_way_back(district: Script, spot: dict[str, float], desk: str) -> None:
    s = district
    case = await submit(s, RIDER, "小区北门井盖松了 踩上去晃得厉害", spot)
    await s.say(WORKER, "/start")
    async with signed_in(s, desk, COMMUNITY_STAFF) as http:
        audit = await http.get("/console/audit")
        assert audit.status_code == 403 and "操作记录只对机器人管理员开放" in audit.text
        assert 'id="back"' in audit.text and "<header>" in audit.text
        page = (await http.get(f"/console/cases/{case.number}")).text
        assert '<option value="public_facility" selected>' in page  # 更正类别 starts on the current category
        missing = await http.get("/console/cases/SB20990101-0001")
        assert missing.status_code == 404 and 'id="back"' in missing.text
