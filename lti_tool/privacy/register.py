"""The register of processing (art. 30 GDPR) of a deployment, from its settings and tables.

The prose lives in ``register_fr.md`` and ``register_en.md`` (``string.Template``); what
depends on the deployment is filled in here: retention periods, the LRS and Redis hosts
(never a credential), the database, upload limits, and the columns Jalon stores, read from
the tables themselves, so the register cannot fall behind the schema. Every table is either
in a category of personal data or listed as holding none (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from string import Template
from urllib.parse import urlsplit

import sqlalchemy as sa

from lti_tool.certification import models as _certification_models  # noqa: F401 (tables)
from lti_tool.config import Settings
from lti_tool.db import Base
from lti_tool.evaluation import models as _evaluation_models  # noqa: F401 (tables)
from lti_tool.privacy import models as _privacy_models  # noqa: F401 (tables)
from xapi import outbox

LANGUAGES = ("fr", "en")


@dataclass(frozen=True)
class Category:
    """A category of personal data: its name in each language and the tables holding it."""

    fr: str
    en: str
    tables: tuple[str, ...]


CATEGORIES = (
    Category(
        "Identité et rôles transmis par le LMS",
        "Identity and roles sent by the LMS",
        ("lti_users", "lti_memberships"),
    ),
    Category(
        "Travaux : brouillons, versions remises, fichiers joints (octets sur disque)",
        "Work: drafts, versions handed in, attached files (bytes on disk)",
        ("submissions", "submission_versions", "submission_files"),
    ),
    Category(
        "Évaluations, décisions par compétence et progression",
        "Evaluations, decisions per competency and progress",
        ("evaluations", "evaluation_criteria", "evaluation_competencies", "learner_progress"),
    ),
    Category("Notes envoyées au LMS (AGS)", "Grades sent to the LMS (AGS)", ("grade_passbacks",)),
    Category(
        "Déclarations xAPI (acteur pseudonyme : émetteur LTI + sub)",
        "xAPI statements (pseudonymous actor: LTI issuer + sub)",
        (outbox.outbox.name,),
    ),
    Category(
        "Données techniques de session (nonces, données de lancement, sessions d’administration)",
        "Technical session data (nonces, launch data, admin sessions)",
        ("lti_cache", "admin_sessions"),
    ),
    Category(
        "Identité civile des candidats, pour la déclaration à la Caisse des Dépôts (accrochage)",
        "Candidates' civil identity, for the declaration to the Caisse des Dépôts (accrochage)",
        ("holder_identities",),
    ),
    Category(
        "Sessions de certification : jury, candidats, décisions du jury",
        "Certification sessions: jury, candidates, jury decisions",
        ("certification_sessions", "jury_members", "certification_candidates", "jury_decisions"),
    ),
    Category(
        "Titres délivrés (Open Badges 3.0 signés, révocation)",
        "Credentials issued (signed Open Badges 3.0, revocation)",
        ("issued_credentials",),
    ),
    Category(
        "Registre des effacements (empreinte à clé, sans donnée lisible)",
        "Register of erasures (keyed hash, nothing readable)",
        ("erasures",),
    ),
)
# Tables about the tool, the platforms and the courses: no data about a person.
WITHOUT_PERSONAL_DATA = (
    "frameworks",
    "platforms",
    "deployments",
    "tool_keys",
    "lti_contexts",
    "lti_resource_links",
    "placements",
    "course_settings",
    "registration_invites",
    "credential_keys",
    "credential_status_lists",
)


def all_tables() -> dict[str, sa.Table]:
    """Return every table Jalon stores, by name."""
    return {**Base.metadata.tables, **outbox.metadata.tables}


def unclassified() -> set[str]:
    """Return tables neither in a category nor listed as without personal data."""
    known = {t for c in CATEGORIES for t in c.tables} | set(WITHOUT_PERSONAL_DATA)
    return set(all_tables()) - known


def _data(language: str) -> str:
    """Return the categories with each table's columns, as a Markdown list."""
    tables = all_tables()
    lines = []
    for category in CATEGORIES:
        lines.append(f"- **{getattr(category, language)}**")
        for name in category.tables:
            columns = ", ".join(column.name for column in tables[name].columns)
            lines.append(
                f"  - `{name}` : {columns}" if language == "fr" else f"  - `{name}`: {columns}"
            )
    return "\n".join(lines)


