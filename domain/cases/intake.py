"""Intake: a private draft (photo, text and place in any order) becomes a case once it has a description and a place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from domain.cases.model import (
    CATEGORIES,
    INTENTS,
    MAX_TEXT,
    Case,
    CaseEvent,
    CaseState,
    Classification,
    Draft,
    LabelledExample,
)
from domain.cases.ports import Cases, Drafts, Examples
from domain.cases.service import CaseService
from domain.cases.sla import Levels
from domain.cases.urgency import danger_in, suggests_urgent
from domain.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from domain.kernel.events import CaseOpened, EventBus, MatterToFile
from domain.kernel.media import stored_key
from domain.kernel.people import Role, User
from domain.kernel.time import Clock, day_code
from domain.org.geo import Location, valid_coordinates
from domain.org.model import Level, Unit
from domain.org.service import OrgService

ADDRESS_MAX = 200
ON_BEHALF_MAX = 40


class ReportService:
    """A private-chat draft that becomes a case once it has a description and a place."""

    def __init__(
        self,
        drafts: Drafts,
        examples: Examples,
        cases: Cases,
        case_service: CaseService,
        org: OrgService,
        clock: Clock,
        events: EventBus | None = None,
        may_report_for: Callable[[User], Awaitable[bool]] | None = None,
    ) -> None:
        self.drafts = drafts
        self.examples = examples
        self.cases = cases
        self.case_service = case_service
        self.org = org
        self.clock = clock
        self.events = events or EventBus()
        # Who may report for a resident (代报): the residents' context knows the building heads.
        self.may_report_for = may_report_for

    async def draft(self, user: User) -> Draft | None:
        """The user's open draft."""
        return await self.drafts.get(user.id)

    async def _draft(self, user: User) -> Draft:
        return await self.drafts.get(user.id) or Draft(user_id=user.id)

    def _apply_classification(self, draft: Draft, cls: Classification | None) -> None:
        if cls is None:
            return
        draft.model_version = cls.model_version
        if cls.place_hint:
            draft.place_hint = cls.place_hint
        if draft.urgent is None and draft.text and suggests_urgent(draft.text, cls):
            draft.urgent = True
        if cls.category in CATEGORIES and draft.confidence != 1.0:
            draft.category = cls.category
            draft.confidence = cls.category_confidence
            # Unsure: the reporter picks from the top three instead of us guessing.
            draft.candidates = None if cls.category_sure else [c for c, _ in cls.category_ranking[:3]]

    async def start(self, user: User) -> Draft:
        """Open (or keep) a draft."""
        draft = await self._draft(user)
        await self.drafts.save(draft)
        return draft

    async def for_resident(self, user: User, who: str) -> Draft:
        """代报: the next report is filed for a resident (a name and flat, staff see it); building heads only."""
        who = " ".join(who.split())
        if not who:
            raise Invalid("for_usage")
        if len(who) > ON_BEHALF_MAX:
            raise Invalid("text_too_long", max=ON_BEHALF_MAX)
        if self.may_report_for is None or not await self.may_report_for(user):
            raise Forbidden("for_heads_only")
        draft = await self._draft(user)
        draft.on_behalf = who
        await self.drafts.save(draft)
        return draft

    def emergency(self, text: str, cls: Classification | None = None) -> list[tuple[str, str]]:
        """Whom to call first if the text describes danger to life now (empty: no such danger)."""
        return self.case_service.steps.rules.emergency.advice(danger_in(text, cls))

    def promise(self, draft: Draft) -> Levels:
        """The clocks an urgent report of this draft's category runs on (what the reporter is promised)."""
        return self.case_service.clocks.policy.levels(draft.category or "other", True)

    def screen(self, text: str) -> None:
        """Refuse a message too long to keep, whatever it turns out to say (before it is classified)."""
        if len(text.strip()) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)

    async def add_text(self, user: User, text: str, cls: Classification | None) -> Draft:
        """Add a description; a second text extends the first."""
        text = text.strip()
        if not text:
            raise Invalid("empty_text")
        draft = await self._draft(user)
        combined = f"{draft.text}\n{text}" if draft.text else text
        if len(combined) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)
        draft.text = combined
        self._apply_classification(draft, cls)
        if cls is None and draft.urgent is None and suggests_urgent(combined):
            draft.urgent = True
        await self.drafts.save(draft)
        return draft

    async def add_photo(
        self, user: User, file_id: str, caption: str | None, cls: Classification | None, unique_id: str | None = None
    ) -> Draft:
        """Attach a photo (the latest one wins) and its caption."""
        draft = await self._draft(user)
        draft.photo_file_id, draft.photo_unique_id = file_id, unique_id
        await self.drafts.save(draft)
        if caption and caption.strip():
            return await self.add_text(user, caption, cls)
        return draft

    async def add_location(self, user: User, lat: float, lon: float, address: str | None) -> tuple[Draft, Location]:
        """Fix the place by coordinates; a place outside the district is refused and not stored."""
        if not valid_coordinates(lat, lon):
            raise Invalid("bad_coordinates")
        where = (await self.org.geo.index(self.org.units)).locate(lat, lon)
        if where is None:
            raise Invalid("outside_area")
        draft = await self._draft(user)
        draft.lat, draft.lon, draft.unit_code = lat, lon, where.unit_code
        draft.address = address.strip()[:ADDRESS_MAX] if address and address.strip() else None
        await self.drafts.save(draft)
        return draft, where

    async def choose_unit(self, user: User, code: str) -> Draft:
        """Fix the place by picking a grid (or community) from buttons."""
        unit = await self.org.units.get(code)
        if unit is None or unit.level is Level.STREET:
            raise Invalid("unknown_unit", code=code[:40])
        draft = await self._draft(user)
        draft.unit_code = unit.code
        draft.lat = draft.lon = None
        await self.drafts.save(draft)
        return draft

    async def choose_category(self, user: User, category: str) -> Draft:
        """The reporter (or a photo-only report) picks the category."""
        if category not in CATEGORIES:
            raise Invalid("unknown_category")
        draft = await self.drafts.get(user.id)
        if draft is None:
            raise NotFound("no_draft")
        if draft.text:
            await self.examples.add(
                LabelledExample(
                    text=draft.text,
                    source="clarification" if draft.candidates else "reporter",
                    intent="report_issue",
                    category=category,
                    user_id=user.id,
                    model_version=draft.model_version,
                    predicted_intent="report_issue",
                    predicted_category=draft.category,
                )
            )
        draft.category = category
        draft.confidence = 1.0
        draft.candidates = None
        await self.drafts.save(draft)
        return draft

    async def ask_intent(self, user: User, text: str, cls: Classification) -> int:
        """Keep an unsure message as a question to the sender; returns its id for the answer buttons."""
        if len(text) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)
        return await self.examples.add(
            LabelledExample(
                text=text,
                source="clarification",
                user_id=user.id,
                model_version=cls.model_version,
                predicted_intent=cls.intent,
                predicted_category=cls.category,
            )
        )

    async def answer_intent(self, user: User, example_id: int, intent: str) -> LabelledExample:
        """The sender says what they meant; the answer becomes a labelled example (once)."""
        example = await self.examples.get(example_id)
        if example is None or example.user_id != user.id:
            raise NotFound("stale_button")
        if intent not in INTENTS:
            raise Invalid("unknown_action")
        if not await self.examples.answer(example_id, intent, None):
            raise Conflict("already_answered")
        example.intent = intent
        return example

    async def set_urgent(self, user: User, urgent: bool) -> Draft:
        """The reporter marks the draft 🔥 urgent (or takes back what the words suggested)."""
        draft = await self.drafts.get(user.id)
        if draft is None:
            raise NotFound("no_draft")
        draft.urgent = urgent
        await self.drafts.save(draft)
        return draft

    async def cancel(self, user: User) -> bool:
        """Drop the draft."""
        had = await self.drafts.get(user.id) is not None
        await self.drafts.delete(user.id)
        return had

    async def communities(self) -> list[Unit]:
        """Communities, for place buttons."""
        return await self.org.of_level(Level.COMMUNITY)

    async def grids(self, community: str) -> list[Unit]:
        """The grids of one community, for place buttons."""
        return await self.org.of_level(Level.GRID, community)

    async def file_matter(self, matter: MatterToFile) -> Case:
        """A matter raised on a fixed day becomes a case of the unit that recorded it (filed by its staff)."""
        recorder = await self.case_service.record.people.get(matter.recorded_by)
        assert recorder is not None
        draft = Draft(
            user_id=recorder.id,
            text=matter.text[:MAX_TEXT],
            unit_code=matter.unit_code,
            category="other",
            confidence=1.0,
            urgent=suggests_urgent(matter.text),
        )
        case, _ = await self._create(recorder, draft)
        return case

    async def file_external(
        self,
        client: User,
        category: str,
        text: str,
        lat: float | None,
        lon: float | None,
        address: str | None,
        photo: str | None = None,
    ) -> tuple[Case, Unit]:
        """A request from another system (Open311): routed by its point, or to the top unit when it only has
        an address we cannot place; handled like any other case, the system shown as its reporter. A photo
        comes already kept in the office's store."""
        if category not in CATEGORIES:
            raise Invalid("unknown_category")
        text = text.strip()
        if not text:
            raise Invalid("empty_text")
        if len(text) > MAX_TEXT:
            raise Invalid("text_too_long", max=MAX_TEXT)
        draft = Draft(user_id=client.id, text=text, category=category, confidence=1.0, urgent=suggests_urgent(text))
        if photo:
            # A stored photo's key is its content hash: the same photo sent again is caught like a resent one.
            draft.photo_file_id, draft.photo_unique_id = photo, stored_key(photo)
        if address and address.strip():
            draft.address = address.strip()[:ADDRESS_MAX]
        if lat is not None and lon is not None:
            if not valid_coordinates(lat, lon):
                raise Invalid("bad_coordinates")
            where = (await self.org.geo.index(self.org.units)).locate(lat, lon)
            if where is None:
                raise Invalid("outside_area")
            draft.lat, draft.lon, draft.unit_code = lat, lon, where.unit_code
        else:
            streets = await self.org.of_level(Level.STREET)
            if not streets:
                raise Invalid("outside_area")
            draft.unit_code = streets[0].code  # no point to place: the street dispatches it
        return await self._create(client, draft)

    async def submit(self, user: User) -> tuple[Case, Unit]:
        """Turn a complete draft into a case and post it to the responsible group; returns the case and its unit."""
        draft = await self.drafts.get(user.id)
        if draft is None:
            raise NotFound("no_draft")
        case, unit = await self._create(user, draft)
        await self.drafts.delete(user.id)
        return case, unit

    async def _create(self, user: User, draft: Draft) -> tuple[Case, Unit]:
        if not draft.has_description:
            raise Invalid("draft_needs_description")
        if not draft.has_place or draft.unit_code is None:
            raise Invalid("draft_needs_place")
        category = draft.category or "other"
        unit = await self.org.units.get(await self.case_service.steps.handling_unit(draft.unit_code, category))
        if unit is None:
            raise Invalid("draft_needs_place")
        now = self.clock()
        day = day_code(now)
        seq = await self.cases.next_seq(day)
        case = await self.cases.add(
            Case(
                id=0,
                number=f"SB{day}-{seq:04d}",
                reporter_id=user.id,
                reporter_role=user.role or Role.RESIDENT,
                # A photo-only report is described by its category (a front end names it).
                description=draft.text or "",
                category=category,
                unit_code=unit.code,
                state=CaseState.NEW,
                rev=1,
                created_at=now,
                photo_file_id=draft.photo_file_id,
                lat=draft.lat,
                lon=draft.lon,
                address=" · ".join(x for x in (draft.address, draft.place_hint) if x) or None,
                fallback=unit.level is not Level.GRID and unit.code == draft.unit_code,
                confidence=draft.confidence,
                model_version=draft.model_version,
                urgent=bool(draft.urgent),
                photo_unique_id=draft.photo_unique_id,
                origin_unit=unit.code,
                on_behalf=draft.on_behalf,
            )
        )
        await self.cases.add_event(
            CaseEvent(case.id, user.id, now, None, CaseState.NEW, "submit", None, draft.photo_file_id)
        )
        await self.case_service.open(case)
        await self.events.publish(CaseOpened(case.id, case.category, case.unit_code, user.id, case.lat, case.lon))
        return case, unit
