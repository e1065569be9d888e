"""SQLAlchemy tables. Schema changes go through Alembic migrations in storage/migrations."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC on every backend (SQLite would otherwise drop the offset unconverted)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive values; convert aware ones to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: always pass timezone-aware values")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """SQLite hands values back naive; they are UTC."""
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for ids that grow forever.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of all tables."""


class UserRow(Base):
    """A person on a chat platform."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(128), default="")
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    role: Mapped[str | None] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    # Has opened a private conversation with the bot (so it may write to them privately).
    reachable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class UnitRow(Base):
    """A street, community or grid."""

    __tablename__ = "units"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(64), index=True)
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, index=True)


class MetaRow(Base):
    """Small counters (the units revision that invalidates the grid index)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class StaffRow(Base):
    """Membership of a person in a unit's staff."""

    __tablename__ = "staff"
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    added_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # worker, or head (网格长: told first when a case of the grid is late)
    role: Mapped[str] = mapped_column(String(12), default="worker")


class CaseSeqRow(Base):
    """Per-day counter behind human-readable case numbers."""

    __tablename__ = "case_seq"
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class CaseRow(Base):
    """A case."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_created_at", "created_at"),
        Index("ix_cases_reporter_created", "reporter_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reporter_role: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    rev: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(256))
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    confidence: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(64))
    assignee_id: Mapped[int | None] = mapped_column(BigInteger)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[str | None] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    photo_unique_id: Mapped[str | None] = mapped_column(String(128), index=True)
    merged_into: Mapped[int | None] = mapped_column(BigInteger)
    close_reason: Mapped[str | None] = mapped_column(String(16))
    origin_unit: Mapped[str | None] = mapped_column(String(32), index=True)
    on_behalf: Mapped[str | None] = mapped_column(String(80))


class CaseEventRow(Base):
    """One transition of a case: who, when, from, to, note."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_at", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    photo_file_id: Mapped[str | None] = mapped_column(String(256))


class DraftRow(Base):
    """A report being assembled in a private chat."""

    __tablename__ = "drafts"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AwaitingRow(Base):
    """The one reply the bot awaits from a person: what for, about what, until when."""

    __tablename__ = "awaiting"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    ref: Mapped[str] = mapped_column(String(64), default="")
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PostRow(Base):
    """The message in a chat that currently shows a subject's state (a case, an activity, an order …)."""

    __tablename__ = "posts"
    subject_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    outbox_id: Mapped[int] = mapped_column(BigInteger)


class OutboxRow(Base):
    """A message to deliver. States: pending → inflight → sent | failed."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"), Index("ix_outbox_chat", "chat_id", "id"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    edit_of: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Scheduled messages (reminders) are invisible to the sender until then, so they never hold up a chat.
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The sender process holding an in-flight message and until when; only an expired lease is taken over.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Lets a later change withdraw a scheduled message before it goes out (a cancelled sign-up's reminders).
    tag: Mapped[str | None] = mapped_column(String(64), index=True)
    # 0: ordinary; 1: bulk (a broadcast), sent after every chat's ordinary messages that are due.
    priority: Mapped[int] = mapped_column(Integer, default=0)


class ExampleRow(Base):
    """A labelled text: a clarification (asked, then answered) or a staff correction."""

    __tablename__ = "labelled_examples"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16), index=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    case_id: Mapped[int | None] = mapped_column(BigInteger)
    model_version: Mapped[str | None] = mapped_column(String(64))
    predicted_intent: Mapped[str | None] = mapped_column(String(32))
    predicted_category: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class GroupOfferRow(Base):
    """A group message the bot offered to file as a report; the offer is the author's alone to accept."""

    __tablename__ = "group_offers"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    unit_code: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    state: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_group_offers_recent", "unit_code", "user_id", "created_at"),)


class ProcessedUpdateRow(Base):
    """Update ids already handled, so a redelivered webhook is processed once."""

    __tablename__ = "processed_updates"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class FailedUpdateRow(Base):
    """An update whose handler raised an unexpected error: kept with its traceback for an operator."""

    __tablename__ = "failed_updates"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text)
    traceback: Mapped[str] = mapped_column(Text)


class LedgerRow(Base):
    """Append-only points ledger: every change is a row; corrections are reversing rows."""

    __tablename__ = "points_ledger"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    ref: Mapped[str | None] = mapped_column(String(64))
    operator_id: Mapped[int | None] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    community_code: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class BalanceRow(Base):
    """Cached balance (rebuildable from the ledger) and cumulative verified hours."""

    __tablename__ = "point_balances"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    hours: Mapped[float] = mapped_column(Float, default=0.0)
    star_level: Mapped[int] = mapped_column(Integer, default=0)


