"""Certification back-office: jury sessions, members, candidates and decisions; holder
identities for the accrochage file; credential keys, status lists and issued credentials.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 17:00:00
"""

import sqlalchemy as sa
from alembic import op

from lti_tool.db import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certification_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("framework_code", sa.String(length=100), nullable=False),
        sa.Column("framework_version", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("exam_postal_code", sa.String(length=5), nullable=True),
        sa.Column("exam_mode", sa.String(length=20), nullable=True),
        sa.Column("exam_start", sa.Date(), nullable=True),
        sa.Column("exam_end", sa.Date(), nullable=True),
        sa.Column("jury_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=True),
        sa.Column("signed_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_sessions")),
    )
    op.create_table(
        "credential_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=100), nullable=False),
        sa.Column("private_key_pem", sa.Text(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_credential_keys_key_id")),
    )
    op.create_table(
        "credential_status_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("bits", sa.LargeBinary(), nullable=False),
        sa.Column("next_index", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_status_lists")),
    )
    op.create_table(
        "certification_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("badge_email", sa.String(length=320), nullable=True),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["lti_contexts.id"],
            name=op.f("fk_certification_candidates_context_id_lti_contexts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["lti_users.id"],
            name=op.f("fk_certification_candidates_learner_id_lti_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["certification_sessions.id"],
            name=op.f("fk_certification_candidates_session_id_certification_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_candidates")),
        sa.UniqueConstraint(
            "session_id", "learner_id", name=op.f("uq_certification_candidates_session_id")
        ),
    )
    with op.batch_alter_table("certification_candidates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certification_candidates_learner_id"), ["learner_id"], unique=False
        )

    op.create_table(
        "holder_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("birth_name", sa.String(length=60), nullable=False),
        sa.Column("usage_name", sa.String(length=60), nullable=True),
        sa.Column("first_name_1", sa.String(length=60), nullable=False),
        sa.Column("first_name_2", sa.String(length=60), nullable=True),
        sa.Column("first_name_3", sa.String(length=60), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("birth_month", sa.Integer(), nullable=True),
        sa.Column("birth_day", sa.Integer(), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("birth_insee_code", sa.String(length=5), nullable=True),
        sa.Column("birth_postal_code", sa.String(length=5), nullable=True),
        sa.Column("birth_city", sa.String(length=100), nullable=True),
        sa.Column("birth_country_code", sa.String(length=3), nullable=True),
        sa.Column("access_route", sa.String(length=60), nullable=True),
        sa.Column("vae_route", sa.String(length=20), nullable=True),
        sa.Column("registration_initiative", sa.String(length=20), nullable=True),
        sa.Column("registration_date", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("delete_after", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["lti_users.id"],
            name=op.f("fk_holder_identities_learner_id_lti_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holder_identities")),
        sa.UniqueConstraint("learner_id", name=op.f("uq_holder_identities_learner_id")),
    )
    op.create_table(
        "jury_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("quality", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["certification_sessions.id"],
            name=op.f("fk_jury_members_session_id_certification_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jury_members")),
    )
    with op.batch_alter_table("jury_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jury_members_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "jury_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("is_validated", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=255), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["certification_candidates.id"],
            name=op.f("fk_jury_decisions_candidate_id_certification_candidates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["jury_decisions.id"],
            name=op.f("fk_jury_decisions_supersedes_id_jury_decisions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jury_decisions")),
    )
    with op.batch_alter_table("jury_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jury_decisions_candidate_id"),
            ["candidate_id", "scope", "code"],
            unique=False,
        )

    op.create_table(
        "issued_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("status_list_id", sa.Integer(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=100), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revocation_reason", sa.String(length=300), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["jury_decisions.id"],
            name=op.f("fk_issued_credentials_decision_id_jury_decisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["lti_users.id"],
            name=op.f("fk_issued_credentials_learner_id_lti_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["issued_credentials.id"],
            name=op.f("fk_issued_credentials_replaces_id_issued_credentials"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["status_list_id"],
            ["credential_status_lists.id"],
            name=op.f("fk_issued_credentials_status_list_id_credential_status_lists"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_credentials")),
        sa.UniqueConstraint("public_id", name=op.f("uq_issued_credentials_public_id")),
        sa.UniqueConstraint(
            "status_list_id", "status_index", name=op.f("uq_issued_credentials_status_list_id")
        ),
    )
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_issued_credentials_decision_id"), ["decision_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_issued_credentials_learner_id"), ["learner_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_credentials_learner_id"))
        batch_op.drop_index(batch_op.f("ix_issued_credentials_decision_id"))

    op.drop_table("issued_credentials")
    with op.batch_alter_table("jury_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jury_decisions_candidate_id"))

    op.drop_table("jury_decisions")
    with op.batch_alter_table("jury_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jury_members_session_id"))

    op.drop_table("jury_members")
    op.drop_table("holder_identities")
    with op.batch_alter_table("certification_candidates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certification_candidates_learner_id"))

    op.drop_table("certification_candidates")
    op.drop_table("credential_status_lists")
    op.drop_table("credential_keys")
    op.drop_table("certification_sessions")
