"""The quarterly residents' rating of property companies (季度测评), spot checks and reviews, and the ranking.

Each quarter, on the plan's day, every compound served by a company gets a round: its confirmed residents are
asked once, privately, to score the plan's items 1–5 and add a comment; one answer per person; the round closes
after the window and its result goes to the community's group. Spot checks and yearly reviews are recorded by
staff (the console). The ranking combines the parts (`assessment.combine`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from domain.civic.assessment import (
    Plan,
    Standing,
    combine,
    quarter_bounds,
    quarter_months,
    quarter_of,
    rank,
    rating_window,
)
from domain.civic.model import Check, Compound, Home, RatingAnswer, RatingRound
from domain.civic.places import PlaceBook
from domain.civic.ports import Assessments, BodyScore, Homes, Scratch
from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.notices import Action, Audience, Notice, Notices
from domain.kernel.people import User
from domain.kernel.privacy import mask_personal_numbers
from domain.kernel.time import Clock
from domain.org.model import Level
from domain.org.service import OrgService

SCRATCH = "rating"
COMMENT_MAX = 300
NOTE_MAX = 500


@dataclass(frozen=True)
class RoundResult:
    """A round's answers: how many, the mean of each item (1–5), the score (0–100) and the comments."""

    round: RatingRound
    respondents: int
    means: dict[str, float]
    score: float | None
    comments: list[str]


