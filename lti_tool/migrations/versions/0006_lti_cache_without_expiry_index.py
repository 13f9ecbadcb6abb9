"""The LTI cache loses its index on expiry: every launch paid for it, one purge used it.

Each launch writes two ``lti_cache`` rows (its used nonce and its data); the index on
``expires_at`` cost every launch one more page written at commit (51 µs of a 2.1 ms login +
launch on SQLite, measured in paired runs). Only the purge of expired rows read it, at most
once every five minutes per process, and it now scans the table instead.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 17:40:00
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lti_cache") as batch:
        batch.drop_index(batch.f("ix_lti_cache_expires_at"))


def downgrade() -> None:
    with op.batch_alter_table("lti_cache") as batch:
        batch.create_index(batch.f("ix_lti_cache_expires_at"), ["expires_at"], unique=False)
