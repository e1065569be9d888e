"""Repositories over one AsyncSession; they return domain objects and never commit."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import (
    Button,
    Case,
    CaseEvent,
    CaseState,
    Draft,
    GroupOffer,
    LabelledExample,
    Level,
    OutMessage,
    Rating,
    Role,
    Unit,
    User,
    UserRef,
)
from storage.db import conflict_insert
from storage.orm import (
    CaseEventRow,
    CaseRow,
    CaseSeqRow,
    DraftRow,
    ExampleRow,
    GroupOfferRow,
    MetaRow,
    OutboxRow,
    PendingRow,
    StaffRow,
    UnitRow,
    UserRow,
)

Clock = Callable[[], datetime]


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        ref=UserRef(row.platform, row.external_id),
        display_name=row.display_name,
        role=Role(row.role) if row.role else None,
        locale=row.locale,
        private_chat_id=row.private_chat_id,
        username=row.username,
    )


class UserRepo:
    """People."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock

    async def upsert(
        self, ref: UserRef, display_name: str, username: str | None, locale: str | None, private_chat_id: int | None
    ) -> User:
        """Find by platform id, creating or refreshing the row."""
        row = (
            await self.s.execute(
                select(UserRow).where(UserRow.platform == ref.platform, UserRow.external_id == ref.external_id)
            )
        ).scalar_one_or_none()
        if row is None:
            row = UserRow(
                platform=ref.platform,
                external_id=ref.external_id,
                display_name=display_name[:128],
                username=username,
                locale=locale or "zh-CN",
                private_chat_id=private_chat_id,
                created_at=self.clock(),
            )
            self.s.add(row)
            await self.s.flush()
        else:
            if display_name and row.display_name != display_name[:128]:
                row.display_name = display_name[:128]
            if username != row.username and username is not None:
                row.username = username
            if private_chat_id is not None and row.private_chat_id != private_chat_id:
                row.private_chat_id = private_chat_id
            if locale is not None and row.locale != locale:
                row.locale = locale
        return _user(row)

    async def get(self, user_id: int) -> User | None:
        """By id."""
        row = await self.s.get(UserRow, user_id)
        return _user(row) if row else None

    async def by_ref(self, ref: UserRef) -> User | None:
        """By platform id."""
        row = (
            await self.s.execute(
                select(UserRow).where(UserRow.platform == ref.platform, UserRow.external_id == ref.external_id)
            )
        ).scalar_one_or_none()
        return _user(row) if row else None

    async def by_username(self, username: str) -> User | None:
        """By @username, case-insensitively."""
        row = (
            await self.s.execute(
                select(UserRow).where(func.lower(UserRow.username) == username.lstrip("@").lower()).limit(1)
            )
        ).scalar_one_or_none()
        return _user(row) if row else None

    async def set_role(self, user_id: int, role: Role) -> None:
        """Rider or resident."""
        await self.s.execute(update(UserRow).where(UserRow.id == user_id).values(role=role.value))


def _unit(row: UnitRow) -> Unit:
    return Unit(row.code, row.name, Level(row.level), row.parent_code, row.geometry, row.chat_id)


