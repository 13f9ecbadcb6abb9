"""Placements: the épreuves Jalon placed in a course by deep linking, before any launch.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:20:00
"""

import sqlalchemy as sa
from alembic import op

from lti_tool.db import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "placements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("framework_code", sa.String(length=100), nullable=False),
        sa.Column("epreuve_code", sa.String(length=50), nullable=False),
        sa.Column("competencies", sa.JSON(), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("placed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["lti_contexts.id"],
            name=op.f("fk_placements_context_id_lti_contexts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placements")),
    )
    op.create_index(op.f("ix_placements_context_id"), "placements", ["context_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_placements_context_id"), table_name="placements")
    op.drop_table("placements")