def _host(url: str | None) -> str | None:
    """Return the host of a URL, never its credentials or path."""
    if not url:
        return None
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


WORDS = {
    "fr": {
        "no_lrs": "aucun LRS configuré : les déclarations restent dans la file de Jalon et "
        "ne sont transmises à personne",
        "lrs": "`{host}` (JALON_LRS_ENDPOINT)",
        "no_redis": "aucun : les données de lancement et les nonces sont dans la base",
        "redis": "Redis sur `{host}` (données de lancement et nonces, avec leur expiration)",
        "postgresql": "PostgreSQL sur `{host}`",
        "sqlite": "SQLite, un fichier du dossier d’instance",
        "other": "{driver} sur `{host}`",
        "kept": "conservées, pseudonymisées (JALON_ERASURE_KEEP_DECISIONS=true)",
        "erased": "effacées avec le reste (JALON_ERASURE_KEEP_DECISIONS=false)",
    },
    "en": {
        "no_lrs": "no LRS configured: statements stay in Jalon's queue and go to nobody",
        "lrs": "`{host}` (JALON_LRS_ENDPOINT)",
        "no_redis": "none: launch data and nonces are in the database",
        "redis": "Redis on `{host}` (launch data and nonces, with their expiry)",
        "postgresql": "PostgreSQL on `{host}`",
        "sqlite": "SQLite, a file of the instance folder",
        "other": "{driver} on `{host}`",
        "kept": "kept, pseudonymised (JALON_ERASURE_KEEP_DECISIONS=true)",
        "erased": "erased with the rest (JALON_ERASURE_KEEP_DECISIONS=false)",
    },
}


def _database(settings: Settings, words: dict[str, str]) -> str:
    url = sa.engine.make_url(settings.database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return words["sqlite"]
    key = "postgresql" if backend == "postgresql" else "other"
    return words[key].format(host=url.host or "localhost", driver=backend)


def build_register(settings: Settings, language: str = "fr", *, depth: int = 0) -> str:
    """Return the register of processing of this deployment, in French or English.

    ``depth`` pushes every heading down that many levels (to sit inside another document).
    """
    if language not in LANGUAGES:
        raise ValueError(f"no register in {language!r}")
    words = WORDS[language]
    lrs_host = _host(settings.lrs.endpoint) if settings.lrs else None
    redis_host = _host(settings.redis_url)
    template = Template(files("lti_tool.privacy").joinpath(f"register_{language}.md").read_text())
    text = template.substitute(
        site=_host(settings.base_url) or settings.base_url,
        database=_database(settings, words),
        redis=words["redis"].format(host=redis_host) if redis_host else words["no_redis"],
        lrs=words["lrs"].format(host=lrs_host) if lrs_host else words["no_lrs"],
        outbox_days=settings.retention_outbox_days,
        draft_days=settings.retention_draft_days,
        identity_days=settings.certifier.identity_retention_days,
        session_hours=settings.session_max_hours,
        admin_hours=settings.admin_session_hours,
        upload_mb=settings.upload_max_bytes // (1024 * 1024),
        quota_mb=settings.upload_quota_bytes // (1024 * 1024),
        upload_types=", ".join(sorted(settings.upload_types)),
        decisions=words["kept"] if settings.erasure_keep_decisions else words["erased"],
        data=_data(language),
        without_personal_data=", ".join(f"`{name}`" for name in WITHOUT_PERSONAL_DATA),
    ).rstrip()
    if depth:
        text = "\n".join(
            "#" * depth + line if line.startswith("#") else line for line in text.splitlines()
        )
    return text