class UnitRepo:
    """The hierarchy."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session
        # The session's identity map holds rows weakly; keeping them here saves re-reading a unit
        # (and its ancestors) several times within one update.
        self._rows: dict[str, UnitRow | None] = {}

    async def all(self) -> list[Unit]:
        """Every unit."""
        return [_unit(r) for r in (await self.s.execute(select(UnitRow).order_by(UnitRow.code))).scalars()]

    async def get(self, code: str) -> Unit | None:
        """By code."""
        if code not in self._rows:
            self._rows[code] = await self.s.get(UnitRow, code)
        row = self._rows[code]
        return _unit(row) if row else None

    async def by_chat(self, chat_id: int) -> Unit | None:
        """The unit bound to a chat."""
        row = (await self.s.execute(select(UnitRow).where(UnitRow.chat_id == chat_id).limit(1))).scalar_one_or_none()
        return _unit(row) if row else None

    async def replace_all(self, units: list[Unit]) -> tuple[int, int]:
        """Insert or update by code (bindings are kept); returns (created, updated)."""
        created = updated = 0
        for u in units:
            row = await self.s.get(UnitRow, u.code)
            if row is None:
                self.s.add(
                    UnitRow(
                        code=u.code, name=u.name, level=u.level.value, parent_code=u.parent_code, geometry=u.geometry
                    )
                )
                created += 1
            else:
                row.name, row.level, row.parent_code, row.geometry = u.name, u.level.value, u.parent_code, u.geometry
                updated += 1
            self._rows[u.code] = row
        await self.s.flush()
        await self._bump()
        return created, updated

    async def _bump(self) -> None:
        res = await self.s.execute(update(MetaRow).where(MetaRow.key == "units_rev").values(value=MetaRow.value + 1))
        if res.rowcount == 0:  # type: ignore[attr-defined]
            self.s.add(MetaRow(key="units_rev", value=1))
            await self.s.flush()

    async def bind_chat(self, code: str, chat_id: int) -> None:
        """Bind a chat to a unit."""
        await self.s.execute(update(UnitRow).where(UnitRow.code == code).values(chat_id=chat_id))
        self._rows.pop(code, None)
        await self._bump()

    async def unbind_chat(self, chat_id: int) -> list[str]:
        """Forget a chat's bindings; returns the codes that lost their group."""
        codes = list((await self.s.execute(select(UnitRow.code).where(UnitRow.chat_id == chat_id))).scalars())
        if codes:
            await self.s.execute(update(UnitRow).where(UnitRow.chat_id == chat_id).values(chat_id=None))
            for code in codes:
                self._rows.pop(code, None)
            await self._bump()
        return codes

    async def revision(self) -> int:
        """Moves whenever units or bindings change."""
        value = (await self.s.execute(select(MetaRow.value).where(MetaRow.key == "units_rev"))).scalar_one_or_none()
        return int(value or 0)


class StaffRepo:
    """Staff membership."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock

    async def add(self, unit_code: str, user_id: int, added_by: int | None) -> bool:
        """Add; False if already there."""
        if await self.s.get(StaffRow, (unit_code, user_id)) is not None:
            return False
        self.s.add(StaffRow(unit_code=unit_code, user_id=user_id, added_by=added_by, created_at=self.clock()))
        await self.s.flush()
        return True

    async def remove(self, unit_code: str, user_id: int) -> bool:
        """Remove; False if not there."""
        row = await self.s.get(StaffRow, (unit_code, user_id))
        if row is None:
            return False
        await self.s.delete(row)
        await self.s.flush()
        return True

    async def units_of(self, user_id: int) -> list[str]:
        """Codes a person is staff of."""
        return list((await self.s.execute(select(StaffRow.unit_code).where(StaffRow.user_id == user_id))).scalars())

    async def members(self, unit_code: str) -> list[User]:
        """Staff of one unit."""
        rows = await self.s.execute(
            select(UserRow).join(StaffRow, StaffRow.user_id == UserRow.id).where(StaffRow.unit_code == unit_code)
        )
        return [_user(r) for r in rows.scalars()]


def _case(row: CaseRow) -> Case:
    return Case(
        id=row.id,
        number=row.number,
        reporter_id=row.reporter_id,
        reporter_role=Role(row.reporter_role),
        description=row.description,
        category=row.category,
        unit_code=row.unit_code,
        state=CaseState(row.state),
        rev=row.rev,
        created_at=row.created_at,
        photo_file_id=row.photo_file_id,
        lat=row.lat,
        lon=row.lon,
        address=row.address,
        fallback=row.fallback,
        confidence=row.confidence,
        model_version=row.model_version,
        assignee_id=row.assignee_id,
        post_outbox_id=row.post_outbox_id,
        reopen_count=row.reopen_count,
        rating=Rating(row.rating) if row.rating else None,
    )


_CASE_FIELDS = {f.name for f in dataclasses.fields(Case)} - {"id"}


class CaseRepo:
    """Cases and events."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock

    async def next_seq(self, day: str) -> int:
        """Atomically take the next number of the day (upsert … returning works on SQLite ≥ 3.35 and PG)."""
        stmt = (
            conflict_insert(self.s)(CaseSeqRow)
            .values(day=day, last=1)
            .on_conflict_do_update(index_elements=["day"], set_={"last": CaseSeqRow.last + 1})
            .returning(CaseSeqRow.last)
        )
        return int((await self.s.execute(stmt)).scalar_one())

    async def add(self, case: Case) -> Case:
        """Insert; returns the case with its id."""
        values = {k: getattr(case, k) for k in _CASE_FIELDS}
        values["reporter_role"] = case.reporter_role.value
        values["state"] = case.state.value
        values["rating"] = case.rating.value if case.rating else None
        values["updated_at"] = case.created_at
        new_id = (await self.s.execute(insert(CaseRow).values(**values).returning(CaseRow.id))).scalar_one()
        return dataclasses.replace(case, id=int(new_id))

    async def get(self, case_id: int) -> Case | None:
        """By id (fresh from the database, not the identity map)."""
        row = (
            await self.s.execute(select(CaseRow).where(CaseRow.id == case_id).execution_options(populate_existing=True))
        ).scalar_one_or_none()
        return _case(row) if row else None

    async def transition(self, case_id: int, expected: CaseState, rev: int, to: CaseState, **changes: object) -> bool:
        """Compare-and-set on (state, rev): exactly one of two racing presses wins."""
        bad = set(changes) - _CASE_FIELDS
        if bad:
            raise ValueError(f"unknown case fields {bad}")
        res = await self.s.execute(
            update(CaseRow)
            .where(CaseRow.id == case_id, CaseRow.state == expected.value, CaseRow.rev == rev)
            .values(state=to.value, rev=CaseRow.rev + 1, updated_at=self.clock(), **changes)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def set_fields(self, case_id: int, **changes: object) -> None:
        """Bookkeeping fields that are not a transition (e.g. the current post)."""
        await self.s.execute(update(CaseRow).where(CaseRow.id == case_id).values(**changes))

    async def add_event(self, event: CaseEvent) -> None:
        """Record a transition."""
        self.s.add(
            CaseEventRow(
                case_id=event.case_id,
                actor_id=event.actor_id,
                at=event.at,
                from_state=event.from_state.value if event.from_state else None,
                to_state=event.to_state.value,
                action=event.action,
                note=event.note,
                photo_file_id=event.photo_file_id,
            )
        )
        await self.s.flush()

    async def events(self, case_id: int) -> list[CaseEvent]:
        """A case's timeline, oldest first."""
        rows = await self.s.execute(
            select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.id)
        )
        return [
            CaseEvent(
                r.case_id,
                r.actor_id,
                r.at,
                CaseState(r.from_state) if r.from_state else None,
                CaseState(r.to_state),
                r.action,
                r.note,
                r.photo_file_id,
            )
            for r in rows.scalars()
        ]

    async def by_reporter(self, user_id: int, limit: int) -> list[Case]:
        """Newest first."""
        rows = await self.s.execute(
            select(CaseRow).where(CaseRow.reporter_id == user_id).order_by(CaseRow.id.desc()).limit(limit)
        )
        return [_case(r) for r in rows.scalars()]


