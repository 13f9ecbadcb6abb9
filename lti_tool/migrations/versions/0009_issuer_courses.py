"""One course per issuer, deployment and context id; one person per issuer and ``sub``.

Open edX gives each component of a course its own client id, so each component was a
platform row, and Jalon split one course into one course per component and one learner
into one person per component. Courses are now keyed by (issuer, deployment id, context
id) and people by (issuer, sub) — LTI 1.3 makes ``sub`` unique within its issuer and
``context.id`` unique within its deployment — and the rows that named the same course or
person through two client ids are merged. People also get two display claims:
``preferred_username`` and the ``lis`` claim's ``person_sourcedid``.

Merging, the earliest row (lowest id) survives and every child row moves to it. Where a
child would collide with one of the survivor's under a unique key, the most recently
updated wins and the other is deleted: a person's roles in a course (``lti_memberships``,
as of their latest launch), a course's settings (``course_settings``), a learner's
standing on a competency (``learner_progress``, whose next publication recomputes it
from every evaluation of the course). Submissions and evaluations cannot collide: a
resource link belongs to one client id, and so did everyone who launched it; if they
ever did, the migration stops and names the rows rather than lose work.

A course's deployment id is that of its earliest submission (what its statements named),
else the first deployment of its platform. The issuer is stored normalised (trimmed,
without one trailing slash), as registrations store it.

Downgrade gives each course and person back a platform row (the first of the issuer, for
a course the first holding its deployment) and merges the rows that would then collide,
the same way; the display claims are dropped.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 11:30:00
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LATEST, REFUSE = "latest", "refuse"
# Per merged table: (child table, its column pointing there, the other columns of its
# unique key or None if it has none, what wins a collision).
CHILDREN: dict[str, list[tuple[str, str, tuple[str, ...] | None, str]]] = {
    "lti_contexts": [
        ("lti_memberships", "context_id", ("user_id",), LATEST),
        ("course_settings", "context_id", (), LATEST),
        (
            "learner_progress",
            "context_id",
            ("learner_id", "framework_code", "kind", "code"),
            LATEST,
        ),
        ("placements", "context_id", None, LATEST),
        ("submissions", "context_id", None, LATEST),
        ("lti_resource_links", "context_id", None, LATEST),
    ],
    "lti_users": [
        ("lti_memberships", "user_id", ("context_id",), LATEST),
        (
            "learner_progress",
            "learner_id",
            ("context_id", "framework_code", "kind", "code"),
            LATEST,
        ),
        ("submissions", "learner_id", ("resource_link_id",), REFUSE),
        ("evaluations", "evaluator_id", ("version_id",), REFUSE),
        ("grade_passbacks", "learner_id", None, LATEST),
    ],
}


def normalise_issuer(issuer: str) -> str:
    """Return the issuer as registrations store it (a copy: migrations stay as written)."""
    issuer = issuer.strip()
    if issuer.endswith("/") and not issuer.endswith("//"):
        return issuer[:-1]
    return issuer


def _table(name: str) -> sa.Table:
    """Return the table as the database has it now."""
    return sa.Table(name, sa.MetaData(), autoload_with=op.get_bind())


def _merge_child(
    connection: sa.Connection,
    child: sa.Table,
    column: str,
    unique: tuple[str, ...] | None,
    wins: str,
    loser: int,
    survivor: int,
) -> None:
    """Move one child table's rows from ``loser`` to ``survivor``, settling collisions."""
    fk = child.c[column]
    if unique is not None:
        rows = connection.execute(sa.select(child).where(fk == loser)).mappings().all()
        for row in rows:
            same = [child.c[name] == row[name] for name in unique]
            kept = connection.execute(sa.select(child).where(fk == survivor, *same)).mappings()
            other = kept.first()
            if other is None:
                continue
            if wins == REFUSE:
                raise RuntimeError(
                    f"{child.name} rows {row.get('id')} and {other.get('id')} collide when "
                    f"merging {column} {loser} into {survivor}: merge them by hand first"
                )
            # The most recently updated wins; a tie keeps the survivor's.
            loser_wins = row["updated_at"] is not None and (
                other["updated_at"] is None or row["updated_at"] > other["updated_at"]
            )
            delete_from = survivor if loser_wins else loser
            connection.execute(sa.delete(child).where(fk == delete_from, *same))
    connection.execute(sa.update(child).where(fk == loser).values({column: survivor}))


