"""Compounds and buildings, homes and building heads, matters and their ballots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.civic.model import (
    Building,
    Check,
    Compound,
    FollowUp,
    Home,
    HomeState,
    Matter,
    MatterState,
    Per,
    RatingAnswer,
    RatingRound,
    ScopeLevel,
)
from storage.db import conflict_insert
from storage.orm import (
    BallotRow,
    BlockTeamBuildingRow,
    BlockTeamMemberRow,
    BlockTeamRow,
    BuildingHeadRow,
    BuildingRow,
    CheckRow,
    CompoundRow,
    FollowUpRow,
    HomeRow,
    MatterRow,
    RatingAnswerRow,
    RatingRoundRow,
)


class PlaceRepo:
    """Compounds and buildings of one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def compounds(self, grid_codes: list[str] | None = None) -> list[Compound]:
        """Compounds (of some grids), by code."""
        query = select(CompoundRow).order_by(CompoundRow.code)
        if grid_codes is not None:
            query = query.where(CompoundRow.grid_code.in_(grid_codes))
        rows = (await self.s.execute(query)).scalars()
        return [Compound(r.code, r.name, r.grid_code, r.property_code, r.geometry) for r in rows]

    async def compound(self, code: str) -> Compound | None:
        """One compound."""
        r = await self.s.get(CompoundRow, code)
        return Compound(r.code, r.name, r.grid_code, r.property_code, r.geometry) if r else None

    async def buildings(self, compound_codes: list[str]) -> list[Building]:
        """The buildings of some compounds, by code."""
        query = select(BuildingRow).where(BuildingRow.compound_code.in_(compound_codes)).order_by(BuildingRow.code)
        return [Building(r.code, r.name, r.compound_code, r.geometry) for r in (await self.s.execute(query)).scalars()]

    async def building(self, code: str) -> Building | None:
        """One building."""
        r = await self.s.get(BuildingRow, code)
        return Building(r.code, r.name, r.compound_code, r.geometry) if r else None

    async def upsert(self, compounds: list[Compound], buildings: list[Building]) -> tuple[int, int]:
        """Insert or update by code (homes keep pointing at their buildings); returns (created, updated)."""
        created = updated = 0
        for c in compounds:
            row = await self.s.get(CompoundRow, c.code)
            if row is None:
                self.s.add(CompoundRow(code=c.code, name=c.name, grid_code=c.grid_code, property_code=c.property_code,
                                       geometry=c.geometry))  # fmt: skip
                created += 1
            else:
                row.name, row.grid_code, row.property_code, row.geometry = (
                    c.name,
                    c.grid_code,
                    c.property_code,
                    c.geometry,
                )
                updated += 1
        await self.s.flush()
        for b in buildings:
            brow = await self.s.get(BuildingRow, b.code)
            if brow is None:
                self.s.add(BuildingRow(code=b.code, name=b.name, compound_code=b.compound_code, geometry=b.geometry))
                created += 1
            else:
                brow.name, brow.compound_code, brow.geometry = b.name, b.compound_code, b.geometry
                updated += 1
        await self.s.flush()
        return created, updated

    async def all_codes(self) -> dict[str, str]:
        """Every stored place code and its level (compound or building)."""
        out = {c: "compound" for c in (await self.s.execute(select(CompoundRow.code))).scalars()}
        out.update({c: "building" for c in (await self.s.execute(select(BuildingRow.code))).scalars()})
        return out


def _home(r: HomeRow) -> Home:
    return Home(r.id, r.user_id, r.building_code, r.entrance, r.room, HomeState(r.state), r.created_at, r.decided_by)