_DRAFT_FIELDS = [f.name for f in dataclasses.fields(Draft) if f.name != "user_id"]


class DraftRepo:
    """Drafts as one JSON document per user: the shape changes more often than it is queried."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock
        self._rows: dict[int, DraftRow | None] = {}

    async def _row(self, user_id: int) -> DraftRow | None:
        # Strong per-session cache: a draft is read several times per update; absence is cached too.
        if user_id not in self._rows:
            self._rows[user_id] = await self.s.get(DraftRow, user_id)
        return self._rows[user_id]

    async def get(self, user_id: int) -> Draft | None:
        """The user's draft."""
        row = await self._row(user_id)
        if row is None:
            return None
        return Draft(user_id=user_id, **{k: row.data.get(k) for k in _DRAFT_FIELDS})

    async def save(self, draft: Draft) -> None:
        """Create or replace."""
        data = {k: getattr(draft, k) for k in _DRAFT_FIELDS}
        row = await self._row(draft.user_id)
        if row is None:
            row = DraftRow(user_id=draft.user_id, data=data, updated_at=self.clock())
            self.s.add(row)
            self._rows[draft.user_id] = row
        else:
            row.data = data
            row.updated_at = self.clock()
        await self.s.flush()

    async def delete(self, user_id: int) -> None:
        """Drop."""
        row = await self._row(user_id)
        if row is not None:
            await self.s.delete(row)
            await self.s.flush()
        self._rows[user_id] = None


