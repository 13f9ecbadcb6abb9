"""Dead letters can be reviewed: the retention purge removes only those an administrator saw.

A dead letter is a statement the LRS refused; it stays until someone reads why. Once an
administrator acknowledges it (the xAPI journal's button), ``reviewed_at`` starts the
retention (``JALON_RETENTION_OUTBOX_DAYS``) after which the purge removes it. Retrying a
dead letter clears the review.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 14:30:00
"""

import sqlalchemy as sa
from alembic import op

from xapi.columns import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("xapi_outbox") as batch:
        batch.add_column(sa.Column("reviewed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("xapi_outbox") as batch:
        batch.drop_column("reviewed_at")
