"""A city at its evening peak: the fake Bot API as its own process, `gridbot run --webhook` as one or more processes,
and a load generator playing Telegram for 10,000 people in 200 groups, at rising rates.

The generator delivers updates the way Telegram does to a webhook (one chat's next update after the previous one
was acknowledged; different chats at once), open loop at a fixed rate: full reports (text → location → 提交),
group chatter the bot reads and mostly leaves alone, staff pressing 接单 on posted cases, /start and /help, and
/stats in groups. For each rate it reports the updates/s the processes kept up with, p50/p95/p99 of the reply
latency (an update sent → the bot's reply arriving at the Bot API, outbox included), the outbox's oldest due
message at the end of the step, and, at the end, that no update was lost and no chat's replies came out of order.

The floor, measured in the same run on the same database: one durable commit per update (an INSERT and COMMIT,
from as many connections at once as the processes have lanes) — what any correct bot must at least do.

    python bench/load.py [--db URL] [--processes N] [--rates 25,50,100,200] [--seconds 15]

Without --db a temporary SQLite file (one process). A PostgreSQL database given with --db is EMPTIED first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import random
import re
import socket
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from storage.db import create_engine  # noqa: E402
from tests.helpers import stop_process  # noqa: E402

TOKEN = "123456789:LOAD-BENCH-token-abcdefghijklmn"
ADMIN = 4242
PEOPLE = 10_000
GROUPS = 200
LAT0, LON0, SIDE_M = 36.65, 117.0, 400.0
CHATTER = [
    "今天谁家团购的鸡蛋到了 在门卫那",
    "早上好各位",
    "电梯里好多人 等了两趟",
    "楼下新开了家面馆 味道不错",
    "有人捡到一串钥匙吗 蓝色钥匙扣",
    "收到 谢谢",
    "明天降温了 大家多穿点",
    "物业说周三电梯年检 上午停用",
    "孩子们在楼下踢球呢 注意车",
    "快递放门口了 记得拿",
    "周末社区有义诊 老人可以去看看",
    "哈哈哈 太逗了",
    "北门的快递柜满了",
    "楼道的春联贴上了 挺好看",
    "谁知道附近哪有修鞋的",
    "好的 我晚点下去拿",
]
REPORTS = [
    "3号楼楼道有电动车在充电",
    "东风路口井盖没了 快来看看",
    "小区门口垃圾堆成山了 好几天没人收",
    "人行道上停满了车 推婴儿车过不去",
    "路灯坏了一排 晚上黑乎乎的",
    "楼上往下扔东西 差点砸到人",
]


def free_port() -> int:
    """A port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def district() -> tuple[dict[str, Any], list[str], tuple[float, float, float, float]]:
    """A street of 20 communities of 10 grids (400 m squares); the grid codes and the lattice's box."""
    dlat = SIDE_M / 110_574.0
    dlon = SIDE_M / (111_320.0 * math.cos(math.radians(LAT0)))
    feats: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "properties": {"code": "LD", "name": "压测街道", "level": "street", "parent": None},
            "geometry": None,
        }
    ]
    codes = []
    for c in range(GROUPS // 10):
        feats.append(
            {
                "type": "Feature",
                "properties": {"code": f"LD-{c:02d}", "name": f"社区{c}", "level": "community", "parent": "LD"},
                "geometry": None,
            }
        )
    for i in range(GROUPS):
        r, c = divmod(i, 20)
        x0, y0 = LON0 + c * dlon, LAT0 + r * dlat
        ring = [[x0, y0], [x0 + dlon, y0], [x0 + dlon, y0 + dlat], [x0, y0 + dlat], [x0, y0]]
        code = f"LD-{i // 10:02d}-{i % 10:02d}"
        codes.append(code)
        feats.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name": f"网格{i}", "level": "grid", "parent": f"LD-{i // 10:02d}"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    box = (LAT0, LON0, LAT0 + (GROUPS // 20) * dlat, LON0 + 20 * dlon)
    return {"type": "FeatureCollection", "features": feats}, codes, box


@dataclass
class Sent:
    """One update the generator delivered."""

    chat: int
    kind: str
    at: float  # when it was due (open loop: queueing in front of a busy chat counts)
    acked: float = 0.0
    status: int = 0


@dataclass
class City:
    """The generator's state: people, groups, flows in progress, cases seen in groups."""

    box: tuple[float, float, float, float]
    rnd: random.Random = field(default_factory=lambda: random.Random(7))
    uid: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_000))
    flows: dict[int, int] = field(default_factory=dict)  # rider → next step (1: location, 2: submit)
    claims: list[str] = field(default_factory=list)  # callback data of 接单 buttons seen in groups
    sent: list[Sent] = field(default_factory=list)

    def next(self) -> tuple[int, str, dict[str, Any]]:
        """The next update of the mix: (chat, kind, Update dict)."""
        x = self.rnd.random()
        if x < 0.40:
            if self.flows and self.rnd.random() < 0.7:
                rider = self.rnd.choice(list(self.flows))
            else:
                rider = 10_000_000 + self.rnd.randrange(PEOPLE)
                self.flows.setdefault(rider, 0)
            step = self.flows.get(rider, 0)
            if step == 0:
                self.flows[rider] = 1
                return rider, "report", self._message(rider, rider, self.rnd.choice(REPORTS))
            if step == 1:
                self.flows[rider] = 2
                lat = self.rnd.uniform(self.box[0], self.box[2])
                lon = self.rnd.uniform(self.box[1], self.box[3])
                return (
                    rider,
                    "location",
                    self._message(rider, rider, None, location={"latitude": lat, "longitude": lon}),
                )
            del self.flows[rider]
            return rider, "submit", self._press(rider, rider, "d:submit:")
        if x < 0.80:
            group = -1_000_000_000 - self.rnd.randrange(GROUPS)
            person = 10_000_000 + self.rnd.randrange(PEOPLE)
            return group, "chatter", self._message(group, person, self.rnd.choice(CHATTER))
        if x < 0.88 and self.claims:
            data = self.claims.pop(self.rnd.randrange(len(self.claims)))
            group = int(data.split("|")[0])
            return group, "claim", self._press(group, ADMIN, data.split("|", 1)[1])
        if x < 0.96:
            person = 10_000_000 + self.rnd.randrange(PEOPLE)
            return person, "help", self._message(person, person, self.rnd.choice(["/start", "/help"]))
        group = -1_000_000_000 - self.rnd.randrange(GROUPS)
        return group, "stats", self._message(group, ADMIN, "/stats")

    def _message(self, chat: int, person: int, body: str | None, **extra: Any) -> dict[str, Any]:
        kind = "private" if chat > 0 else "supergroup"
        msg: dict[str, Any] = {
            "message_id": next(self.uid),
            "date": int(time.time()),
            "chat": {"id": chat, "type": kind, **({"title": f"小区群{-chat}"} if chat < 0 else {"first_name": "居民"})},
            "from": {"id": person, "is_bot": False, "first_name": "居民"},
        }
        if body is not None:
            msg["text"] = body
            if body.startswith("/"):
                msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(body.split()[0])}]
        msg.update(extra)
        return {"update_id": next(self.uid), "message": msg}

    def _press(self, chat: int, person: int, data: str) -> dict[str, Any]:
        kind = "private" if chat > 0 else "supergroup"
        return {
            "update_id": next(self.uid),
            "callback_query": {
                "id": str(next(self.uid)),
                "from": {"id": person, "is_bot": False, "first_name": "居民"},
                "chat_instance": str(chat),
                "data": data,
                "message": {"message_id": 1, "date": 0, "chat": {"id": chat, "type": kind}, "text": "…"},
            },
        }


