"""A called body's own figures (a department, a property company): how it answered the cases it was called to.

- **响应** (on time): its report-in met its clock ÷ calls;
- **办结** (done): its part marked done ÷ calls;
- **满意** (satisfied): the cases' final ratings 满意 + 基本满意 ÷ rated cases (unrated ones left out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.cases.ports import Calls, Cases, Deadlines


@dataclass(frozen=True)
class BodyFigures:
    """A body's calls in a period and how they went."""

    calls: int = 0
    on_time: int = 0
    done: int = 0
    rated: int = 0
    satisfied: int = 0

    def rates(self) -> list[float]:
        """The rates that are defined (none without calls; satisfaction only with ratings)."""
        if not self.calls:
            return []
        out = [self.on_time / self.calls, self.done / self.calls]
        return out + ([self.satisfied / self.rated] if self.rated else [])

    @property
    def score(self) -> float | None:
        """Their mean, 0–100 (None without calls)."""
        rates = self.rates()
        return 100 * sum(rates) / len(rates) if rates else None


async def body_figures(
    calls: Calls, deadlines: Deadlines, cases: Cases, code: str, since: datetime, until: datetime
) -> BodyFigures:
    """The figures of the body `code` for calls made in [since, until)."""
    mine = await calls.of_department(code, since, until)
    if not mine:
        return BodyFigures()
    ids = [c.case_id for c in mine]
    clocks = [d for d in await deadlines.of_cases(ids) if d.kind == "report_in" and d.ref == code]
    on_time = {d.case_id for d in clocks if d.state == "met"}
    rated = satisfied = 0
    for case_id in ids:
        case = await cases.get(case_id)
        if case is not None and case.rating is not None:
            rated += 1
            satisfied += case.rating.value in ("satisfied", "basic")
    done = sum(c.state == "done" for c in mine)
    return BodyFigures(len(mine), len(on_time), done, rated, satisfied)
