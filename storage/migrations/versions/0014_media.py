"""photos kept in the office's media store

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "media",
        sa.Column("file_id", sa.String(length=256), nullable=False),
        sa.Column("key", sa.String(length=96), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("file_id"),
    )
    op.create_index("ix_media_due", "media", ["state", "next_at"])
    # Photos reported before the store existed are fetched like new ones.
    for table in ("cases", "case_events"):
        op.execute(
            sa.text(
                f"INSERT INTO media (file_id, state, attempts, next_at, created_at) "  # noqa: S608 - fixed names
                f"SELECT DISTINCT photo_file_id, 'pending', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM {table} "
                f"WHERE photo_file_id IS NOT NULL AND photo_file_id NOT LIKE 'media:%' "
                f"AND photo_file_id NOT IN (SELECT file_id FROM media)"
            )
        )


def downgrade() -> None:
    """Revert."""
    op.drop_index("ix_media_due", table_name="media")
    op.drop_table("media")
