"""The learner's épreuve page, through real LTI launches from Moodle- and Canvas-shaped LMSs.

Moodle places E3 (French launch), Canvas places E1 narrowed to C1.1 and C1.2 (English).
Files go to the instance folder of the test (the local storage of production).
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import TestResponse

from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.evaluation.models import Submission, SubmissionFile, SubmissionVersion
from lti_tool.models import LtiUser
from tests.browser import assert_accessible, page_screenshot
from tests.database_rows import every_row
from tests.lti_tool.evaluation import factories
from tests.lti_tool.lti.conftest import browser, canvas, key_server, moodle, registered
from tests.lti_tool.lti.platforms import CLAIM, Browser, TestPlatform, landing_token
from xapi.outbox import outbox

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

__all__ = ["browser", "canvas", "key_server", "moodle", "registered"]
MAX_BYTES = 4096


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, upload_max_bytes=MAX_BYTES)


def _launch(
    browser: Browser,
    platform: TestPlatform,
    role: str = "learner",
    claims: dict[str, Any] | None = None,
) -> str:
    def change(body: dict[str, Any]) -> None:
        body.update(claims or {})

    return landing_token(browser.launch(platform, role, change=change))


def _page(browser: Browser, token: str, **query: str) -> TestResponse:
    return browser.get("/epreuve", query_string={"lt": token, **query})


def _form(page: TestResponse) -> dict[str, str]:
    html = page.get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|revision)" value="([^"]*)"', html))
    assert set(fields) == {"csrf_token", "revision"}, html
    return fields


def _post(
    browser: Browser,
    token: str,
    action: str = "brouillon",
    *,
    form: dict[str, str] | None = None,
    files: list[tuple[bytes, str]] = (),  # type: ignore[assignment]
    **data: Any,
) -> TestResponse:
    fields: dict[str, Any] = {**(form or _form(_page(browser, token))), **data}
    if files:
        fields["files"] = [(io.BytesIO(content), name) for content, name in files]
    return browser.post(
        f"/epreuve/{action}",
        query_string={"lt": token},
        data=fields,
        content_type="multipart/form-data",
    )


def _rows(database: Database, model: Any) -> int:
    with database.engine.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def _submitted(database: Database) -> int:
    """Count the *submitted* statements in the outbox (launches queue their own)."""
    with database.engine.connect() as connection:
        bodies = connection.scalars(sa.select(outbox.c.body)).all()
    return sum('"http://activitystrea.ms/schema/1.0/submit"' in body for body in bodies)


def _stored(instance: Path) -> list[Path]:
    return [p for p in (instance / "uploads").rglob("*") if p.is_file()]


def _text(page: TestResponse) -> str:
    return page.get_data(as_text=True)


# -- what the épreuve asks ---------------------------------------------------------------


def test_the_page_says_what_the_epreuve_asks_and_what_is_judged(
    browser: Browser, moodle: TestPlatform
) -> None:
    page = _page(browser, _launch(browser, moodle))

    html = _text(page)
    assert page.status_code == 200
    assert '<html lang="fr">' in html
    assert "Modalité" in html
    assert "Ce que le candidat produit" in html
    assert "<dd>4\u00a0semaines</dd>" in html  # E3's preparation time, P4W
    assert 'id="c-C2-1"' in html
    assert "C2.1-1" in html
    assert "Aucune version remise pour l’instant." in html
    assert 'enctype="multipart/form-data"' in html
    assert "Date limite" not in html


def test_the_deadline_the_platform_gave_is_shown(browser: Browser, moodle: TestPlatform) -> None:
    custom = {
        "framework": "community-manager-n6",
        "epreuve": "E3",
        "due_at": "2026-06-30T22:00:00Z",
    }
    html = _text(_page(browser, _launch(browser, moodle, claims={CLAIM + "custom": custom})))
    assert "Date limite" in html
    assert 'datetime="2026-06-30T22:00:00+00:00"' in html


def test_an_unsubstituted_deadline_variable_is_ignored(
    browser: Browser, moodle: TestPlatform
) -> None:
    custom = {"framework": "community-manager-n6", "epreuve": "E3",
              "due_at": "$ResourceLink.submission.endDateTime"}  # fmt: skip
    assert "Date limite" not in _text(
        _page(browser, _launch(browser, moodle, claims={CLAIM + "custom": custom}))
    )


def test_a_link_without_an_epreuve_says_so(browser: Browser, moodle: TestPlatform) -> None:
    page = _page(browser, _launch(browser, moodle, claims={CLAIM + "custom": {}}))
    assert page.status_code == 404
    assert "Aucune épreuve évaluable" in _text(page)


# -- drafts, hand-ins, versions -----------------------------------------------------------


def test_a_draft_is_saved_then_handed_in_then_resubmitted_keeping_each_version(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token = _launch(browser, moodle)

    saved = _post(browser, token, text="Plan du projet", links="https://a.example/plan\n")
    assert saved.status_code == 303
    assert "fait=brouillon" in saved.headers["Location"]
    html = _text(_page(browser, token, fait="brouillon"))
    assert "Brouillon enregistré." in html
    assert ">Plan du projet</textarea>" in html
    assert _submitted(clean_database) == 0

    handed = _post(browser, token, "remise", text="Projet final", links="https://a.example/plan")
    assert handed.status_code == 303
    html = _text(_page(browser, token))
    assert "Version 1" in html
    assert "Remis, en attente d’évaluation" in html
    assert _submitted(clean_database) == 1

    _post(browser, token, "remise", text="Projet corrigé", links="")
    html = _text(_page(browser, token))
    assert "Version 2" in html
    assert "Version 1" in html
    assert "Projet final" in html
    assert "Projet corrigé" in html
    assert _submitted(clean_database) == 2
    with clean_database.session() as session:
        versions = session.scalars(sa.select(SubmissionVersion).order_by("number")).all()
        assert [(v.number, v.is_draft, v.text) for v in versions] == [
            (1, False, "Projet final"),
            (2, False, "Projet corrigé"),
        ]


def test_handing_in_twice_from_the_same_page_is_refused_as_stale(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token = _launch(browser, moodle)
    page = _form(_page(browser, token))
    assert _post(browser, token, "remise", form=page, text="Mon travail").status_code == 303

    again = _post(browser, token, "remise", form=page, text="Écrasé ?")

    assert again.status_code == 409
    assert "modifié entre-temps" in _text(again)
    assert "Écrasé ?" in _text(again)  # shown back so it can be copied
    assert _submitted(clean_database) == 1
    with clean_database.session() as session:
        assert session.scalars(sa.select(SubmissionVersion.text)).all() == ["Mon travail"]


def test_an_empty_hand_in_names_the_text_field(browser: Browser, moodle: TestPlatform) -> None:
    token = _launch(browser, moodle)
    refused = _post(browser, token, "remise", text="  ")
    assert refused.status_code == 400
    assert "Il n’y a rien à remettre" in _text(refused)
    assert 'href="#texte"' in _text(refused)


def test_a_link_that_is_not_http_is_refused_naming_its_line(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token = _launch(browser, moodle)
    refused = _post(browser, token, text="Texte", links="https://ok.example\njavascript:alert(1)")
    html = _text(refused)
    assert refused.status_code == 400
    assert "Liens : Ligne 2 : Ce n’est pas une adresse http(s) valide." in html
    assert ">Texte</textarea>" in html  # what was typed is kept on the page
    assert _rows(clean_database, Submission) == 0


def test_a_form_without_its_csrf_token_is_refused(browser: Browser, moodle: TestPlatform) -> None:
    token = _launch(browser, moodle)
    refused = _post(browser, token, form={"revision": "0"}, text="x")
    assert refused.status_code == 400


def test_html_in_the_text_is_shown_as_text(browser: Browser, moodle: TestPlatform) -> None:
    token = _launch(browser, moodle)
    _post(browser, token, "remise", text="<script>alert(1)</script>\n<b>gras</b>")
    html = _text(_page(browser, token))
    assert "<script>alert(1)</script>" not in html
    assert "<b>gras</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# -- files -----------------------------------------------------------------------------------


def test_a_file_is_stored_under_a_random_key_and_downloaded_as_an_attachment(
    browser: Browser, moodle: TestPlatform, settings: Settings, clean_database: Database
) -> None:
    token = _launch(browser, moodle)
    _post(browser, token, text="Voir fichier", files=[(b"mon rapport", "../../etc/passwd.txt")])

    [path] = _stored(settings.instance_path)
    assert "passwd" not in str(path)
    assert path.read_bytes() == b"mon rapport"
    with clean_database.session() as session:
        file = session.scalars(sa.select(SubmissionFile)).one()
        assert (file.name, file.size, file.storage_key) == ("passwd.txt", 11, path.name)
    html = _text(_page(browser, token))
    assert f"/epreuve/fichiers/{file.id}?lt=" in html

    download = browser.get(f"/epreuve/fichiers/{file.id}", query_string={"lt": token})
    assert download.status_code == 200
    assert download.data == b"mon rapport"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"passwd.txt\"; filename*=UTF-8''passwd.txt"
    )
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_a_non_ascii_name_is_offered_with_rfc_5987(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token = _launch(browser, moodle)
    _post(browser, token, text="x", files=[(b"%PDF", "Synthèse été.pdf")])
    with clean_database.session() as session:
        file_id = session.scalars(sa.select(SubmissionFile.id)).one()
    download = browser.get(f"/epreuve/fichiers/{file_id}", query_string={"lt": token})
    assert download.headers["Content-Disposition"] == (
        'attachment; filename="Synth_se _t_.pdf"; '
        "filename*=UTF-8''Synth%C3%A8se%20%C3%A9t%C3%A9.pdf"
    )
    assert download.headers["Content-Type"] == "application/pdf"


@pytest.mark.parametrize(
    ("upload", "says"),
    [
        ((b"x" * (MAX_BYTES + 1), "annexe.pdf"), "« annexe.pdf » dépasse la taille maximale"),
        ((b"<script>", "page.html"), "« page.html » : ce type de fichier n’est pas accepté"),
    ],
)
def test_a_refused_upload_is_named_and_nothing_of_the_form_is_kept(
    browser: Browser,
    moodle: TestPlatform,
    settings: Settings,
    clean_database: Database,
    upload: tuple[bytes, str],
    says: str,
) -> None:
    token = _launch(browser, moodle)
    refused = _post(browser, token, text="Avec annexe", files=[(b"%PDF ok", "ok.pdf"), upload])

    assert refused.status_code == 400
    assert says in _text(refused)
    assert _stored(settings.instance_path) == []
    assert _rows(clean_database, Submission) == 0
    assert _rows(clean_database, SubmissionFile) == 0


def test_a_body_past_the_request_limit_gets_a_413_page(
    browser: Browser, moodle: TestPlatform, registered: Flask
) -> None:
    token = _launch(browser, moodle)
    form = _form(_page(browser, token))
    registered.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    refused = _post(browser, token, form=form, text="x", files=[(b"x" * 100_000, "big.pdf")])
    assert refused.status_code == 413
    assert "rien n’a été enregistré" in _text(refused)


# -- who sees what -------------------------------------------------------------------------


def _file_of_lea(browser: Browser, moodle: TestPlatform, database: Database) -> tuple[str, int]:
    token = _launch(browser, moodle)
    _post(browser, token, "remise", text="Le travail de Léa", files=[(b"secret", "lea.pdf")])
    with database.session() as session:
        return token, session.scalars(sa.select(SubmissionFile.id)).one()


def test_another_learner_sees_neither_the_work_nor_the_file(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    _token, file_id = _file_of_lea(browser, moodle, clean_database)
    other = _launch(browser, moodle, claims={"sub": "43", "name": "Tom Petit"})

    assert "Le travail de Léa" not in _text(_page(browser, other))
    assert (
        browser.get(f"/epreuve/fichiers/{file_id}", query_string={"lt": other}).status_code == 404
    )


def test_the_same_learner_in_another_course_starts_afresh(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    _token, file_id = _file_of_lea(browser, moodle, clean_database)
    course = {"id": "8", "label": "CM7", "title": "Autre cours", "type": ["CourseSection"]}
    elsewhere = _launch(browser, moodle, claims={CLAIM + "context": course})

    assert "Le travail de Léa" not in _text(_page(browser, elsewhere))
    download = browser.get(f"/epreuve/fichiers/{file_id}", query_string={"lt": elsewhere})
    assert download.status_code == 404


def test_staff_cannot_post_as_a_learner_but_may_download_in_their_course(
    browser: Browser, moodle: TestPlatform, canvas: TestPlatform, clean_database: Database
) -> None:
    _token, file_id = _file_of_lea(browser, moodle, clean_database)
    teacher = _launch(browser, moodle, "instructor")

    before = every_row(clean_database)
    refused = browser.post(
        "/epreuve/remise", query_string={"lt": teacher}, data={"revision": "0", "text": "x"}
    )
    assert refused.status_code == 400  # no CSRF token of the page: refused before the role
    assert "Le formulaire a expiré" in refused.get_data(as_text=True)
    assert every_row(clean_database) == before
    assert _page(browser, teacher).status_code == 403
    download = browser.get(f"/epreuve/fichiers/{file_id}", query_string={"lt": teacher})
    assert (download.status_code, download.data) == (200, b"secret")

    other_lms = _launch(browser, canvas, "instructor")
    assert (
        browser.get(f"/epreuve/fichiers/{file_id}", query_string={"lt": other_lms}).status_code
        == 404
    )


def test_staff_with_a_valid_form_token_is_still_refused_as_not_a_learner(
    browser: Browser, moodle: TestPlatform, registered: Flask, clean_database: Database
) -> None:
    from lti_tool import csrf

    teacher = _launch(browser, moodle, "instructor")
    with registered.test_request_context(f"/epreuve?lt={teacher}"):
        registered.preprocess_request()
        token = csrf.generate()
    before = every_row(clean_database)
    for action in ("brouillon", "remise"):
        refused = _post(
            browser, teacher, action, form={"csrf_token": token, "revision": "0"}, text="x"
        )
        assert refused.status_code == 403, action
        assert "LTI_ROLE_FORBIDDEN" in refused.get_data(as_text=True)
    assert _rows(clean_database, Submission) == 0
    assert every_row(clean_database) == before


# -- the evaluation, once published -------------------------------------------------------


def _evaluate(database: Database, *, published: bool = True) -> None:
    """Publish (or leave as a draft) an evaluation of the only version handed in."""
    with database.session() as session:
        version = session.scalars(sa.select(SubmissionVersion)).one()
        work = version.submission
        evaluator = LtiUser(issuer=session.scalars(sa.select(LtiUser.issuer)).first(),
                            sub="7", name="Paul Durand")  # fmt: skip
        session.add(evaluator)
        session.flush()
        evaluation = factories.publish(
            session,
            version,
            evaluator.id,
            factories.at(10),
            {"C2.1": 1.0},
            criteria={"C2.1-1": ("atteint", True), "C2.1-2": ("non_atteint", False)},
            comment="Bon <em>travail</em>",
        )
        if not published:
            evaluation.status = "draft"
            work.status = "submitted"


def test_a_published_evaluation_is_shown_per_criterion_and_competency(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token, _file_id = _file_of_lea(browser, moodle, clean_database)
    form = _form(_page(browser, token))
    _evaluate(clean_database)

    html = _text(_page(browser, token))
    assert "Votre évaluation" in html
    assert "Bon &lt;em&gt;travail&lt;/em&gt;" in html
    assert '<p class="decision">Acquise</p>' in html
    assert "Commentaire sur C2.1" in html
    assert ">Atteint</td>" in html
    assert ">Non atteint</td>" in html
    assert "Votre travail a été évalué" in html
    assert 'action="/epreuve/brouillon' not in html
    refused = _post(browser, token, "remise", form=form, text="Encore")
    assert refused.status_code == 409
    assert "a été évalué" in _text(refused)


def test_a_draft_evaluation_is_never_shown(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token, _file_id = _file_of_lea(browser, moodle, clean_database)
    _evaluate(clean_database, published=False)
    html = _text(_page(browser, token))
    assert "Votre évaluation" not in html
    assert "Bon &lt;em&gt;" not in html


# -- languages -----------------------------------------------------------------------------


def test_a_canvas_launch_in_english_gets_an_english_page_with_french_referentiel_text(
    browser: Browser, canvas: TestPlatform
) -> None:
    html = _text(_page(browser, _launch(browser, canvas)))
    assert '<html lang="en">' in html
    assert "Skip to content" in html
    assert "Competencies and criteria assessed" in html
    assert '<h1 lang="fr">' in html
    assert 'id="c-C1-1"' in html
    assert 'id="c-C1-3"' not in html


def test_lang_switches_the_page_to_english(browser: Browser, moodle: TestPlatform) -> None:
    html = _text(_page(browser, _launch(browser, moodle), lang="en"))
    assert '<html lang="en">' in html
    assert "What the candidate produces" in html


# -- accessibility -------------------------------------------------------------------------


STATES: dict[str, Callable[[Browser, TestPlatform, Database, str], None]] = {
    "vide": lambda browser, platform, database, token: None,
    "brouillon": lambda browser, platform, database, token: _draft_with_file(browser, token),
    "evaluee": lambda browser, platform, database, token: _handed_in_and_evaluated(
        browser, token, database
    ),
}


def _draft_with_file(browser: Browser, token: str) -> None:
    _post(browser, token, text="Mon brouillon\nsur deux lignes", links="https://a.example",
          files=[(b"%PDF", "rapport.pdf")])  # fmt: skip


def _handed_in_and_evaluated(browser: Browser, token: str, database: Database) -> None:
    _post(browser, token, "remise", text="Travail remis", files=[(b"%PDF", "rapport.pdf")])
    _evaluate(database)


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("state", list(STATES))
def test_the_epreuve_page_has_no_wcag21_aa_violation(
    chromium: WebDriver,
    live_url: str,
    browser: Browser,
    moodle: TestPlatform,
    clean_database: Database,
    state: str,
    lang: str,
) -> None:
    token = _launch(browser, moodle)
    STATES[state](browser, moodle, clean_database, token)

    chromium.get(f"{live_url}/epreuve?lt={token}&lang={lang}")
    assert chromium.execute_script("return document.documentElement.lang") == lang
    assert chromium.execute_script("return document.querySelector('h1 .status')") is None
    shown = "return [!!document.getElementById('travail'), !!document.getElementById('evaluation')]"
    assert chromium.execute_script(shown) == [True, state == "evaluee"]
    assert_accessible(chromium, f"/epreuve ({state}, {lang})")


def test_work_is_written_and_handed_in_with_the_keyboard_alone(
    chromium: WebDriver,
    live_url: str,
    browser: Browser,
    moodle: TestPlatform,
    clean_database: Database,
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    token = _launch(browser, moodle)
    chromium.get(f"{live_url}/epreuve?lt={token}")
    typed = False
    for _ in range(300):
        ActionChains(chromium).send_keys(Keys.TAB).perform()
        focused = chromium.switch_to.active_element
        if focused.get_attribute("id") == "texte":
            ActionChains(chromium).send_keys("Mon étude, tapée au clavier.").perform()
            typed = True
        elif focused.tag_name == "button" and focused.get_attribute("formaction"):
            assert typed, "the hand-in button came before the text field"
            ActionChains(chromium).send_keys(Keys.ENTER).perform()
            break
    else:
        pytest.fail("the keyboard never reached the hand-in button")
    assert "/epreuve" in chromium.current_url
    assert _submitted(clean_database) == 1
    assert "Mon étude, tapée au clavier." in chromium.page_source


# -- item 5: what the database cannot store ----------------------------------------------


@pytest.mark.parametrize("bad", ["\x00", "\x0b", "\x1f", "\uffff"])
def test_item5_an_unstorable_character_in_the_text_is_refused_naming_the_field(
    browser: Browser, moodle: TestPlatform, clean_database: Database, bad: str
) -> None:
    token = _launch(browser, moodle)
    refused = _post(browser, token, "remise", text=f"Mon{bad} travail")
    assert refused.status_code == 400
    assert "Le champ « text » contient un caractère invisible" in _text(refused)
    assert "<main" in _text(refused)  # the accessible error page, not a stack trace
    assert _rows(clean_database, Submission) == 0
    assert _submitted(clean_database) == 0


def test_item5_a_revision_or_file_id_beyond_the_columns_is_refused_not_a_500(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token = _launch(browser, moodle)
    form = _form(_page(browser, token))
    stale = _post(browser, token, "remise", form={**form, "revision": str(2**31)}, text="x")
    assert stale.status_code == 400
    assert "Valeur invalide : rechargez la page." in _text(stale)
    removed = _post(browser, token, form=form, text="x", remove=str(2**64))
    assert removed.status_code == 400
    assert "Fichier inconnu." in _text(removed)
    assert _rows(clean_database, Submission) == 0
    for file_id in (2**31 - 1, 2**31, 2**63, 2**64):
        assert browser.get(f"/epreuve/fichiers/{file_id}?lt={token}").status_code == 404


def test_item12_the_evaluated_epreuve_page_fits_1280_px_screenshot(
    chromium: WebDriver,
    live_url: str,
    browser: Browser,
    moodle: TestPlatform,
    clean_database: Database,
    tmp_path: Path,
) -> None:
    token = _launch(browser, moodle)
    _post(browser, token, "remise", text=SCREENSHOT_TEXT, links="https://atelier-lune.example/blog")
    _evaluate(clean_database)
    chromium.get(f"{live_url}/epreuve?lt={token}")
    assert chromium.find_element("css selector", "#evaluation")
    page_screenshot(chromium, tmp_path, "learner", at="#evaluation")


SCREENSHOT_TEXT = (
    "Plan de la stratégie pour Atelier Lune :\n"
    "1. Axes de communication\n2. Outils de veille\n3. Analyse SWOT\n\n"
    "Le calendrier éditorial est joint en lien."
)
