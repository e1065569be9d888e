"""All repositories of one session: the domain's ports, and the delivery side's outbox and posts."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from domain.services import Ports
from storage.cases import CallRepo, CaseRepo, DeadlineRepo, DraftRepo, ExampleRepo, FollowerRepo, OfferRepo
from storage.civic import AssessmentRepo, HomeRepo, MatterRepo, PlaceRepo, TeamRepo
from storage.db import Clock
from storage.delivery import OutboxRepo, PostRepo
from storage.ledgers import LedgerReadRepo
from storage.org import LoginRepo, StaffRepo, UnitRepo
from storage.outreach import BroadcastRepo, DayRecordRepo
from storage.people import AwaitingRepo, MarkerRepo, UserRepo
from storage.points import LedgerRepo, ShopRepo
from storage.reporting import ApiKeyRepo, RequestRepo
from storage.stats import SnapshotRepo
from storage.volunteering import ActivityRepo, FormRepo, OrderRepo, VolunteerRepo


class SqlUnitOfWork:
    """Repositories on one session; they never commit (the caller's transaction does)."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.outbox = OutboxRepo(session, clock)
        self.posts = PostRepo(session)
        self.ports = Ports(
            people=UserRepo(session, clock),
            units=UnitRepo(session),
            staff=StaffRepo(session, clock),
            cases=CaseRepo(session, clock),
            drafts=DraftRepo(session, clock),
            examples=ExampleRepo(session, clock),
            offers=OfferRepo(session),
            awaitings=AwaitingRepo(session),
            markers=MarkerRepo(session),
            ledger=LedgerRepo(session, clock),
            shop=ShopRepo(session),
            activities=ActivityRepo(session),
            volunteers=VolunteerRepo(session, clock),
            orders=OrderRepo(session),
            forms=FormRepo(session, clock),
            deadlines=DeadlineRepo(session),
            followers=FollowerRepo(session),
            calls=CallRepo(session),
            day_records=DayRecordRepo(session, clock),
            broadcasts=BroadcastRepo(session),
            ledger_reads=LedgerReadRepo(session),
            requests=RequestRepo(session),
            api_keys=ApiKeyRepo(session),
            logins=LoginRepo(session),
            snapshots=SnapshotRepo(session),
            places=PlaceRepo(session),
            homes=HomeRepo(session),
            matters=MatterRepo(session),
            assessments=AssessmentRepo(session),
            block_teams=TeamRepo(session),
        )
