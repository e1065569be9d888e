"""The residents' services of one unit of work, built on first use from its ports."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from domain.civic.board import CivicBoard
from domain.civic.homes import HomeService
from domain.civic.matters import MatterService
from domain.civic.places import PlaceBook
from domain.civic.ports import (
    Assessments,
    BodyScore,
    FileCase,
    Homes,
    Matters,
    OpenCases,
    Places,
    Scratch,
    Teams,
)
from domain.civic.property import PropertyDesk
from domain.civic.rating import RatingService
from domain.civic.rules import CivicRules
from domain.civic.teams import TeamService
from domain.kernel.events import EventBus
from domain.kernel.notices import Notices
from domain.kernel.people import PeopleService
from domain.kernel.time import Clock
from domain.org.service import OrgService


@dataclass
class CivicPorts:
    """What the residents' context stores."""

    places: Places
    homes: Homes
    matters: Matters
    assessments: Assessments
    scratch: Scratch
    teams: Teams


class Civic:
    """Places, homes and building heads, 议事, property companies and their assessment."""

    def __init__(
        self,
        ports: CivicPorts,
        org: OrgService,
        people: PeopleService,
        notices: Notices,
        events: EventBus,
        clock: Clock,
        rules: CivicRules,
        file_case: FileCase,
        body_score: BodyScore,
        open_cases: OpenCases | None = None,
    ) -> None:
        self.ports = ports
        self.org = org
        self.people = people
        self.notices = notices
        self.events = events
        self.clock = clock
        self.rules = rules
        self.file_case = file_case
        self.body_score = body_score
        self.open_cases = open_cases

    @cached_property
    def places(self) -> PlaceBook:
        """Compounds and buildings, and the scopes of votes."""
        return PlaceBook(self.ports.places, self.org)

    @cached_property
    def homes(self) -> HomeService:
        """Residents' homes and building heads."""
        service = HomeService(
            self.ports.homes, self.places, self.org, self.people, self.notices, self.events, self.clock
        )
        service.on_confirmed = lambda home: self.rating.ask_newcomer(home)
        return service

    @cached_property
    def matters(self) -> MatterService:
        """议事: matters put to the residents."""
        return MatterService(
            self.ports.matters, self.homes, self.places, self.org, self.notices, self.clock, self.rules, self.file_case
        )

    @cached_property
    def property(self) -> PropertyDesk:
        """Which property company serves the place of a case."""
        return PropertyDesk(self.places, self.ports.homes, self.rules, self.open_cases)

    @cached_property
    def rating(self) -> RatingService:
        """The quarterly residents' rating, spot checks, reviews, the 五位一体 ranking."""
        return RatingService(
            self.ports.assessments, self.ports.homes, self.places, self.org, self.ports.scratch, self.notices,
            self.clock, self.rules.plan, self.body_score,
        )  # fmt: skip

    @cached_property
    def board(self) -> CivicBoard:
        """What the desk shows: matters, buildings and heads, the property ranking."""
        return CivicBoard(self.org, self.people, self.homes, self.matters, self.rating)

    @cached_property
    def teams(self) -> TeamService:
        """4+N teams of buildings."""
        return TeamService(self.ports.teams, self.ports.homes, self.places, self.org, self.people, self.clock)