class HomeRepo:
    """Homes and building heads of one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, user_id: int, building: str, entrance: str, room: str, at: datetime) -> Home:
        """A pending home (a refused one at the same address is asked again)."""
        row = (
            await self.s.execute(
                select(HomeRow).where(
                    HomeRow.user_id == user_id,
                    HomeRow.building_code == building,
                    HomeRow.entrance == entrance,
                    HomeRow.room == room,
                )
            )
        ).scalar_one_or_none()
        if row is None:
            row = HomeRow(user_id=user_id, building_code=building, entrance=entrance, room=room,
                          state=HomeState.PENDING.value, created_at=at)  # fmt: skip
            self.s.add(row)
        else:
            row.state, row.created_at, row.decided_by, row.decided_at = HomeState.PENDING.value, at, None, None
        await self.s.flush()
        return _home(row)

    async def get(self, home_id: int) -> Home | None:
        """One home."""
        row = await self.s.get(HomeRow, home_id)
        return _home(row) if row else None

    async def of_user(self, user_id: int) -> list[Home]:
        """A person's homes, oldest first."""
        rows = (await self.s.execute(select(HomeRow).where(HomeRow.user_id == user_id).order_by(HomeRow.id))).scalars()
        return [_home(r) for r in rows]

    async def decide(self, home_id: int, state: HomeState, by: int, at: datetime) -> bool:
        """Pending → confirmed or refused, once (compare-and-set)."""
        result = await self.s.execute(
            update(HomeRow)
            .where(HomeRow.id == home_id, HomeRow.state == HomeState.PENDING.value)
            .values(state=state.value, decided_by=by, decided_at=at)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def pending(self, buildings: list[str], limit: int) -> list[Home]:
        """Pending homes of these buildings, oldest first."""
        query = (
            select(HomeRow)
            .where(HomeRow.building_code.in_(buildings), HomeRow.state == HomeState.PENDING.value)
            .order_by(HomeRow.id)
            .limit(limit)
        )
        return [_home(r) for r in (await self.s.execute(query)).scalars()]

    async def count_confirmed(self, buildings: list[str], households: bool) -> int:
        """Confirmed people (distinct persons) or households (distinct flats) in these buildings."""
        confirmed = (HomeRow.building_code.in_(buildings), HomeRow.state == HomeState.CONFIRMED.value)
        if households:
            flats = select(HomeRow.building_code, HomeRow.entrance, HomeRow.room).where(*confirmed).distinct()
            query = select(func.count()).select_from(flats.subquery())
        else:
            query = select(func.count(func.distinct(HomeRow.user_id))).where(*confirmed)
        return int((await self.s.execute(query)).scalar_one())

    async def set_head(self, building: str, user_id: int, by: int, at: datetime) -> bool:
        """Name a head (False if they already are one)."""
        insert = conflict_insert(self.s)
        result = await self.s.execute(
            insert(BuildingHeadRow)
            .values(building_code=building, user_id=user_id, named_by=by, created_at=at)
            .on_conflict_do_nothing(index_elements=["building_code", "user_id"])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def drop_head(self, building: str, user_id: int) -> bool:
        """Take the role back."""
        result = await self.s.execute(
            delete(BuildingHeadRow).where(BuildingHeadRow.building_code == building, BuildingHeadRow.user_id == user_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def residents(self, buildings: list[str]) -> list[int]:
        """The people with a confirmed home in these buildings."""
        if not buildings:
            return []
        query = (
            select(HomeRow.user_id)
            .where(HomeRow.building_code.in_(buildings), HomeRow.state == HomeState.CONFIRMED.value)
            .distinct()
        )
        return sorted((await self.s.execute(query)).scalars())

    async def tally(self, buildings: list[str]) -> dict[str, dict[str, int]]:
        """Homes per building and state."""
        query = (
            select(HomeRow.building_code, HomeRow.state, func.count())
            .where(HomeRow.building_code.in_(buildings))
            .group_by(HomeRow.building_code, HomeRow.state)
        )
        out: dict[str, dict[str, int]] = {}
        for building, state, n in (await self.s.execute(query)).all():
            out.setdefault(building, {})[state] = int(n)
        return out

    async def heads(self, building: str) -> list[int]:
        """The heads of a building."""
        query = select(BuildingHeadRow.user_id).where(BuildingHeadRow.building_code == building)
        return sorted((await self.s.execute(query)).scalars())

    async def all_heads(self) -> list[tuple[str, int, datetime]]:
        """(building, head, since) of every building head."""
        rows = await self.s.execute(select(BuildingHeadRow))
        return [(r.building_code, r.user_id, r.created_at) for r in rows.scalars()]

    async def headed_by(self, user_id: int) -> list[str]:
        """The buildings a person heads."""
        query = select(BuildingHeadRow.building_code).where(BuildingHeadRow.user_id == user_id)
        return sorted((await self.s.execute(query)).scalars())


def _matter(r: MatterRow) -> Matter:
    return Matter(
        r.id, r.title, r.body, r.unit_code, MatterState(r.state), r.created_at, list(r.options),
        ScopeLevel(r.scope_level), r.scope_code, Per(r.per), r.quorum_pct, r.opens_at, r.closes_at, r.proposer_id,
        r.opened_by, r.answer, dict(r.counts or {}), r.eligible, r.decision, r.decided_by,
    )  # fmt: skip


def _follow_up(r: FollowUpRow) -> FollowUp:
    return FollowUp(r.matter_id, r.index, r.text, r.case_id, r.case_number)


class MatterRepo:
    """Matters, ballots and follow-ups of one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, matter: Matter) -> Matter:
        """Insert; the matter comes back with its id."""
        row = MatterRow(
            title=matter.title, body=matter.body, unit_code=matter.unit_code, state=matter.state.value,
            options=list(matter.options), scope_level=matter.scope_level.value, scope_code=matter.scope_code,
            per=matter.per.value, quorum_pct=matter.quorum_pct, created_at=matter.created_at, opens_at=matter.opens_at,
            closes_at=matter.closes_at, proposer_id=matter.proposer_id, opened_by=matter.opened_by,
            answer=matter.answer, counts={}, eligible=0, decision="",
        )  # fmt: skip
        self.s.add(row)
        await self.s.flush()
        matter.id = row.id
        return matter

    async def get(self, matter_id: int, lock: bool = False, share: bool = False) -> Matter | None:
        """One matter; `lock` holds it against votes (closing), `share` against a close (voting). On SQLite the
        transaction already holds the database's write lock, so neither is needed there."""
        query = select(MatterRow).where(MatterRow.id == matter_id).execution_options(populate_existing=True)
        if lock or share:
            query = query.with_for_update(read=not lock)
        row = (await self.s.execute(query)).scalar_one_or_none()
        return _matter(row) if row else None

    async def move(self, matter_id: int, source: MatterState, **values: object) -> bool:
        """Change a matter that is still in `source` (compare-and-set)."""
        values = {k: (v.value if isinstance(v, MatterState) else v) for k, v in values.items()}
        result = await self.s.execute(
            update(MatterRow)
            .where(MatterRow.id == matter_id, MatterRow.state == source.value)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def due(self, now: datetime, limit: int) -> list[Matter]:
        """Open matters whose window has ended."""
        query = (
            select(MatterRow)
            .where(MatterRow.state == MatterState.OPEN.value, MatterRow.closes_at <= now)
            .order_by(MatterRow.closes_at)
            .limit(limit)
        )
        return [_matter(r) for r in (await self.s.execute(query)).scalars()]

    async def open_in(self, unit_codes: list[str], now: datetime) -> list[Matter]:
        """Open matters run by these units, soonest to close first."""
        query = (
            select(MatterRow)
            .where(
                MatterRow.state == MatterState.OPEN.value,
                MatterRow.unit_code.in_(unit_codes),
                MatterRow.closes_at > now,
            )
            .order_by(MatterRow.closes_at)
            .limit(20)
        )
        return [_matter(r) for r in (await self.s.execute(query)).scalars()]

    async def recent(self, unit_codes: list[str], limit: int) -> list[Matter]:
        """The newest matters of these units."""
        query = select(MatterRow).where(MatterRow.unit_code.in_(unit_codes)).order_by(MatterRow.id.desc()).limit(limit)
        return [_matter(r) for r in (await self.s.execute(query)).scalars()]

    async def cast(self, matter_id: int, voter_key: str, option: int, at: datetime, by: int) -> bool:
        """One statement: the voter's ballot is written or replaced; True if it replaced one."""
        insert = conflict_insert(self.s)
        stmt = insert(BallotRow).values(
            matter_id=matter_id, voter_key=voter_key, option=option, cast_by=by, cast_at=at, changes=0
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["matter_id", "voter_key"],
            set_={"option": option, "cast_by": by, "cast_at": at, "changes": BallotRow.changes + 1},
        ).returning(BallotRow.changes)
        return bool((await self.s.execute(stmt)).scalar_one())

    async def ballot(self, matter_id: int, voter_key: str) -> int | None:
        """The voter's current choice."""
        query = select(BallotRow.option).where(BallotRow.matter_id == matter_id, BallotRow.voter_key == voter_key)
        return (await self.s.execute(query)).scalar_one_or_none()

    async def counts(self, matter_id: int) -> dict[int, int]:
        """Ballots per option."""
        query = (
            select(BallotRow.option, func.count()).where(BallotRow.matter_id == matter_id).group_by(BallotRow.option)
        )
        return {int(o): int(n) for o, n in (await self.s.execute(query)).all()}

    async def voters(self, matter_id: int) -> list[int]:
        """Who cast the ballots (to tell them the outcome; never with their choice)."""
        query = select(BallotRow.cast_by).where(BallotRow.matter_id == matter_id).distinct()
        return sorted(int(v) for v in (await self.s.execute(query)).scalars())

    async def add_follow_up(self, follow_up: FollowUp) -> None:
        """Record a follow-up action and its case."""
        self.s.add(FollowUpRow(matter_id=follow_up.matter_id, index=follow_up.index, text=follow_up.text,
                               case_id=follow_up.case_id, case_number=follow_up.case_number))  # fmt: skip
        await self.s.flush()

    async def follow_ups(self, matter_id: int) -> list[FollowUp]:
        """A matter's follow-ups in order."""
        query = select(FollowUpRow).where(FollowUpRow.matter_id == matter_id).order_by(FollowUpRow.index)
        rows = (await self.s.execute(query)).scalars()
        return [_follow_up(r) for r in rows]

    async def follow_up_of_case(self, case_id: int) -> FollowUp | None:
        """The follow-up a case was filed for, if any."""
        r = (await self.s.execute(select(FollowUpRow).where(FollowUpRow.case_id == case_id))).scalars().first()
        return _follow_up(r) if r else None


def _round(r: RatingRoundRow) -> RatingRound:
    return RatingRound(r.id, r.quarter, r.compound_code, r.company_code, r.opens_at, r.closes_at, r.state)


class AssessmentRepo:
    """Rating rounds, answers and checks of one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add_round(self, r: RatingRound) -> int | None:
        """A round, once per quarter and compound (None if it exists)."""
        insert = conflict_insert(self.s)
        result = await self.s.execute(
            insert(RatingRoundRow)
            .values(
                quarter=r.quarter,
                compound_code=r.compound_code,
                company_code=r.company_code,
                opens_at=r.opens_at,
                closes_at=r.closes_at,
                state="open",
            )
            .on_conflict_do_nothing(index_elements=["quarter", "compound_code"])
            .returning(RatingRoundRow.id)
        )
        found = result.scalar_one_or_none()
        return int(found) if found is not None else None

    async def round(self, round_id: int) -> RatingRound | None:
        """One round."""
        row = await self.s.get(RatingRoundRow, round_id, populate_existing=True)
        return _round(row) if row else None

    async def rounds(self, quarter: str) -> list[RatingRound]:
        """A quarter's rounds."""
        query = select(RatingRoundRow).where(RatingRoundRow.quarter == quarter).order_by(RatingRoundRow.id)
        return [_round(r) for r in (await self.s.execute(query)).scalars()]

    async def due_rounds(self, now: datetime) -> list[RatingRound]:
        """Open rounds whose window has ended."""
        query = select(RatingRoundRow).where(RatingRoundRow.state == "open", RatingRoundRow.closes_at <= now)
        return [_round(r) for r in (await self.s.execute(query)).scalars()]

    async def close_round(self, round_id: int) -> bool:
        """Open → closed, once."""
        result = await self.s.execute(
            update(RatingRoundRow)
            .where(RatingRoundRow.id == round_id, RatingRoundRow.state == "open")
            .values(state="closed")
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def answer(self, a: RatingAnswer) -> bool:
        """Keep an answer, once per person and round."""
        insert = conflict_insert(self.s)
        result = await self.s.execute(
            insert(RatingAnswerRow)
            .values(round_id=a.round_id, user_id=a.user_id, scores=a.scores, comment=a.comment, at=a.at)
            .on_conflict_do_nothing(index_elements=["round_id", "user_id"])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def answered(self, round_id: int, user_id: int) -> bool:
        """Whether this person answered."""
        return await self.s.get(RatingAnswerRow, (round_id, user_id)) is not None

    async def answers(self, round_ids: list[int]) -> list[RatingAnswer]:
        """The answers of these rounds."""
        if not round_ids:
            return []
        query = select(RatingAnswerRow).where(RatingAnswerRow.round_id.in_(round_ids))
        rows = (await self.s.execute(query)).scalars()
        return [RatingAnswer(r.round_id, r.user_id, dict(r.scores), r.comment, r.at) for r in rows]

    async def add_check(self, check: Check) -> None:
        """Record a spot check or review."""
        self.s.add(CheckRow(company_code=check.company_code, kind=check.kind, period=check.period, score=check.score,
                            note=check.note, by=check.by, at=check.at))  # fmt: skip
        await self.s.flush()

    async def checks(self, company_code: str, periods: list[str]) -> list[Check]:
        """A company's checks and reviews of these periods, oldest first."""
        query = (
            select(CheckRow)
            .where(CheckRow.company_code == company_code, CheckRow.period.in_(periods))
            .order_by(CheckRow.id)
        )
        rows = (await self.s.execute(query)).scalars()
        return [Check(r.company_code, r.kind, r.period, r.score, r.note, r.by, r.at) for r in rows]


class TeamRepo:
    """4+N teams of one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, grid: str, buildings: list[str], by: int, at: datetime) -> int:
        """A team and its buildings."""
        row = BlockTeamRow(grid_code=grid, created_by=by, created_at=at)
        self.s.add(row)
        await self.s.flush()
        self.s.add_all([BlockTeamBuildingRow(building_code=b, team_id=row.id) for b in buildings])
        await self.s.flush()
        return int(row.id)

    async def get(self, team_id: int) -> tuple[str, list[str]] | None:
        """A team's grid and buildings."""
        row = await self.s.get(BlockTeamRow, team_id)
        if row is None:
            return None
        query = select(BlockTeamBuildingRow.building_code).where(BlockTeamBuildingRow.team_id == team_id)
        return row.grid_code, sorted((await self.s.execute(query)).scalars())

    async def of_buildings(self, buildings: list[str]) -> list[int]:
        """Teams already serving any of these buildings."""
        query = select(BlockTeamBuildingRow.team_id).where(BlockTeamBuildingRow.building_code.in_(buildings))
        return sorted(set((await self.s.execute(query)).scalars()))

    async def of_grids(self, grids: list[str]) -> list[int]:
        """Teams of these grids."""
        query = select(BlockTeamRow.id).where(BlockTeamRow.grid_code.in_(grids)).order_by(BlockTeamRow.id)
        return list((await self.s.execute(query)).scalars())

    async def add_member(self, team_id: int, user_id: int, role: str) -> bool:
        """A member (False if already on the team)."""
        insert = conflict_insert(self.s)
        result = await self.s.execute(
            insert(BlockTeamMemberRow)
            .values(team_id=team_id, user_id=user_id, role=role)
            .on_conflict_do_nothing(index_elements=["team_id", "user_id"])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def remove_member(self, team_id: int, user_id: int) -> bool:
        """Off the team."""
        result = await self.s.execute(
            delete(BlockTeamMemberRow).where(
                BlockTeamMemberRow.team_id == team_id, BlockTeamMemberRow.user_id == user_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def members(self, team_id: int) -> list[tuple[int, str]]:
        """(user id, role) of a team."""
        query = select(BlockTeamMemberRow.user_id, BlockTeamMemberRow.role).where(BlockTeamMemberRow.team_id == team_id)
        return [(int(u), str(r)) for u, r in (await self.s.execute(query)).all()]
