"""Hardening: platforms wait for an administrator, registration invitations, admin sessions
kept server-side, the origins a platform's services may live on, and the course setting that
lets teaching assistants evaluate.

Platforms registered before this revision were already in use: they stay active.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 08:50:00
"""

import sqlalchemy as sa
from alembic import op

from lti_tool.db import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("platforms") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=20), nullable=False, server_default="active")
        )
        batch.add_column(sa.Column("activated_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("service_origins", sa.JSON(), nullable=True))
    with op.batch_alter_table("course_settings") as batch:
        batch.add_column(
            sa.Column(
                "teaching_assistants_evaluate",
                sa.Boolean(),
                nullable=False,
                server_default=sa.true(),
            )
        )
    op.create_table(
        "registration_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("platform_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_registration_invites_platform_id_platforms"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_invites")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_registration_invites_token_hash")),
    )
    op.create_table(
        "admin_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_sessions")),
    )


def downgrade() -> None:
    op.drop_table("admin_sessions")
    op.drop_table("registration_invites")
    with op.batch_alter_table("course_settings") as batch:
        batch.drop_column("teaching_assistants_evaluate")
    with op.batch_alter_table("platforms") as batch:
        batch.drop_column("service_origins")
        batch.drop_column("activated_at")
        batch.drop_column("status")
