"""The register of processing: filled from the settings and the tables, never a credential."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from lti_tool.cli import main
from lti_tool.config import LrsSettings, Settings
from lti_tool.privacy.register import CATEGORIES, all_tables, build_register, unclassified
from tests.conftest import REPO

EXAMPLE = Settings(
    secret_key="an-example-secret-key",
    database_url="postgresql+psycopg://jalon@db.internal/jalon",
    base_url="https://jalon.example.org",
    redis_url="redis://redis.internal:6379/0",
    lrs=LrsSettings("https://lrs.example.org/xAPI/", "jalon", "an-example-password"),
)
INTRO = """\
# RGPD : le registre des traitements / GDPR: the record of processing

Voici le registre des activités de traitement (article 30 du RGPD) d’un organisme qui
déploie Jalon, tel que `jalon rgpd register` l’écrit pour un déploiement d’exemple
(PostgreSQL sur `db.internal`, Redis, un LRS, les durées par défaut). Sur votre serveur,
la commande l’écrit avec vos réglages : durées de conservation, hôtes du LRS, de la base et
de Redis, limites des fichiers remis, colonnes des tables. Complétez ce qui est entre
crochets (responsable, sous-traitants, bases légales, durées que Jalon ne fixe pas) et
tenez-le à jour à chaque changement de réglage. `--lang fr` ou `--lang en` n’en écrit
qu’une langue.

Below, French first, then English: the record of processing activities (GDPR article 30) of
an organisation that deploys Jalon, as `jalon rgpd register` writes it for an example
deployment. On your server the command writes it with your settings; fill in what is in
square brackets and keep it current when a setting changes.
"""


def test_every_table_is_classified() -> None:
    """A new table must say whether it holds personal data before the register is right."""
    assert unclassified() == set()
    assert all(name in all_tables() for category in CATEGORIES for name in category.tables)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_register_lists_every_column_of_personal_data(language: str) -> None:
    text = build_register(EXAMPLE, language)
    for category in CATEGORIES:
        assert getattr(category, language) in text
        for name in category.tables:
            columns = ", ".join(column.name for column in all_tables()[name].columns)
            assert f"`{name}`" in text
            assert columns in text
    assert "email" in text
    assert "reviewed_at" in text


def test_the_register_follows_the_settings() -> None:
    changed = dataclasses.replace(
        EXAMPLE,
        retention_outbox_days=7,
        retention_draft_days=365,
        upload_max_bytes=5 * 1024 * 1024,
        upload_quota_bytes=50 * 1024 * 1024,
        erasure_keep_decisions=False,
    )
    text = build_register(changed, "fr")
    assert "| Déclarations xAPI délivrées au LRS | 7 jours après la livraison" in text
    assert "| Brouillons et leurs fichiers, apprenants partis du cours | 365 jours" in text
    assert "au plus 5 Mo par fichier et\n50 Mo par apprenant" in text
    assert "effacées avec le reste (JALON_ERASURE_KEEP_DECISIONS=false)" in text
    english = build_register(changed, "en")
    assert "| Grades the LMS accepted | 7 days after acceptance |" in english


def test_without_an_lrs_or_redis_the_register_says_so() -> None:
    bare = dataclasses.replace(
        EXAMPLE, lrs=None, redis_url=None, database_url="sqlite:///instance/jalon.db"
    )
    text = build_register(bare, "fr")
    assert "**LRS** : aucun LRS configuré" in text
    assert "Base de données : SQLite" in text
    assert "Cache partagé : aucun" in text
    assert "lrs.example.org" not in text


def test_the_command_prints_both_languages_and_never_a_credential(tmp_path: Path) -> None:
    env = {
        "JALON_SECRET_KEY": "",
        "JALON_INSTANCE_PATH": str(tmp_path),
        "JALON_BASE_URL": "https://jalon.example.org",
        "JALON_DATABASE_URL": "postgresql+psycopg://jalon:db-password@db.internal/jalon",
        "JALON_REDIS_URL": "redis://:redis-password@redis.internal:6379/0",
        "JALON_LRS_ENDPOINT": "https://lrs.example.org/xAPI/",
        "JALON_LRS_USERNAME": "lrs-user",
        "JALON_LRS_PASSWORD": "lrs-password",
        "JALON_RETENTION_OUTBOX_DAYS": "45",
    }
    result = CliRunner(env=env).invoke(main, ["rgpd", "register"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.index("# Registre des activités de traitement") < text.index(
        "# Record of processing activities"
    )
    assert "`lrs.example.org` (JALON_LRS_ENDPOINT)" in text
    assert "PostgreSQL sur `db.internal`" in text
    assert "Redis on `redis.internal`" in text
    assert "45 jours après la livraison" in text
    for secret in ("db-password", "redis-password", "lrs-password", "lrs-user"):
        assert secret not in text
    english = CliRunner(env=env).invoke(main, ["rgpd", "register", "--lang", "en"]).output
    assert english.startswith("# Record of processing activities — Jalon at jalon.example.org")
    assert "Registre" not in english


def test_a_wrong_setting_is_named() -> None:
    env = {"JALON_SECRET_KEY": "", "JALON_RETENTION_DRAFT_DAYS": "forever"}
    result = CliRunner(env=env).invoke(main, ["rgpd", "register"])
    assert result.exit_code == 1
    assert "JALON_RETENTION_DRAFT_DAYS must be a whole number of days" in result.output


def test_docs_rgpd_is_the_register_of_the_example_deployment() -> None:
    """docs/rgpd.md is what the command writes for the example: it cannot fall behind."""
    doc = (REPO / "docs" / "rgpd.md").read_text(encoding="utf-8")
    parts = [INTRO.rstrip()] + [build_register(EXAMPLE, lang, depth=1) for lang in ("fr", "en")]
    assert doc == "\n\n".join(parts) + "\n", (
        "regenerate it: python -m tests.lti_tool.privacy.test_register"
    )


def write_doc() -> None:
    """Write docs/rgpd.md from the example deployment."""
    parts = [INTRO.rstrip()] + [build_register(EXAMPLE, lang, depth=1) for lang in ("fr", "en")]
    (REPO / "docs" / "rgpd.md").write_text("\n\n".join(parts) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_doc()
