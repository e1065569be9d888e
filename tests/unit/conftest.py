"""The unit layer's own fixtures: the rules on in-memory fakes — no database, no Telegram, no model.

A small district (street S; communities C1, C2; grids G1, G2 in C1 and G3 in C2; a department D1), its staff,
a rider, and a clock at Monday 2026-11-23 10:00 Beijing time. Every test here runs in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from domain.cases.model import Case
from domain.kernel.people import User
from domain.org.model import ChannelRef, Level, Unit
from tests.fakes.memory import World, world


@dataclass
class District:
    """The world and its people."""

    w: World
    rider: User
    worker: User  # grid G1
    colleague: User  # grid G1 too
    community: User  # C1
    street: User  # S
    dept: User  # the department D1

    async def report(self, text: str = "楼道堆了纸箱", unit: str = "G1", urgent: bool = False) -> Case:
        """A report filed by the rider in a grid."""
        svc = self.w.svc
        await svc.reports.start(self.rider)
        await svc.reports.add_text(self.rider, text, None)
        await svc.reports.choose_unit(self.rider, unit)
        if urgent:
            await svc.reports.set_urgent(self.rider, True)
        case, _ = await svc.reports.submit(self.rider)
        return case

    async def act(self, case: Case, action: str, who: User | None, value: str = "") -> Case:
        """Take an action at the case's current revision."""
        current = await self.w.svc.cases.get(case.id)
        return await self.w.svc.cases.act(case.id, action, current.rev, who, value)

    async def resolved(self, case: Case, note: str = "已处理") -> Case:
        """Claimed, on site and resolved by the worker."""
        case = await self.act(case, "claim", self.worker)
        case = await self.act(case, "onsite", self.worker)
        return await self.act(case, "resolve", self.worker, note)

    async def sweep(self, **delta: float) -> int:
        """Move the clock on and let the sweeper act; returns the actions it took."""
        self.w.later(**delta)
        return (await self.w.svc.sweeper.sweep())[1]

    def kinds(self) -> list[str]:
        """What was told, in order."""
        return self.w.told.kinds()


async def make_district() -> District:
    """A fresh district with bound groups."""
    w = world()
    w.units.rows["D1"] = Unit("D1", "城管执法队", Level.DEPARTMENT, "S")
    for code, chat in (("S", "-1"), ("C1", "-11"), ("G1", "-111"), ("G2", "-112"), ("D1", "-9")):
        await w.units.bind(code, ChannelRef("test", chat))
    return District(
        w,
        await w.person("rider"),
        await w.person("worker", staff_of="G1"),
        await w.person("colleague", staff_of="G1"),
        await w.person("comm", staff_of="C1"),
        await w.person("street", staff_of="S"),
        await w.person("dept", staff_of="D1"),
    )


@pytest.fixture
async def d() -> District:
    """A fresh district."""
    return await make_district()
