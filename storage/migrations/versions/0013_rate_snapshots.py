"""snapshots of a unit's monthly figures

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 05:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "rate_snapshots",
        sa.Column("unit_code", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("unit_code", "month"),
    )


def downgrade() -> None:
    """Revert."""
    op.drop_table("rate_snapshots")
