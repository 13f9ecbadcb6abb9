"""LTI launches: contexts, users, memberships and resource links.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from lti_tool.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lti_contexts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("title", sa.String(length=1024), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_lti_contexts_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_contexts")),
        sa.UniqueConstraint("platform_id", "context_id", name="uq_lti_contexts_platform_id"),
    )
    op.create_table(
        "lti_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("given_name", sa.String(length=255), nullable=True),
        sa.Column("family_name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_lti_users_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_users")),
        sa.UniqueConstraint("platform_id", "sub", name="uq_lti_users_platform_id"),
    )
    op.create_table(
        "lti_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("is_staff", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["lti_contexts.id"],
            name=op.f("fk_lti_memberships_context_id_lti_contexts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_users.id"],
            name=op.f("fk_lti_memberships_user_id_lti_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_memberships")),
        sa.UniqueConstraint("context_id", "user_id", name="uq_lti_memberships_context_id"),
    )
    with op.batch_alter_table("lti_memberships") as batch:
        batch.create_index(batch.f("ix_lti_memberships_user_id"), ["user_id"], unique=False)
    op.create_table(
        "lti_resource_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=True),
        sa.Column("resource_link_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=1024), nullable=True),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("lineitem_url", sa.String(length=1024), nullable=True),
        sa.Column("lineitems_url", sa.String(length=1024), nullable=True),
        sa.Column("ags_scopes", sa.JSON(), nullable=False),
        sa.Column("memberships_url", sa.String(length=1024), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_lti_resource_links_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["lti_contexts.id"],
            name=op.f("fk_lti_resource_links_context_id_lti_contexts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_resource_links")),
        sa.UniqueConstraint(
            "platform_id", "resource_link_id", name="uq_lti_resource_links_platform_id"
        ),
    )
    with op.batch_alter_table("lti_resource_links") as batch:
        batch.create_index(
            batch.f("ix_lti_resource_links_context_id"), ["context_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("lti_resource_links") as batch:
        batch.drop_index(batch.f("ix_lti_resource_links_context_id"))
    op.drop_table("lti_resource_links")
    with op.batch_alter_table("lti_memberships") as batch:
        batch.drop_index(batch.f("ix_lti_memberships_user_id"))
    op.drop_table("lti_memberships")
    op.drop_table("lti_users")
    op.drop_table("lti_contexts")