def _merge(connection: sa.Connection, table: str, groups: Iterable[Sequence[int]]) -> None:
    """Merge each group of rows of ``table`` into its lowest id, children included."""
    children = [(_table(name), *rest) for name, *rest in CHILDREN[table]]
    parent = _table(table)
    for group in groups:
        survivor, *losers = sorted(group)
        for loser in losers:
            for child, column, unique, wins in children:
                _merge_child(connection, child, column, unique, wins, loser, survivor)
            connection.execute(sa.delete(parent).where(parent.c.id == loser))


def _duplicates(
    connection: sa.Connection, table: str, key: Callable[[Any], tuple[Any, ...]]
) -> list[list[int]]:
    """Return the groups of ids of ``table`` whose rows share a key."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for row in connection.execute(sa.select(_table(table))).mappings():
        groups.setdefault(key(row), []).append(row["id"])
    return [ids for ids in groups.values() if len(ids) > 1]


def _check_foreign_keys(connection: sa.Connection) -> None:
    """Stop if a row lost its parent (SQLite migrates without enforcing foreign keys)."""
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"rows without their parent: {sorted({r[0] for r in broken})}")


def upgrade() -> None:
    connection = op.get_bind()
    with op.batch_alter_table("lti_contexts") as batch:
        batch.add_column(sa.Column("issuer", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("deployment_id", sa.String(length=255), nullable=True))
    with op.batch_alter_table("lti_users") as batch:
        batch.add_column(sa.Column("issuer", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("preferred_username", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("person_sourcedid", sa.String(length=255), nullable=True))

    platforms = _table("platforms")
    issuers = {
        row.id: normalise_issuer(row.issuer)
        for row in connection.execute(sa.select(platforms.c.id, platforms.c.issuer))
    }
    deployments = _table("deployments")
    first_deployment: dict[int, str] = {}
    for row in connection.execute(
        sa.select(deployments.c.platform_id, deployments.c.deployment_id).order_by(deployments.c.id)
    ):
        first_deployment.setdefault(row.platform_id, row.deployment_id)
    submissions = _table("submissions")
    submitted: dict[int, str] = {}
    for row in connection.execute(
        sa.select(submissions.c.context_id, submissions.c.deployment_id).order_by(submissions.c.id)
    ):
        submitted.setdefault(row.context_id, row.deployment_id)

    contexts, users = _table("lti_contexts"), _table("lti_users")
    for row in connection.execute(sa.select(contexts.c.id, contexts.c.platform_id)).all():
        deployment = submitted.get(row.id) or first_deployment.get(row.platform_id, "")
        connection.execute(
            sa.update(contexts)
            .where(contexts.c.id == row.id)
            .values(issuer=issuers[row.platform_id], deployment_id=deployment)
        )
    for row in connection.execute(sa.select(users.c.id, users.c.platform_id)).all():
        connection.execute(
            sa.update(users).where(users.c.id == row.id).values(issuer=issuers[row.platform_id])
        )

    _merge(
        connection,
        "lti_contexts",
        _duplicates(
            connection, "lti_contexts", lambda r: (r["issuer"], r["deployment_id"], r["context_id"])
        ),
    )
    _merge(
        connection,
        "lti_users",
        _duplicates(connection, "lti_users", lambda r: (r["issuer"], r["sub"])),
    )

    with op.batch_alter_table("lti_contexts") as batch:
        batch.drop_constraint("uq_lti_contexts_platform_id", type_="unique")
        batch.drop_constraint("fk_lti_contexts_platform_id_platforms", type_="foreignkey")
        batch.drop_column("platform_id")
        batch.alter_column("issuer", existing_type=sa.String(length=255), nullable=False)
        batch.alter_column("deployment_id", existing_type=sa.String(length=255), nullable=False)
        batch.create_unique_constraint(
            "uq_lti_contexts_issuer", ["issuer", "deployment_id", "context_id"]
        )
    with op.batch_alter_table("lti_users") as batch:
        batch.drop_constraint("uq_lti_users_platform_id", type_="unique")
        batch.drop_constraint("fk_lti_users_platform_id_platforms", type_="foreignkey")
        batch.drop_column("platform_id")
        batch.alter_column("issuer", existing_type=sa.String(length=255), nullable=False)
        batch.create_unique_constraint("uq_lti_users_issuer", ["issuer", "sub"])
    _check_foreign_keys(connection)


def downgrade() -> None:
    connection = op.get_bind()
    with op.batch_alter_table("lti_contexts") as batch:
        batch.add_column(sa.Column("platform_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("lti_users") as batch:
        batch.add_column(sa.Column("platform_id", sa.Integer(), nullable=True))

    platforms, deployments = _table("platforms"), _table("deployments")
    by_issuer: dict[str, list[int]] = {}
    for row in connection.execute(
        sa.select(platforms.c.id, platforms.c.issuer).order_by(platforms.c.id)
    ):
        by_issuer.setdefault(normalise_issuer(row.issuer), []).append(row.id)
    holding: dict[tuple[int, str], bool] = {
        (row.platform_id, row.deployment_id): True
        for row in connection.execute(
            sa.select(deployments.c.platform_id, deployments.c.deployment_id)
        )
    }
    contexts, users = _table("lti_contexts"), _table("lti_users")
    for row in connection.execute(
        sa.select(contexts.c.id, contexts.c.issuer, contexts.c.deployment_id)
    ).all():
        candidates = by_issuer.get(row.issuer, [])
        platform = next(
            (p for p in candidates if (p, row.deployment_id) in holding),
            candidates[0] if candidates else None,
        )
        connection.execute(
            sa.update(contexts).where(contexts.c.id == row.id).values(platform_id=platform)
        )
    for row in connection.execute(sa.select(users.c.id, users.c.issuer)).all():
        candidates = by_issuer.get(row.issuer, [])
        connection.execute(
            sa.update(users)
            .where(users.c.id == row.id)
            .values(platform_id=candidates[0] if candidates else None)
        )
    # Removing an issuer's last platform removes its courses and people: none is left
    # without one, unless rows were deleted by hand.
    for table in (contexts, users):
        orphans = connection.scalar(
            sa.select(sa.func.count()).select_from(table).where(table.c.platform_id.is_(None))
        )
        if orphans:
            raise RuntimeError(
                f"{orphans} {table.name} rows belong to an issuer without a platform: "
                "register a platform of that issuer, or delete them, before downgrading"
            )
    _merge(
        connection,
        "lti_contexts",
        _duplicates(connection, "lti_contexts", lambda r: (r["platform_id"], r["context_id"])),
    )
    _merge(
        connection,
        "lti_users",
        _duplicates(connection, "lti_users", lambda r: (r["platform_id"], r["sub"])),
    )

    with op.batch_alter_table("lti_users") as batch:
        batch.drop_constraint("uq_lti_users_issuer", type_="unique")
        batch.drop_column("person_sourcedid")
        batch.drop_column("preferred_username")
        batch.drop_column("issuer")
        batch.alter_column("platform_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            "fk_lti_users_platform_id_platforms",
            "platforms",
            ["platform_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint("uq_lti_users_platform_id", ["platform_id", "sub"])
    with op.batch_alter_table("lti_contexts") as batch:
        batch.drop_constraint("uq_lti_contexts_issuer", type_="unique")
        batch.drop_column("deployment_id")
        batch.drop_column("issuer")
        batch.alter_column("platform_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            "fk_lti_contexts_platform_id_platforms",
            "platforms",
            ["platform_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint("uq_lti_contexts_platform_id", ["platform_id", "context_id"])
    _check_foreign_keys(connection)