class Telegram:
    """Delivers updates to the webhook processes: one chat at a time in order, round robin over processes."""

    def __init__(self, http: aiohttp.ClientSession, ports: list[int], secret: str) -> None:
        self.http = http
        self.urls = [f"http://127.0.0.1:{p}/telegram/webhook" for p in ports]
        self.secret = secret
        self.chats: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.turn = itertools.count()

    async def deliver(self, sent: Sent, body: dict[str, Any]) -> None:
        """Post until a process answers 200 (Telegram retries too)."""
        async with self.chats[sent.chat]:
            for _ in range(50):
                url = self.urls[next(self.turn) % len(self.urls)]
                try:
                    async with self.http.post(
                        url, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": self.secret}
                    ) as r:
                        sent.status = r.status
                        if r.status == 200:
                            sent.acked = time.monotonic()
                            return
                except aiohttp.ClientError:
                    sent.status = -1
                await asyncio.sleep(0.5)


def out_of_order(replies: list[str]) -> int:
    """Report replies out of order: a case filed (已受理) whose last draft reply before it had no place yet (地点：)
    — the 提交 handled before the location."""
    last = ""
    wrong = 0
    for txt in replies:
        if "上报草稿" in txt:
            last = "complete" if "地点：" in txt else "incomplete"
        elif "已受理" in txt:
            wrong += last != "complete"
            last = ""
    return wrong


def cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds used so far by a process (user + system), or by the whole machine when pid is None."""
    tick = os.sysconf("SC_CLK_TCK")
    if pid is None:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        idle = int(fields[3]) + int(fields[4])
        return (sum(int(x) for x in fields) - idle) / tick
    parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / tick


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of the values, nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


async def calls(http: aiohttp.ClientSession, api: str) -> list[dict[str, Any]]:
    """What the bot sent to the fake Bot API so far."""
    async with http.get(f"{api}/_control/calls") as r:
        data = await r.json()
    return list(data.get("calls", data) if isinstance(data, dict) else data)


def replies_by_chat(all_calls: list[dict[str, Any]], wall_to_mono: float) -> dict[int, list[tuple[float, str]]]:
    """Messages the bot sent, per chat, with their arrival time on the generator's monotonic clock."""
    out: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for c in all_calls:
        if c.get("status") != 200 or str(c.get("method")).lower() not in ("sendmessage", "sendphoto"):
            continue
        p = c.get("params", {})
        try:
            chat = int(p.get("chat_id"))
        except (TypeError, ValueError):
            continue
        out[chat].append((float(c["t"]) - wall_to_mono, str(p.get("text") or p.get("caption") or "")))
    return out


def harvest_claims(city: City, all_calls: list[dict[str, Any]], seen: set[int]) -> None:
    """接单 buttons on case cards posted to groups: staff will press some of them."""
    for c in all_calls:
        if c.get("seq") in seen or str(c.get("method")).lower() not in ("sendmessage", "sendphoto"):
            continue
        seen.add(int(c.get("seq", 0)))
        p = c.get("params", {})
        markup = p.get("reply_markup")
        if isinstance(markup, str):
            with contextlib.suppress(ValueError):
                markup = json.loads(markup)
        if not isinstance(markup, dict) or int(p.get("chat_id", 0) or 0) >= 0:
            continue
        for row in markup.get("inline_keyboard") or []:
            for b in row:
                if "接单" in b.get("text", "") and b.get("callback_data"):
                    city.claims.append(f"{p['chat_id']}|{b['callback_data']}")


async def scrape(
    http: aiohttp.ClientSession, ports: list[int], name: str = "gridbot_outbox_oldest_due_seconds"
) -> float:
    """The largest value of a gauge any process reports (default: the oldest due outbox message, seconds)."""
    worst = 0.0
    for port in ports:
        with contextlib.suppress(aiohttp.ClientError, ValueError):
            async with http.get(f"http://127.0.0.1:{port}/metrics") as r:
                m = re.search(rf"^{name} (\S+)$", await r.text(), re.M)
                if m:
                    worst = max(worst, float(m.group(1)))
    return worst


