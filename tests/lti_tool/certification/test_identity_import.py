"""``jalon certification candidats import``: the school's CSV, all or nothing, errors located."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from lti_tool.certification.identity_import import COLUMNS, birth_date
from lti_tool.certification.models import HolderIdentity
from lti_tool.cli import main
from lti_tool.db import Database
from tests.lti_tool.certification import identity_rows
from tests.lti_tool.certification.identity_rows import Scene

HEADER = (
    "email;identifiant;nom_naissance;prenom1;date_naissance;sexe;code_insee_naissance;voie_acces"
)


@pytest.fixture
def env(tmp_path: Path, database_url: str, clean_database: Database) -> dict[str, str]:
    return {
        "JALON_DATABASE_URL": database_url,
        "JALON_INSTANCE_PATH": str(tmp_path),
        "JALON_BASE_URL": "https://jalon.test",
        "JALON_SECRET_KEY": "",
    }


@pytest.fixture
def scene(clean_database: Database) -> Scene:
    return identity_rows.scene(clean_database)


def run(env: dict[str, str], tmp_path: Path, content: bytes, *args: str) -> Result:
    path = tmp_path / "candidats.csv"
    path.write_bytes(content)
    return CliRunner(env=env).invoke(
        main, ["certification", "candidats", "import", str(path), *args]
    )


def stored(database: Database) -> dict[int, HolderIdentity]:
    with database.session() as db:
        return {i.learner_id: i for i in db.scalars(sa.select(HolderIdentity))}


def test_the_template_is_the_header_line(env: dict[str, str]) -> None:
    result = CliRunner(env=env).invoke(main, ["certification", "candidats", "template"])
    assert result.exit_code == 0
    assert result.output == ";".join(COLUMNS) + "\n"
    assert result.output.startswith("email;identifiant;nom_naissance;nom_usage;prenom1;")


def test_a_file_with_bom_and_semicolons_stores_each_candidate(
    env: dict[str, str], tmp_path: Path, clean_database: Database, scene: Scene
) -> None:
    text = "\n".join(
        [
            "Email ; Identifiant ; Nom_Naissance ; Prénom1 ; Date_Naissance ; Sexe ; "
            "Code_INSEE_Naissance ; Voie_Accès",
            # The e-mail as the LMS sent it, whatever its case; a login for the other one.
            "camille@example.EDU;;Dupré;Camille;14/05/1990;F;75056;VAE",
            ";hdurand;Durand;Hugo;1988-02-29;m;2B033;CANDIDAT_LIBRE",
            "",
        ]
    )
    result = run(env, tmp_path, b"\xef\xbb\xbf" + text.encode(), "--session", str(scene.session_id))
    assert result.exit_code == 0, result.output
    assert "stored 2 identities (2 new, 0 replaced)" in result.output
    found = stored(clean_database)
    assert set(found) == {scene.first, scene.second}
    camille, hugo = found[scene.first], found[scene.second]
    assert (camille.birth_name, camille.birth_year, camille.birth_month, camille.birth_day) == (
        "Dupré",
        1990,
        5,
        14,
    )
    assert (camille.source, camille.access_route, camille.delete_after) == ("csv", "VAE", None)
    assert (hugo.sex, hugo.birth_insee_code, hugo.birth_day) == ("M", "2B033", 29)
    # The same file again replaces, and adds nothing.
    again = run(env, tmp_path, text.encode(), "--session", str(scene.session_id))
    assert "(0 new, 2 replaced)" in again.output


def test_commas_and_partial_dates(
    env: dict[str, str], tmp_path: Path, clean_database: Database, scene: Scene
) -> None:
    text = (
        "email,nom_naissance,prenom1,prenom2,date_naissance\n"
        'camille@example.edu,"Dupré, dite Cam",Camille,Ana,1990\n'
    )
    result = run(env, tmp_path, text.encode(), "--session", str(scene.session_id))
    assert result.exit_code == 0, result.output
    camille = stored(clean_database)[scene.first]
    assert (camille.birth_name, camille.first_name_2) == ("Dupré, dite Cam", "Ana")
    assert (camille.birth_year, camille.birth_month) == (1990, None)


def test_any_error_and_nothing_is_written_every_error_located(
    env: dict[str, str], tmp_path: Path, clean_database: Database, scene: Scene
) -> None:
    text = "\n".join(
        [
            HEADER,
            "camille@example.edu;;Dupré;Camille;14/05/1990;F;75056;VAE",  # right
            ";hdurand;Du\x01rand;Hugo;31/02/1988;X;7505;APPRENTI",
            "zoe@example.edu;;Autre;Zoé;01/01/1991;F;75056;VAE",  # not a candidate
            "CAMILLE@example.edu;;Dupré;Camille;14/05/1990;F;75056;VAE",  # named twice
            "camille@example.edu;hdurand;Dupré;Camille;14/05/1990;F;75056;VAE",
            "nobody;;;;;;;",
        ]
    )
    result = run(env, tmp_path, text.encode(), "--session", str(scene.session_id))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    expected = [
        "ligne 3, colonne nom_naissance : contient un caractère que le XML 1.0 ne peut pas "
        "porter (U+0001).",
        "ligne 3, colonne sexe : n’est pas une valeur permise (M, F).",
        "ligne 3, colonne code_insee_naissance : doit être un code INSEE",
        "ligne 3, colonne voie_acces : n’est pas une valeur permise",
        "ligne 4, colonne email : aucun candidat de la session ne correspond",
        "ligne 5 : même candidat qu’à la ligne 2",
        "ligne 6, colonne identifiant : ne désigne pas le candidat de l’adresse",
        "ligne 7, colonne email : aucun candidat de la session ne correspond",
        "ligne 7, colonne nom_naissance : est obligatoire.",
    ]
    for wanted in expected:
        assert any(line.startswith(wanted) for line in lines), (wanted, result.output)
    assert "error(s) in candidats.csv; nothing imported" in result.output
    # Nothing was written, not even the right row; and no value is echoed.
    assert stored(clean_database) == {}
    for value in ("Dupré", "Camille", "75056", "zoe@example.edu", "hdurand"):
        assert value not in result.output


def test_a_wrong_date_is_named_once_fields_are_right(
    env: dict[str, str], tmp_path: Path, clean_database: Database, scene: Scene
) -> None:
    text = f"{HEADER}\n;hdurand;Durand;Hugo;31/02/1988;M;75056;VAE\n;hdurand2;D;H;le 3 mai;M;;\n"
    result = run(env, tmp_path, text.encode(), "--session", str(scene.session_id))
    assert result.exit_code == 1
    assert "ligne 2, colonne date_naissance : n’existe pas dans ce mois." in result.output
    assert "ligne 3, colonne date_naissance : n’est pas une date (JJ/MM/AAAA" in result.output
    assert "ligne 3, colonne identifiant : aucun candidat" in result.output


def test_a_login_two_candidates_share_is_refused(
    env: dict[str, str], tmp_path: Path, clean_database: Database, scene: Scene
) -> None:
    with clean_database.session() as db:
        twin = identity_rows.person(db, "s-4", login="HDurand")
        identity_rows.candidate(db, scene.session_id, twin)
    text = f"{HEADER}\n;hdurand;Durand;Hugo;1988;M;75056;VAE\n"
    result = run(env, tmp_path, text.encode(), "--session", str(scene.session_id))
    assert result.exit_code == 1
    assert "ligne 2, colonne identifiant : plusieurs candidats de la session correspondent" in (
        result.output
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"email;nom;prenom1\n", "ligne 1, colonne nom : colonne inconnue"),
        (b"nom_naissance;prenom1\nA;B\n", "ligne 1, colonne email : il faut une colonne email"),
        (b"email;prenom1\n", "ligne 1, colonne nom_naissance : colonne obligatoire absente"),
        (b"email;nom_naissance;prenom1\n", "ligne 2 : aucune ligne de candidat"),
        (b"email;nom_naissance;prenom1\na;b\n", "ligne 2 : 2 cellules pour 3 colonnes"),
        (b"email;nom_naissance;prenom1\n\xff;b;c\n", "ligne 2 : le fichier n’est pas en UTF-8"),
    ],
)
def test_a_file_of_the_wrong_shape_is_refused(
    env: dict[str, str], tmp_path: Path, scene: Scene, content: bytes, message: str
) -> None:
    result = run(env, tmp_path, content, "--session", str(scene.session_id))
    assert result.exit_code == 1
    assert message in result.output


def test_an_unknown_session_is_named(env: dict[str, str], tmp_path: Path, scene: Scene) -> None:
    result = run(env, tmp_path, f"{HEADER}\n".encode(), "--session", "999999")
    assert result.exit_code == 1
    assert "--session: no session 999999; nothing imported" in result.output


def test_a_dry_run_checks_and_writes_nothing(
    env: dict[str, str], tmp_path: Path, clean_database: Database, scene: Scene
) -> None:
    text = f"{HEADER}\ncamille@example.edu;;Dupré;Camille;14/05/1990;F;75056;VAE\n"
    result = run(env, tmp_path, text.encode(), "--session", str(scene.session_id), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would store 1 identities (1 new, 0 replaced)" in result.output
    assert stored(clean_database) == {}


def test_only_candidates_of_that_session_are_matched(
    env: dict[str, str], tmp_path: Path, clean_database: Database, scene: Scene
) -> None:
    with clean_database.session() as db:
        other = identity_rows.session_row(db, "Autre session")
        identity_rows.candidate(db, other, scene.outsider)
    text = f"{HEADER}\nzoe@example.edu;;Autre;Zoé;1991;F;75056;VAE\n"
    assert run(env, tmp_path, text.encode(), "--session", str(scene.session_id)).exit_code == 1
    assert run(env, tmp_path, text.encode(), "--session", str(other)).exit_code == 0
    assert set(stored(clean_database)) == {scene.outsider}


def test_into_a_signed_session_only_certified_holders_and_dated(
    env: dict[str, str], tmp_path: Path, clean_database: Database
) -> None:
    signed = identity_rows.scene(clean_database, signed=True)
    with clean_database.session() as db:
        identity_rows.decide(db, signed.first_candidate, validated=True)
        identity_rows.decide(db, signed.second_candidate, validated=False)
    text = (
        f"{HEADER}\ncamille@example.edu;;Dupré;Camille;1990;F;75056;VAE\n"
        ";hdurand;Durand;Hugo;1988;M;75056;VAE\n"
    )
    refused = run(env, tmp_path, text.encode(), "--session", str(signed.session_id))
    assert refused.exit_code == 1
    assert "ligne 3 : la session est signée et rien n’est validé" in refused.output
    first_only = text.rsplit("\n", 2)[0] + "\n"
    assert (
        run(env, tmp_path, first_only.encode(), "--session", str(signed.session_id)).exit_code == 0
    )
    kept = stored(clean_database)
    assert set(kept) == {signed.first}
    # Signed on 30 June 2026, kept 365 days (the default) after.
    assert str(kept[signed.first].delete_after) == "2027-06-30"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("14/05/1990", ("1990", "05", "14")),
        ("1/5/1990", ("1990", "5", "1")),
        ("1990-05-14", ("1990", "05", "14")),
        ("05/1990", ("1990", "05", None)),
        ("1990", ("1990", None, None)),
    ],
)
def test_birth_dates_in_the_documented_forms(text: str, parts: tuple[str | None, ...]) -> None:
    split = birth_date(text)
    assert (split.get("birth_year"), split.get("birth_month"), split.get("birth_day")) == parts
