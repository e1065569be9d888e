"""outbox leases, failed updates

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "failed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("traceback", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
    )
    op.create_index(op.f("ix_failed_updates_at"), "failed_updates", ["at"], unique=False)
    # Users first seen through someone else's update kept Telegram's raw language code ("en-US"), which no
    # catalogue matches; normalise them as the bot now does everywhere.
    op.execute("UPDATE users SET locale = 'en' WHERE locale <> 'en' AND lower(locale) LIKE 'en%'")
    op.execute("UPDATE users SET locale = 'zh-CN' WHERE locale NOT IN ('en', 'zh-CN')")


def downgrade() -> None:
    """Revert."""
    op.drop_index(op.f("ix_failed_updates_at"), table_name="failed_updates")
    op.drop_table("failed_updates")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