class PendingRepo:
    """Replies the bot waits for."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def set(self, user_id: int, kind: str, case_id: int, prompt_outbox_id: int | None) -> None:
        """One pending reply per user; a newer ask replaces the older."""
        row = await self.s.get(PendingRow, user_id)
        if row is None:
            self.s.add(PendingRow(user_id=user_id, kind=kind, case_id=case_id, prompt_outbox_id=prompt_outbox_id))
        else:
            row.kind, row.case_id, row.prompt_outbox_id = kind, case_id, prompt_outbox_id
        await self.s.flush()

    async def get(self, user_id: int) -> tuple[str, int, int | None] | None:
        """(kind, case id, prompt outbox id)."""
        row = await self.s.get(PendingRow, user_id)
        return (row.kind, row.case_id, row.prompt_outbox_id) if row else None

    async def clear(self, user_id: int) -> None:
        """Done waiting."""
        row = await self.s.get(PendingRow, user_id)
        if row is not None:
            await self.s.delete(row)
            await self.s.flush()


def message_payload(m: OutMessage) -> dict[str, Any]:
    """OutMessage → JSON payload (only what is set)."""
    payload: dict[str, Any] = {"text": m.text}
    if m.photo:
        payload["photo"] = m.photo
    if m.buttons:
        payload["buttons"] = [[dataclasses.asdict(b) for b in row] for row in m.buttons]
    if m.reply_keyboard is not None:
        payload["reply_keyboard"] = m.reply_keyboard
    if m.request_location:
        payload["request_location"] = m.request_location
    if m.request_contact:
        payload["request_contact"] = m.request_contact
    if m.remove_keyboard:
        payload["remove_keyboard"] = True
    if m.force_reply:
        payload["force_reply"] = True
    if m.reply_to_outbox_id:
        payload["reply_to"] = m.reply_to_outbox_id
    if m.reply_to_message_id:
        payload["reply_to_message"] = m.reply_to_message_id
    if m.certificate:
        payload["certificate"] = m.certificate
    return payload


def payload_message(chat_id: int, payload: dict[str, Any], edit_of: int | None) -> OutMessage:
    """JSON payload → OutMessage."""
    return OutMessage(
        chat_id=chat_id,
        text=payload.get("text", ""),
        photo=payload.get("photo"),
        buttons=[
            [Button(b["text"], tuple(b["cb"]) if b.get("cb") else None, b.get("url")) for b in row]  # type: ignore[arg-type]
            for row in payload.get("buttons", [])
        ],
        reply_keyboard=payload.get("reply_keyboard"),
        request_location=payload.get("request_location"),
        request_contact=payload.get("request_contact"),
        remove_keyboard=bool(payload.get("remove_keyboard")),
        force_reply=bool(payload.get("force_reply")),
        reply_to_outbox_id=payload.get("reply_to"),
        edit_outbox_id=edit_of,
        reply_to_message_id=payload.get("reply_to_message"),
        certificate=payload.get("certificate"),
    )


class OutboxRepo:
    """The domain's side of the outbox: add messages inside the current transaction."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock
        self.added = 0

    async def add(self, message: OutMessage) -> int:
        """Queue a message; an edit inherits its target's chat so per-chat order covers it."""
        chat_id = message.chat_id
        if message.edit_outbox_id is not None:
            target = await self.s.get(OutboxRow, message.edit_outbox_id)
            if target is None:
                raise ValueError(f"edit of unknown outbox message {message.edit_outbox_id}")
            chat_id = target.chat_id
        now = self.clock()
        new_id = (
            await self.s.execute(
                insert(OutboxRow)
                .values(
                    chat_id=chat_id,
                    payload=message_payload(message),
                    edit_of=message.edit_outbox_id,
                    state="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    not_before=message.not_before,
                )
                .returning(OutboxRow.id)
            )
        ).scalar_one()
        self.added += 1
        return int(new_id)

    async def cancel(self, ids: list[int]) -> None:
        """Withdraw scheduled messages not yet sent (a cancelled sign-up's reminders)."""
        if ids:
            await self.s.execute(
                update(OutboxRow).where(OutboxRow.id.in_(ids), OutboxRow.state == "pending").values(state="cancelled")
            )


def _example(r: ExampleRow) -> LabelledExample:
    return LabelledExample(
        text=r.text,
        source=r.source,
        intent=r.intent,
        category=r.category,
        user_id=r.user_id,
        case_id=r.case_id,
        model_version=r.model_version,
        predicted_intent=r.predicted_intent,
        predicted_category=r.predicted_category,
        id=r.id,
    )


