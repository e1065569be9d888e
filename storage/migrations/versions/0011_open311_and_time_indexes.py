"""Open311 API keys; indexes for reading cases and their steps by time

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "api_keys",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_index("ix_cases_created_at", "cases", ["created_at"], unique=False)
    op.create_index("ix_cases_reporter_created", "cases", ["reporter_id", "created_at"], unique=False)
    op.create_index("ix_case_events_at", "case_events", ["at"], unique=False)


def downgrade() -> None:
    """Revert."""
    op.drop_index("ix_case_events_at", table_name="case_events")
    op.drop_index("ix_cases_reporter_created", table_name="cases")
    op.drop_index("ix_cases_created_at", table_name="cases")
    op.drop_table("api_keys")