class HoursRow(Base):
    """Service hours, kept apart from points: verified, or back-filled by staff (which earn no points)."""

    __tablename__ = "hours_ledger"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    hours: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(12))
    ref: Mapped[str | None] = mapped_column(String(64))
    operator_id: Mapped[int | None] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ShopItemRow(Base):
    """An item in a community's credit supermarket."""

    __tablename__ = "shop_items"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price > 0", name="price_positive"),
        UniqueConstraint("community_code", "name"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ShopOrderRow(Base):
    """A redemption: reserved with a pickup code, then picked up (verified once) or cancelled (refunded)."""

    __tablename__ = "shop_orders"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("shop_items.id"))
    price: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    state: Mapped[str] = mapped_column(String(12), default="reserved")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_by: Mapped[int | None] = mapped_column(BigInteger)


class ActivityRow(Base):
    """A volunteer activity; `taken` counts confirmed seats and never exceeds `capacity`."""

    __tablename__ = "activities"
    __table_args__ = (CheckConstraint("taken >= 0 AND taken <= capacity", name="seats_within_capacity"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    start_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    end_at: Mapped[datetime] = mapped_column(UtcDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    points_rule: Mapped[str] = mapped_column(String(12))
    points: Mapped[int] = mapped_column(Integer)
    team: Mapped[str | None] = mapped_column(String(100))
    signup_cutoff_hours: Mapped[float] = mapped_column(Float, default=2.0)
    checkin_code: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(12), default="published")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SignupRow(Base):
    """A person's place in an activity: confirmed, waitlisted or cancelled; then attendance."""

    __tablename__ = "signups"
    __table_args__ = (UniqueConstraint("activity_id", "user_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(12))
    checkin_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    checkout_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    hours: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TeamRow(Base):
    """A volunteer team (志愿服务队) of a community, with a leader."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("community_code", "name"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    leader_id: Mapped[int | None] = mapped_column(BigInteger)


class VolunteerRow(Base):
    """A registered volunteer: filled in step by step, then approved (or deactivated) by community staff."""

    __tablename__ = "volunteers"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    real_name: Mapped[str | None] = mapped_column(String(64))
    community_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)
    team_id: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(12), default="draft")
    step: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)


class ServiceOrderRow(Base):
    """A resident's request for help (群众点单), taken by exactly one volunteer."""

    __tablename__ = "service_orders"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    community_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)
    what: Mapped[str] = mapped_column(Text)
    when_text: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(12), index=True)
    volunteer_id: Mapped[int | None] = mapped_column(BigInteger)
    rating: Mapped[str | None] = mapped_column(String(16))
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class FormRow(Base):
    """A multi-step form a person is filling in the bot (e.g. a new activity), kept so nothing typed is lost."""

    __tablename__ = "forms"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DeadlineRow(Base):
    """A clock on a case (claim, on site, resolve, escalate, follow-up, a department's report-in)."""

    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadlines_due", "state", "next_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(12), default="open")
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ref: Mapped[str] = mapped_column(String(32), default="")
    next_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    working: Mapped[bool] = mapped_column(Boolean, default=False)


class FollowerRow(Base):
    """Someone who reported the same problem and follows the case instead of filing it again."""

    __tablename__ = "case_followers"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CallRow(Base):
    """A department called to a case (吹哨报到)."""

    __tablename__ = "case_calls"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    department: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True)
    called_at: Mapped[datetime] = mapped_column(UtcDateTime)
    called_by: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(12), default="called")
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    done_note: Mapped[str | None] = mapped_column(Text)


class DayRecordRow(Base):
    """What a fixed day (民情日 …) brought."""

    __tablename__ = "day_records"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(24))
    received: Mapped[int] = mapped_column(Integer, default=0)
    matters: Mapped[list[str]] = mapped_column(JSON)
    filed: Mapped[list[int]] = mapped_column(JSON)
    recorded_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BroadcastRow(Base):
    """A notice from a street or community to every group under it."""

    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    requested_by: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    photo: Mapped[str | None] = mapped_column(String(256))
    state: Mapped[str] = mapped_column(String(12), index=True)
    audience: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiKeyRow(Base):
    """An API client (Open311) and the hash of its key; the key itself is shown once and never stored."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ConsoleTokenRow(Base):
    """A one-time console login link (its hash), used once within minutes."""

    __tablename__ = "console_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ConsoleSessionRow(Base):
    """A console session (its id's hash) and the token its forms carry against cross-site requests."""

    __tablename__ = "console_sessions"
    sid_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConsoleAuditRow(Base):
    """What was done in the console, by whom, when."""

    __tablename__ = "console_audit"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)


class RateSnapshotRow(Base):
    """A unit's figures for a month as last computed (JSON), so a desk need not recompute closed months."""

    __tablename__ = "rate_snapshots"
    unit_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[str] = mapped_column(Text)


