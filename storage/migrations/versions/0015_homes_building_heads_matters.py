"""compounds, buildings, homes, building heads, matters (议事) and ballots, property ratings and checks

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
At = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "compounds",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("grid_code", sa.String(length=64), sa.ForeignKey("units.code"), nullable=False),
        sa.Column("property_code", sa.String(length=64), nullable=True),
        sa.Column("geometry", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_compounds_grid_code", "compounds", ["grid_code"])
    op.create_table(
        "buildings",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("compound_code", sa.String(length=64), sa.ForeignKey("compounds.code"), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_buildings_compound_code", "buildings", ["compound_code"])
    op.create_table(
        "homes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigId, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("building_code", sa.String(length=64), sa.ForeignKey("buildings.code"), nullable=False),
        sa.Column("entrance", sa.String(length=8), nullable=False),
        sa.Column("room", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("created_at", At, nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", At, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "building_code", "entrance", "room"),
    )
    op.create_index("ix_homes_user_id", "homes", ["user_id"])
    op.create_index("ix_homes_building_state", "homes", ["building_code", "state"])
    op.create_table(
        "building_heads",
        sa.Column("building_code", sa.String(length=64), sa.ForeignKey("buildings.code"), nullable=False),
        sa.Column("user_id", BigId, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("named_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", At, nullable=False),
        sa.PrimaryKeyConstraint("building_code", "user_id"),
    )
    op.create_index("ix_building_heads_user_id", "building_heads", ["user_id"])
    op.create_table(
        "matters",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("unit_code", sa.String(length=64), sa.ForeignKey("units.code"), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("scope_level", sa.String(length=12), nullable=False),
        sa.Column("scope_code", sa.String(length=64), nullable=False),
        sa.Column("per", sa.String(length=12), nullable=False),
        sa.Column("quorum_pct", sa.Integer(), nullable=False),
        sa.Column("created_at", At, nullable=False),
        sa.Column("opens_at", At, nullable=True),
        sa.Column("closes_at", At, nullable=True),
        sa.Column("proposer_id", sa.BigInteger(), nullable=True),
        sa.Column("opened_by", sa.BigInteger(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("eligible", sa.Integer(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_matters_unit_code", "matters", ["unit_code"])
    op.create_index("ix_matters_state_closes", "matters", ["state", "closes_at"])
    op.create_table(
        "ballots",
        sa.Column("matter_id", BigId, sa.ForeignKey("matters.id"), nullable=False),
        sa.Column("voter_key", sa.String(length=96), nullable=False),
        sa.Column("option", sa.Integer(), nullable=False),
        sa.Column("cast_by", sa.BigInteger(), nullable=False),
        sa.Column("cast_at", At, nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("matter_id", "voter_key"),
    )
    op.create_table(
        "matter_follow_ups",
        sa.Column("matter_id", BigId, sa.ForeignKey("matters.id"), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("case_number", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("matter_id", "index"),
    )
    op.create_index("ix_matter_follow_ups_case_id", "matter_follow_ups", ["case_id"])
    op.create_table(
        "rating_rounds",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("quarter", sa.String(length=8), nullable=False),
        sa.Column("compound_code", sa.String(length=64), sa.ForeignKey("compounds.code"), nullable=False),
        sa.Column("company_code", sa.String(length=64), sa.ForeignKey("units.code"), nullable=False),
        sa.Column("opens_at", At, nullable=False),
        sa.Column("closes_at", At, nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("quarter", "compound_code"),
    )
    op.create_index("ix_rating_rounds_quarter", "rating_rounds", ["quarter"])
    op.create_index("ix_rating_rounds_due", "rating_rounds", ["state", "closes_at"])
    op.create_table(
        "rating_answers",
        sa.Column("round_id", BigId, sa.ForeignKey("rating_rounds.id"), nullable=False),
        sa.Column("user_id", BigId, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", At, nullable=False),
        sa.PrimaryKeyConstraint("round_id", "user_id"),
    )
    op.create_table(
        "assessment_checks",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("company_code", sa.String(length=64), sa.ForeignKey("units.code"), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("by", sa.BigInteger(), nullable=False),
        sa.Column("at", At, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_assessment_checks_company", "assessment_checks", ["company_code", "period"])
    op.create_table(
        "block_teams",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("grid_code", sa.String(length=64), sa.ForeignKey("units.code"), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", At, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_block_teams_grid_code", "block_teams", ["grid_code"])
    op.create_table(
        "block_team_buildings",
        sa.Column("building_code", sa.String(length=64), sa.ForeignKey("buildings.code"), nullable=False),
        sa.Column("team_id", BigId, sa.ForeignKey("block_teams.id"), nullable=False),
        sa.PrimaryKeyConstraint("building_code"),
    )
    op.create_index("ix_block_team_buildings_team_id", "block_team_buildings", ["team_id"])
    op.create_table(
        "block_team_members",
        sa.Column("team_id", BigId, sa.ForeignKey("block_teams.id"), nullable=False),
        sa.Column("user_id", BigId, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id"),
    )
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("on_behalf", sa.String(length=80), nullable=True))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("on_behalf")
    for table in ("block_team_members", "block_team_buildings", "block_teams", "assessment_checks", "rating_answers", "rating_rounds", "matter_follow_ups", "ballots", "matters", "building_heads", "homes", "buildings", "compounds"):
        op.drop_table(table)
