"""Frameworks: imported référentiels kept as their file document.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from lti_tool.db import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "frameworks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frameworks")),
        sa.UniqueConstraint("code", "version", name="uq_frameworks_code_version"),
    )
    with op.batch_alter_table("frameworks") as batch:
        batch.create_index(batch.f("ix_frameworks_code"), ["code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("frameworks") as batch:
        batch.drop_index(batch.f("ix_frameworks_code"))
    op.drop_table("frameworks")