class MediaRow(Base):
    """A photo Telegram holds, to be kept in the office's media store: fetched once, then read from the store."""

    __tablename__ = "media"
    file_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    key: Mapped[str | None] = mapped_column(String(96))
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UtcDateTime)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_media_due", "state", "next_at"),)


class CompoundRow(Base):
    """A residential compound (小区) of the district file."""

    __tablename__ = "compounds"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    grid_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    property_code: Mapped[str | None] = mapped_column(String(64))
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class BuildingRow(Base):
    """A building (楼栋) of a compound."""

    __tablename__ = "buildings"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    compound_code: Mapped[str] = mapped_column(ForeignKey("compounds.code"), index=True)
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class HomeRow(Base):
    """A person's registered home, confirmed by a building head or the grid's staff."""

    __tablename__ = "homes"
    __table_args__ = (
        UniqueConstraint("user_id", "building_code", "entrance", "room"),
        Index("ix_homes_building_state", "building_code", "state"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    building_code: Mapped[str] = mapped_column(ForeignKey("buildings.code"))
    entrance: Mapped[str] = mapped_column(String(8))
    room: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class BuildingHeadRow(Base):
    """A building head (楼栋长) of a building."""

    __tablename__ = "building_heads"
    building_code: Mapped[str] = mapped_column(ForeignKey("buildings.code"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    named_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MatterRow(Base):
    """A matter put to the residents (议事)."""

    __tablename__ = "matters"
    __table_args__ = (Index("ix_matters_state_closes", "state", "closes_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    state: Mapped[str] = mapped_column(String(12))
    options: Mapped[list[str]] = mapped_column(JSON)
    scope_level: Mapped[str] = mapped_column(String(12))
    scope_code: Mapped[str] = mapped_column(String(64))
    per: Mapped[str] = mapped_column(String(12))
    quorum_pct: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    opens_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    proposer_id: Mapped[int | None] = mapped_column(BigInteger)
    opened_by: Mapped[int | None] = mapped_column(BigInteger)
    answer: Mapped[str] = mapped_column(Text, default="")
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    eligible: Mapped[int] = mapped_column(Integer, default=0)
    decision: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[int | None] = mapped_column(BigInteger)


class BallotRow(Base):
    """One voter's (a person's or a household's) current choice; counted, never listed."""

    __tablename__ = "ballots"
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id"), primary_key=True)
    voter_key: Mapped[str] = mapped_column(String(96), primary_key=True)
    option: Mapped[int] = mapped_column(Integer)
    cast_by: Mapped[int] = mapped_column(BigInteger)
    cast_at: Mapped[datetime] = mapped_column(UtcDateTime)
    changes: Mapped[int] = mapped_column(Integer, default=0)


class FollowUpRow(Base):
    """An action a matter's decision calls for, filed as a case."""

    __tablename__ = "matter_follow_ups"
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id"), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    case_number: Mapped[str] = mapped_column(String(32), default="")


class RatingRoundRow(Base):
    """A compound's residents' rating of its property company in a quarter."""

    __tablename__ = "rating_rounds"
    __table_args__ = (UniqueConstraint("quarter", "compound_code"), Index("ix_rating_rounds_due", "state", "closes_at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    quarter: Mapped[str] = mapped_column(String(8), index=True)
    compound_code: Mapped[str] = mapped_column(ForeignKey("compounds.code"))
    company_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    opens_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(12), default="open")


class RatingAnswerRow(Base):
    """One resident's answer to a round (one per person)."""

    __tablename__ = "rating_answers"
    round_id: Mapped[int] = mapped_column(ForeignKey("rating_rounds.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    scores: Mapped[dict[str, int]] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class CheckRow(Base):
    """A spot check or a yearly review of a property company."""

    __tablename__ = "assessment_checks"
    __table_args__ = (Index("ix_assessment_checks_company", "company_code", "period"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    company_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    kind: Mapped[str] = mapped_column(String(8))
    period: Mapped[str] = mapped_column(String(8))
    score: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class BlockTeamRow(Base):
    """A 4+N team (楼栋 4+N 小组) of a grid."""

    __tablename__ = "block_teams"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    grid_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BlockTeamBuildingRow(Base):
    """A building a 4+N team serves (each building in one team at most)."""

    __tablename__ = "block_team_buildings"
    building_code: Mapped[str] = mapped_column(ForeignKey("buildings.code"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("block_teams.id"), index=True)


class BlockTeamMemberRow(Base):
    """A member of a 4+N team and their role (party, grid, steward, head, volunteer)."""

    __tablename__ = "block_team_members"
    team_id: Mapped[int] = mapped_column(ForeignKey("block_teams.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(12))