class ExampleRepo:
    """Labelled examples."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock

    async def add(self, example: LabelledExample) -> int:
        """Store; an example with an intent counts as answered now."""
        now = self.clock()
        row = ExampleRow(
            text=example.text,
            intent=example.intent,
            category=example.category,
            source=example.source,
            user_id=example.user_id,
            case_id=example.case_id,
            model_version=example.model_version,
            predicted_intent=example.predicted_intent,
            predicted_category=example.predicted_category,
            created_at=now,
            answered_at=now if example.intent else None,
        )
        self.s.add(row)
        await self.s.flush()
        return row.id

    async def get(self, example_id: int) -> LabelledExample | None:
        """By id."""
        row = await self.s.get(ExampleRow, example_id)
        return _example(row) if row else None

    async def answer(self, example_id: int, intent: str, category: str | None) -> bool:
        """Record the answer to a clarification once; False if it was answered before."""
        res = await self.s.execute(
            update(ExampleRow)
            .where(ExampleRow.id == example_id, ExampleRow.intent.is_(None))
            .values(intent=intent, category=category, answered_at=self.clock())
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def answered(self) -> list[LabelledExample]:
        """Every labelled (answered) example, oldest first."""
        rows = await self.s.execute(select(ExampleRow).where(ExampleRow.intent.is_not(None)).order_by(ExampleRow.id))
        return [_example(r) for r in rows.scalars()]


def _offer(r: GroupOfferRow) -> GroupOffer:
    return GroupOffer(r.id, r.chat_id, r.user_id, r.text, r.photo_file_id, r.state, r.offer_outbox_id)


class OfferRepo:
    """Group offers."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def last_offer_at(self, chat_id: int, user_id: int) -> datetime | None:
        """When this author was last offered anything in this group."""
        at = (
            await self.s.execute(
                select(func.max(GroupOfferRow.created_at)).where(
                    GroupOfferRow.chat_id == chat_id, GroupOfferRow.user_id == user_id
                )
            )
        ).scalar_one_or_none()
        return at

    async def add(self, offer: GroupOffer, at: datetime) -> int:
        """Store an open offer."""
        row = GroupOfferRow(
            chat_id=offer.chat_id,
            user_id=offer.user_id,
            text=offer.text,
            photo_file_id=offer.photo_file_id,
            state="open",
            created_at=at,
        )
        self.s.add(row)
        await self.s.flush()
        return row.id

    async def get(self, offer_id: int) -> GroupOffer | None:
        """By id."""
        row = await self.s.get(GroupOfferRow, offer_id)
        return _offer(row) if row else None

    async def set_outbox(self, offer_id: int, outbox_id: int) -> None:
        """Remember the offer message, to edit it later."""
        await self.s.execute(
            update(GroupOfferRow).where(GroupOfferRow.id == offer_id).values(offer_outbox_id=outbox_id)
        )

    async def close(self, offer_id: int, state: str) -> bool:
        """Accept or decline once."""
        res = await self.s.execute(
            update(GroupOfferRow).where(GroupOfferRow.id == offer_id, GroupOfferRow.state == "open").values(state=state)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]


class MetaRepo:
    """Named markers in the meta table."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def claim(self, key: str) -> bool:
        """Set a marker once; False if it was set before (by anyone, in any process)."""
        stmt = (
            conflict_insert(self.s)(MetaRow)
            .values(key=key[:64], value=1)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        return (await self.s.execute(stmt.returning(MetaRow.key))).scalar_one_or_none() is not None


class SqlRepos:
    """All repositories of one session."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.users = UserRepo(session, clock)
        self.units = UnitRepo(session)
        self.staff = StaffRepo(session, clock)
        self.cases = CaseRepo(session, clock)
        self.drafts = DraftRepo(session, clock)
        self.pending = PendingRepo(session)
        self.outbox = OutboxRepo(session, clock)
        self.examples = ExampleRepo(session, clock)
        self.offers = OfferRepo(session)
        self.meta = MetaRepo(session)
        from storage.points import LedgerRepo, ShopRepo

        self.ledger = LedgerRepo(session, clock)
        self.shop = ShopRepo(session)
        from storage.activities import ActivityRepo

        self.activities = ActivityRepo(session)
        from storage.volunteers import VolunteerRepo

        self.volunteers = VolunteerRepo(session, clock)
        from storage.orders import OrderRepo

        self.orders = OrderRepo(session)
        from storage.forms import FormRepo

        self.forms = FormRepo(session, clock)