async def floor_rate(url: str, workers: int, seconds: float = 3.0) -> float:
    """Durable commits per second: one INSERT + COMMIT per "update", from `workers` connections at once."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS bench_floor (id BIGINT PRIMARY KEY, at TEXT)"))
    ids = itertools.count(int(time.time() * 1000) * 1000)
    done = 0
    stop = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < stop:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO bench_floor VALUES (:id, 'x')"), {"id": next(ids)})
            done += 1

    t = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(workers)))
    rate = done / (time.monotonic() - t)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE bench_floor"))
    await engine.dispose()
    return rate


async def run(args: argparse.Namespace) -> int:
    """Set up the city, ramp the rate, print the table."""
    tmp = Path(tempfile.mkdtemp(prefix="gridbot-load-"))
    db = args.db or f"sqlite+aiosqlite:///{tmp / 'load.db'}"
    if db.startswith("postgresql"):
        engine = create_engine(db)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    elif args.processes > 1:
        print("SQLite is one process by design: --processes 1")
        return 2
    fake_port = free_port()
    api = f"http://127.0.0.1:{fake_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDBOT_")}
    env.update(
        GRIDBOT_BOT_TOKEN=TOKEN,
        GRIDBOT_TELEGRAM_API_URL=api,
        GRIDBOT_DATABASE_URL=db,
        GRIDBOT_ADMIN_IDS=str(ADMIN),
        GRIDBOT_QUIET_HOURS="",  # the bench runs at any hour; quiet hours would hold replies till morning
        GRIDBOT_MESSAGES_PER_SECOND="1000",  # the fake has no flood limits; Telegram's are the bot's, not the city's
        GRIDBOT_GROUP_MESSAGES_PER_MINUTE="10000",
        GRIDBOT_MEDIA_URL=str(tmp / "media"),
    )
    log = (tmp / "run.log").open("ab")
    procs: list[asyncio.subprocess.Process] = []
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.bot_api", "--port", str(fake_port), cwd=str(ROOT), stdout=log, stderr=log
    )
    procs.append(fake)
    try:
        doc, codes, box = district()
        (tmp / "district.geojson").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        for cmd in (["db", "upgrade"], ["grids", "import", str(tmp / "district.geojson")]):
            p = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", *cmd, env=env, cwd=str(tmp), stdout=log, stderr=log
            )
            if await p.wait() != 0:
                print(f"setup failed: gridbot {' '.join(cmd)} (log: {tmp / 'run.log'})")
                return 1
        ports = [free_port() for _ in range(args.processes)]
        for port in ports:
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot",
                    "run",
                    "--webhook",
                    f"http://127.0.0.1:{port}",
                    "--port",
                    str(port),
                    env=env,
                    cwd=str(tmp),
                    stdout=log,
                    stderr=log,
                )
            )
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            deadline = time.monotonic() + 120
            hooks: list[dict[str, Any]] = []
            while len(hooks) < len(ports):
                if time.monotonic() > deadline:
                    print(f"the bot did not start (log: {tmp / 'run.log'})")
                    return 1
                await asyncio.sleep(0.5)
                with contextlib.suppress(aiohttp.ClientError):
                    hooks = [c for c in await calls(http, api) if str(c.get("method")).lower() == "setwebhook"]
            tg = Telegram(http, ports, str(hooks[0]["params"]["secret_token"]))
            city = City(box)
            # The street admin binds 200 groups, one per grid (as in chat).
            setup = [Sent(-1_000_000_000 - i, "bind", time.monotonic()) for i in range(GROUPS)]
            await asyncio.gather(
                *(tg.deliver(s, city._message(s.chat, ADMIN, f"/bind {codes[i]}")) for i, s in enumerate(setup))
            )
            for _ in range(120):  # the binds' own messages leave the outbox before the clock starts
                if await scrape(http, ports, "gridbot_outbox_due") == 0:
                    break
                await asyncio.sleep(0.5)
            wall_to_mono = time.time() - time.monotonic()
            seen: set[int] = set()
            print(f"processes: {len(ports)} · database: {db.split('://')[0]} · {PEOPLE:,} people, {GROUPS} groups")
            floor = await floor_rate(db, 32 if db.startswith("postgresql") else 1)
            print(f"floor (one durable commit per update, same database): {floor:,.0f}/s")
            # Warm-up, not measured: every kind of update once through each process's lazy paths (routing index,
            # danger model, first sessions of the pool).
            warm = []
            for _ in range(60):
                chat, kind, body = city.next()
                warm.append(tg.deliver(Sent(chat, kind, time.monotonic()), body))
            await asyncio.gather(*warm)
            await asyncio.sleep(2.0)
            print("offered/s  handled/s  p50 ms  p95 ms  p99 ms  outbox lag s  replies  CPU: machine, bots, fake, load")
            cores = os.cpu_count() or 1
            best = 0.0
            for rate in args.rates:
                step: list[Sent] = []
                tasks = []
                bots = [p.pid for p in procs[1:]]
                cpu0 = (
                    cpu_seconds(),
                    sum(cpu_seconds(b) for b in bots),
                    cpu_seconds(fake.pid),
                    cpu_seconds(os.getpid()),
                )
                t0 = time.monotonic()
                n = int(rate * args.seconds)
                for k in range(n):
                    due = t0 + k / rate
                    now = time.monotonic()
                    if due > now:
                        await asyncio.sleep(due - now)
                    chat, kind, body = city.next()
                    s = Sent(chat, kind, due)
                    step.append(s)
                    tasks.append(asyncio.create_task(tg.deliver(s, body)))
                    if k % max(1, rate) == 0:
                        harvest_claims(city, await calls(http, api), seen)
                await asyncio.wait(tasks, timeout=30)
                spent = time.monotonic() - t0
                cpu1 = (
                    cpu_seconds(),
                    sum(cpu_seconds(b) for b in bots),
                    cpu_seconds(fake.pid),
                    cpu_seconds(os.getpid()),
                )
                # Share of the machine's cores each used while the step ran (the rest: PostgreSQL, the system).
                shares = " ".join(f"{(b - a) / spent / cores:.0%}" for a, b in zip(cpu0, cpu1, strict=True))
                handled_in_time = sum(1 for s in step if s.acked and s.acked <= t0 + args.seconds + 1)
                lag = await scrape(http, ports)
                await asyncio.sleep(2.0)  # replies still in the outbox arrive
                by_chat = replies_by_chat(await calls(http, api), wall_to_mono)
                latencies = []
                for s in step:
                    if s.chat > 0 and s.acked:
                        after = [t for t, _ in by_chat.get(s.chat, []) if t >= s.at - 0.001]
                        if after:
                            latencies.append(min(after) - s.at)
                handled = handled_in_time / (args.seconds + 1)
                p50, p95, p99 = (percentile(latencies, q) * 1000 for q in (0.5, 0.95, 0.99))
                print(
                    f"{rate:9d}  {handled:9.1f}  {p50:6.0f}  {p95:6.0f}  {p99:6.0f}  {lag:12.1f}  {len(latencies):7d}"
                    f"  {shares}"
                )
                city.sent += step
                if p95 / 1000 <= args.p95_limit and handled >= 0.95 * rate * args.seconds / (args.seconds + 1):
                    best = max(best, handled)
                if p95 / 1000 > args.p95_limit:
                    break
            # Nothing lost, nothing out of order: every update acknowledged; every private update answered, and
            # each rider's report replies in their order (the draft asks for a place, the place completes it, …).
            await asyncio.sleep(3.0)
            by_chat = replies_by_chat(await calls(http, api), wall_to_mono)
            lost = [s for s in city.sent if not s.acked]
            unanswered = 0
            disorder = 0
            private = sorted((s for s in city.sent if s.chat > 0), key=lambda s: s.chat)
            for chat, mine in itertools.groupby(private, key=lambda s: s.chat):
                replies = [txt for _, txt in by_chat.get(chat, [])]
                unanswered += max(0, len(list(mine)) - len(replies))
                disorder += out_of_order(replies)
            print(
                f"sustained: {best:.1f} updates/s with p95 ≤ {args.p95_limit:.1f} s; updates lost: {len(lost)}; "
                f"private updates without a reply: {unanswered}; chats out of order: {disorder}"
            )
            if floor:
                print(f"ratio sustained/floor {best / floor:.3f}")
    finally:
        for p in reversed(procs):
            await stop_process(p)
    return 0


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--rates", type=lambda s: [int(x) for x in s.split(",")], default=[25, 50, 100, 200, 400])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--p95-limit", type=float, default=1.0, help="stop ramping past this p95 (seconds)")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