class RatingService:
    """Rounds, answers, checks and the ranking."""

    def __init__(
        self,
        store: Assessments,
        homes: Homes,
        book: PlaceBook,
        org: OrgService,
        scratch: Scratch,
        notices: Notices,
        clock: Clock,
        plan: Plan,
        body_score: BodyScore,
    ) -> None:
        self.store = store
        self.homes = homes
        self.book = book
        self.org = org
        self.scratch = scratch
        self.notices = notices
        self.clock = clock
        self.plan = plan
        self.body_score = body_score

    async def _served(self) -> list[Compound]:
        out = []
        for c in await self.book.places.compounds():
            if c.property_code and await self.org.find(c.property_code) is not None:
                out.append(c)
        return out

    async def open_due(self) -> int:
        """Open this quarter's rounds once their day has come, and ask each compound's residents (once)."""
        now = self.clock()
        quarter = quarter_of(now)
        opens, closes = rating_window(quarter, self.plan)
        if not opens <= now < closes:
            return 0
        opened = 0
        for c in await self._served():
            assert c.property_code is not None
            residents = await self.homes.residents([b.code for b in await self.book.buildings_of(c.code)])
            if not residents:
                continue  # nobody to ask (yet): no round, no empty result
            new = RatingRound(0, quarter, c.code, c.property_code, opens, closes)
            rid = await self.store.add_round(new)
            if rid is None:
                continue
            opened += 1
            await self._ask(residents, dataclasses.replace(new, id=rid), c)
        return opened

    async def _ask(self, users: list[int], r: RatingRound, compound: Compound) -> None:
        params = {"quarter": r.quarter, "compound": compound.name,
                  "company": (await self.org.get(r.company_code)).name, "closes": r.closes_at}  # fmt: skip
        for uid in users:
            await self.notices.emit(Notice("rating.ask", Audience.person(uid), params, (Action("rating.start", r.id),)))

    async def ask_newcomer(self, home: Home) -> None:
        """A home confirmed while its compound's rating is open: its resident is asked too."""
        building = await self.book.building(home.building_code)
        now = self.clock()
        for r in await self.store.rounds(quarter_of(now)):
            if r.compound_code != building.compound_code or r.state != "open" or now >= r.closes_at:
                continue
            if await self.store.answered(r.id, home.user_id):
                continue
            await self._ask([home.user_id], r, await self.book.compound(r.compound_code))

    async def result(self, r: RatingRound) -> RoundResult:
        """A round's figures so far."""
        answers = await self.store.answers([r.id])
        means = {
            i.key: sum(a.scores.get(i.key, 0) for a in answers) / len(answers) for i in self.plan.items
        } if answers else {}  # fmt: skip
        score = 20 * sum(means.values()) / len(means) if means else None
        return RoundResult(r, len(answers), means, score, [a.comment for a in answers if a.comment])

    async def close_due(self) -> int:
        """Close rounds whose window ended; each community's group gets its compounds' results."""
        n = 0
        for r in await self.store.due_rounds(self.clock()):
            if not await self.store.close_round(r.id):
                continue
            n += 1
            res = await self.result(r)
            compound = await self.book.compound(r.compound_code)
            community = await self.org.community_of(compound.grid_code) or compound.grid_code
            params = {"quarter": r.quarter, "compound": compound.name,
                      "company": (await self.org.get(r.company_code)).name, "respondents": res.respondents,
                      "score": res.score, "means": [(k, v) for k, v in res.means.items()]}  # fmt: skip
            await self.notices.emit(Notice("rating.closed", Audience.unit(community), params))
        return n

    async def _open_round(self, user: User, round_id: int) -> RatingRound:
        r = await self.store.round(round_id)
        if r is None:
            raise NotFound("rating_missing")
        if r.state != "open" or self.clock() >= r.closes_at:
            raise Conflict("rating_closed")
        buildings = [b.code for b in await self.book.buildings_of(r.compound_code)]
        if user.id not in await self.homes.residents(buildings):
            raise Forbidden("rating_not_eligible")
        if await self.store.answered(r.id, user.id):
            raise Conflict("rating_done")
        return r

    async def start(self, user: User, round_id: int) -> int:
        """Begin (or go on with) an answer; the index of the first item still unscored."""
        await self._open_round(user, round_id)
        data = await self.scratch.get(user.id, SCRATCH)
        if data is None or data.get("r") != round_id:
            data = {"r": round_id, "s": {}}
            await self.scratch.save(user.id, SCRATCH, data)
        return self._next(data)

    def _next(self, data: dict[str, object]) -> int:
        scores = data.get("s") or {}
        assert isinstance(scores, dict)
        return next((i for i, item in enumerate(self.plan.items) if item.key not in scores), len(self.plan.items))

    async def score(self, user: User, round_id: int, index: int, value: int) -> int:
        """One item scored (a later tap on the same item replaces it); the next item's index (len: all done)."""
        await self._open_round(user, round_id)
        if not 0 <= index < len(self.plan.items) or not 1 <= value <= 5:
            raise Invalid("stale_button")
        data = await self.scratch.get(user.id, SCRATCH)
        if data is None or data.get("r") != round_id:
            data = {"r": round_id, "s": {}}
        data["s"] = {**data["s"], self.plan.items[index].key: value}
        await self.scratch.save(user.id, SCRATCH, data)
        return self._next(data)

    async def finish(self, user: User, round_id: int, comment: str = "") -> RatingRound:
        """The answer is kept (once); the comment is masked (numbers) and bounded."""
        r = await self._open_round(user, round_id)
        data = await self.scratch.get(user.id, SCRATCH)
        comment = comment.strip()
        if len(comment) > COMMENT_MAX:
            raise Invalid("text_too_long", max=COMMENT_MAX)
        if data is None or data.get("r") != round_id or self._next(data) < len(self.plan.items):
            raise Invalid("rating_incomplete")
        scores = {k: int(v) for k, v in dict(data["s"]).items()}
        if not await self.store.answer(RatingAnswer(r.id, user.id, scores, mask_personal_numbers(comment),
                                                    self.clock())):  # fmt: skip
            raise Conflict("rating_done")
        await self.scratch.delete(user.id, SCRATCH)
        return r

    async def record(self, actor: User, company: str, kind: str, period: str, score: float, note: str) -> Check:
        """A spot check (street staff: the housing department's) or a yearly review (the community's staff)."""
        unit = await self.org.find(company)
        serves = [c for c in await self._served() if c.property_code == company]
        if unit is None or not serves:
            raise NotFound("unknown_company")
        if kind not in ("spot", "review") or not 0 <= score <= 100 or len(note) > NOTE_MAX:
            raise Invalid("check_invalid")
        if not _period_ok(kind, period):
            raise Invalid("check_invalid")
        allowed = await self.org.may_handle(actor, unit.parent_code or company)
        if kind == "review" and not allowed:
            for c in serves:
                community = await self.org.community_of(c.grid_code)
                allowed = allowed or (community is not None and await self.org.may_handle(actor, community))
        if not allowed:
            raise Forbidden("check_forbidden")
        check = Check(company, kind, period, round(float(score), 1), note.strip(), actor.id, self.clock())
        await self.store.add_check(check)
        return check

    async def ranking(self, quarter: str | None = None) -> tuple[str, list[Standing]]:
        """The quarter's 五位一体 ranking of every company serving a compound."""
        quarter = quarter or quarter_of(self.clock())
        since, until = quarter_bounds(quarter)
        rounds = await self.store.rounds(quarter)
        companies: dict[str, list[str]] = {}
        for c in await self._served():
            companies.setdefault(c.property_code or "", []).append(c.code)
        rows = []
        for code in sorted(companies):
            parts: dict[str, float] = {}
            answers = await self.store.answers([r.id for r in rounds if r.company_code == code])
            if answers:
                parts["residents"] = sum(20 * sum(a.scores.values()) / len(a.scores) for a in answers) / len(answers)
            spots = await self.store.checks(code, quarter_months(quarter))
            spots = [c for c in spots if c.kind == "spot"]
            if spots:
                parts["spot_checks"] = sum(c.score for c in spots) / len(spots)
            reviews = [c for c in await self.store.checks(code, [quarter[:4]]) if c.kind == "review"]
            if reviews:
                parts["review"] = max(reviews, key=lambda c: c.at).score
            cases = await self.body_score(code, since, until)
            if cases is not None:
                parts["cases"] = cases
            total = combine(parts, self.plan.weights)
            rows.append(Standing(code, (await self.org.get(code)).name, parts, len(answers), total))
        return quarter, rank(rows, self.plan.flag_below)

    async def communities_served(self, company: str) -> list[str]:
        """The communities whose compounds a company serves."""
        out = []
        for c in await self._served():
            if c.property_code == company:
                community = await self.org.community_of(c.grid_code)
                if community and community not in out:
                    out.append(community)
        return out

    async def companies(self) -> list[tuple[str, str]]:
        """(code, name) of every company serving a compound."""
        codes = sorted({c.property_code for c in await self._served() if c.property_code})
        return [(code, (await self.org.get(code)).name) for code in codes]

    async def level_ok(self, code: str) -> bool:
        """Whether a unit may see the ranking (a community or street)."""
        unit = await self.org.find(code)
        return unit is not None and unit.level in (Level.COMMUNITY, Level.STREET)


def _period_ok(kind: str, period: str) -> bool:
    if kind == "review":
        return len(period) == 4 and period.isdigit()
    return len(period) == 7 and period[:4].isdigit() and period[4] == "-" and period[5:].isdigit() and \
        1 <= int(period[5:]) <= 12  # fmt: skip
