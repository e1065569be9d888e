"""channel-free domain: awaited replies, posts by subject, tagged outbox rows, reachable users

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 23:30:00

What the domain used to keep about Telegram moves to the delivery side, data included:
- `pending` (resolve note, check-in/out) and registration/form steps → `awaiting` (one awaited reply per person);
- the outbox ids of group posts (cases, service orders, group offers) → `posts` (subject × chat → message);
- a sign-up's reminder outbox ids → a `tag` on those outbox rows;
- a user's private chat id → `reachable` (for Telegram the private chat id is the user id);
- a group offer's chat → the unit that chat is bound to.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_PENDING_KINDS = {"resolve": "resolve_note", "checkin": "check_in", "checkout": "check_out"}


def upgrade() -> None:
    """Apply."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    op.create_table(
        "awaiting",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "posts",
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_kind", "subject_id", "chat_id"),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("tag", sa.String(length=64), nullable=True))
        batch.create_index("ix_outbox_tag", ["tag"], unique=False)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("reachable", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("group_offers") as batch:
        batch.add_column(sa.Column("unit_code", sa.String(length=32), nullable=True))

    # --- data
    awaiting: dict[int, tuple[str, str, datetime]] = {}
    for user_id, kind, case_id in bind.execute(sa.text("SELECT user_id, kind, case_id FROM pending")):
        if kind in _PENDING_KINDS:
            awaiting[user_id] = (_PENDING_KINDS[kind], str(case_id), now + timedelta(hours=24))
    for user_id, step in bind.execute(sa.text("SELECT user_id, step FROM volunteers WHERE state = 'draft'")):
        if step in ("phone", "name") and user_id not in awaiting:
            awaiting[user_id] = (f"volunteer_{step}", "", now + timedelta(days=7))
    for (user_id,) in bind.execute(sa.text("SELECT user_id FROM forms WHERE kind = 'activity'")):
        awaiting.setdefault(user_id, ("activity_form", "", now + timedelta(days=7)))
    for user_id, (kind, ref, until) in awaiting.items():
        bind.execute(
            sa.text("INSERT INTO awaiting (user_id, kind, ref, expires_at) VALUES (:u, :k, :r, :e)"),
            {"u": user_id, "k": kind, "r": ref, "e": until},
        )
    bind.execute(sa.text("UPDATE users SET reachable = (private_chat_id IS NOT NULL)"))
    for table, column, kind in (
        ("cases", "post_outbox_id", "case"),
        ("service_orders", "post_outbox_id", "order"),
        ("group_offers", "offer_outbox_id", "offer"),
    ):
        rows = bind.execute(
            sa.text(
                f"SELECT t.id, o.chat_id, o.id FROM {table} t JOIN outbox o ON o.id = t.{column}"  # noqa: S608
            )
        ).all()
        for subject_id, chat_id, outbox_id in rows:
            bind.execute(
                sa.text("INSERT INTO posts (subject_kind, subject_id, chat_id, outbox_id) VALUES (:k, :s, :c, :o)"),
                {"k": kind, "s": subject_id, "c": chat_id, "o": outbox_id},
            )
    bind.execute(
        sa.text("UPDATE group_offers SET unit_code = (SELECT u.code FROM units u WHERE u.chat_id = group_offers.chat_id)")
    )
    for activity_id, user_id, ids in bind.execute(
        sa.text("SELECT activity_id, user_id, reminder_ids FROM signups WHERE reminder_ids IS NOT NULL")
    ):
        if isinstance(ids, str):
            import json

            ids = json.loads(ids)
        for outbox_id in ids or []:
            bind.execute(
                sa.text("UPDATE outbox SET tag = :t WHERE id = :i"),
                {"t": f"remind:{activity_id}:{user_id}", "i": int(outbox_id)},
            )

    # --- what the domain no longer keeps
    op.drop_table("pending")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("private_chat_id")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("post_outbox_id")
    with op.batch_alter_table("service_orders") as batch:
        batch.drop_column("post_outbox_id")
    with op.batch_alter_table("signups") as batch:
        batch.drop_column("reminder_ids")
    with op.batch_alter_table("group_offers") as batch:
        batch.drop_index("ix_group_offers_recent")
        batch.drop_column("offer_outbox_id")
        batch.drop_column("chat_id")
        batch.create_index("ix_group_offers_recent", ["unit_code", "user_id", "created_at"], unique=False)


def downgrade() -> None:
    """Revert the schema (posts, awaited replies and tags are not turned back into the old columns)."""
    with op.batch_alter_table("group_offers") as batch:
        batch.drop_index("ix_group_offers_recent")
        batch.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("offer_outbox_id", sa.BigInteger(), nullable=True))
        batch.drop_column("unit_code")
        batch.create_index("ix_group_offers_recent", ["chat_id", "user_id", "created_at"], unique=False)
    with op.batch_alter_table("signups") as batch:
        batch.add_column(sa.Column("reminder_ids", sa.JSON(), nullable=True))
    with op.batch_alter_table("service_orders") as batch:
        batch.add_column(sa.Column("post_outbox_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("post_outbox_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("private_chat_id", sa.BigInteger(), nullable=True))
        batch.drop_column("reachable")
    op.create_table(
        "pending",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("prompt_outbox_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_tag")
        batch.drop_column("tag")
    op.drop_table("posts")
    op.drop_table("awaiting")
