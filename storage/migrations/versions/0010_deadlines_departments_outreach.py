"""deadlines, followers, department calls, staff roles, fixed-day records, broadcasts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("photo_unique_id", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("merged_into", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("close_reason", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("origin_unit", sa.String(length=32), nullable=True))
        batch.create_index("ix_cases_photo_unique_id", ["photo_unique_id"], unique=False)
        batch.create_index("ix_cases_origin_unit", ["origin_unit"], unique=False)
    # Existing cases were first sent where they are (the best that is known); closed ones were rated.
    op.execute("UPDATE cases SET origin_unit = unit_code")
    op.execute("UPDATE cases SET close_reason = 'rated' WHERE state = 'closed'")
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("role", sa.String(length=12), nullable=False, server_default="worker"))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "deadlines",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("paused_at", TS, nullable=True),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("next_at", TS, nullable=True),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_deadlines_due", "deadlines", ["state", "next_at"], unique=False)
    op.create_index(op.f("ix_deadlines_case_id"), "deadlines", ["case_id"], unique=False)
    op.create_table(
        "case_followers",
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("case_id", "user_id"),
    )
    op.create_table(
        "case_calls",
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("called_at", TS, nullable=False),
        sa.Column("called_by", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reported_at", TS, nullable=True),
        sa.Column("done_at", TS, nullable=True),
        sa.Column("done_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["department"], ["units.code"]),
        sa.PrimaryKeyConstraint("case_id", "department"),
    )
    op.create_table(
        "day_records",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("matters", sa.JSON(), nullable=False),
        sa.Column("filed", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_day_records_unit_code"), "day_records", ["unit_code"], unique=False)
    op.create_table(
        "broadcasts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("photo", sa.String(length=256), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_broadcasts_state"), "broadcasts", ["state"], unique=False)


def downgrade() -> None:
    """Revert."""
    op.drop_index(op.f("ix_broadcasts_state"), table_name="broadcasts")
    op.drop_table("broadcasts")
    op.drop_index(op.f("ix_day_records_unit_code"), table_name="day_records")
    op.drop_table("day_records")
    op.drop_table("case_calls")
    op.drop_table("case_followers")
    op.drop_index(op.f("ix_deadlines_case_id"), table_name="deadlines")
    op.drop_index("ix_deadlines_due", table_name="deadlines")
    op.drop_table("deadlines")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("priority")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("role")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_origin_unit")
        batch.drop_index("ix_cases_photo_unique_id")
        for column in ("origin_unit", "close_reason", "merged_into", "photo_unique_id", "urgent"):
            batch.drop_column(column)
