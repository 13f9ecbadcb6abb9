"""Issue 12, item 2: a language chosen on a page stays for the launch; dates and sizes.

The pages after the switch are fetched by a browser that keeps no cookie at all, as an
LMS iframe whose third-party cookies are blocked: the choice must travel with the launch.
"""

from __future__ import annotations

import datetime as dt
import html as html_module
import io
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask, render_template_string
from flask_babel import force_locale
from werkzeug.test import TestResponse

from lti_tool.db import Database
from lti_tool.evaluation.models import SubmissionVersion
from lti_tool.i18n import size_label
from tests.lti_tool.lti.conftest import browser, canvas, key_server, moodle, registered
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

__all__ = ["browser", "canvas", "key_server", "moodle", "registered"]
DECEMBER = dt.datetime(2026, 12, 6, 6, 44, 30, tzinfo=dt.UTC)


def _lang(page: TestResponse) -> str:
    found = re.search(r'<html lang="(\w+)">', page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)[:500]
    return found.group(1)


def _menu(page: TestResponse) -> list[str]:
    """Return the links of the activity menu, as the browser would follow them."""
    html = page.get_data(as_text=True)
    nav = html[html.index('class="activity-menu"') :]
    nav = nav[: nav.index("</nav>")]
    return [html_module.unescape(href) for href in re.findall(r'href="([^"]+)"', nav)]


def _form(page: TestResponse) -> dict[str, str]:
    html = page.get_data(as_text=True)
    return dict(re.findall(r'name="(csrf_token|revision|lt)" value="([^"]*)"', html))


def _cookieless(app: Flask) -> Browser:
    """A browser inside an LMS iframe whose third-party cookies are all dropped."""
    return Browser(app.test_client(use_cookies=False))


def _launch(app: Flask, platform: TestPlatform, sub: str | None = None) -> str:
    def as_user(claims: dict[str, Any]) -> None:
        if sub is not None:
            claims["sub"] = sub

    return landing_token(Browser(app.test_client()).launch(platform, change=as_user))


def test_english_chosen_on_one_page_stays_on_every_following_page_of_the_launch(
    registered: Flask, moodle: TestPlatform
) -> None:
    token = _launch(registered, moodle)  # Moodle's launch says "fr"
    iframe = _cookieless(registered)
    assert _lang(iframe.get("/epreuve", query_string={"lt": token})) == "fr"

    switched = iframe.get("/epreuve", query_string={"lt": token, "lang": "en"})
    assert _lang(switched) == "en"
    links = _menu(switched)
    assert len(links) == 3
    for link in links:
        assert "lang=" not in link  # the menu carries the token, the launch the choice
        page = iframe.get(link)
        assert page.status_code == 200, link
        assert _lang(page) == "en", link
        assert 'aria-current="true">English</a>' in page.get_data(as_text=True)

    # A form: the draft is saved, the page it leads to is still in English.
    saved = iframe.post(
        "/epreuve/brouillon",
        data={**_form(switched), "text": "Mon brouillon", "links": ""},
        content_type="multipart/form-data",
    )
    assert saved.status_code == 303
    location = urlsplit(saved.headers["Location"])
    assert "lang" not in dict(parse_qsl(location.query))
    after = iframe.get(f"{location.path}?{location.query}")
    assert _lang(after) == "en"
    assert "Draft saved." in after.get_data(as_text=True)

    # Back to French, the same way.
    assert _lang(iframe.get("/epreuve", query_string={"lt": token, "lang": "fr"})) == "fr"
    assert _lang(iframe.get("/progression", query_string={"lt": token})) == "fr"


def _language_link(page: TestResponse, lang: str) -> str:
    html = page.get_data(as_text=True)
    found = re.search(rf'<a href="([^"]*)" lang="{lang}" hreflang="{lang}"', html)
    assert found, html[:2000]
    return html_module.unescape(found.group(1))


def test_the_switch_on_a_refused_form_leads_back_to_the_epreuve_page(
    registered: Flask, moodle: TestPlatform
) -> None:
    token = _launch(registered, moodle)
    iframe = _cookieless(registered)
    form = _form(iframe.get("/epreuve", query_string={"lt": token}))
    refused = iframe.post(
        "/epreuve/brouillon",
        data={**form, "text": "x", "links": "javascript:alert(1)"},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400
    link = _language_link(refused, "en")
    assert urlsplit(link).path == "/epreuve"  # not the form's address, which only takes POST
    switched = iframe.get(link)
    assert switched.status_code == 200
    assert _lang(switched) == "en"
    assert _lang(iframe.get("/progression", query_string={"lt": token})) == "en"


def test_the_choice_belongs_to_its_launch_only(
    registered: Flask, moodle: TestPlatform, clean_database: Database
) -> None:
    first = _launch(registered, moodle)
    other = _launch(registered, moodle, sub="43")
    iframe = _cookieless(registered)
    assert _lang(iframe.get("/epreuve", query_string={"lt": first, "lang": "en"})) == "en"

    assert _lang(iframe.get("/epreuve", query_string={"lt": other})) == "fr"
    # The same learner launching again: the launch's locale claim decides again.
    again = _launch(registered, moodle)
    assert _lang(iframe.get("/epreuve", query_string={"lt": again})) == "fr"
    assert _lang(iframe.get("/epreuve", query_string={"lt": first})) == "en"


def test_french_chosen_in_an_english_launch_stays_too(
    registered: Flask, canvas: TestPlatform
) -> None:
    token = _launch(registered, canvas)  # Canvas's launch says "en"
    iframe = _cookieless(registered)
    assert _lang(iframe.get("/epreuve", query_string={"lt": token})) == "en"
    switched = iframe.get("/epreuve", query_string={"lt": token, "lang": "fr"})
    assert _lang(switched) == "fr"
    assert [_lang(iframe.get(link)) for link in _menu(switched)] == ["fr", "fr", "fr"]


def test_an_unknown_language_changes_nothing(registered: Flask, moodle: TestPlatform) -> None:
    token = _launch(registered, moodle)
    iframe = _cookieless(registered)
    assert _lang(iframe.get("/epreuve", query_string={"lt": token, "lang": "de"})) == "fr"
    assert _lang(iframe.get("/epreuve", query_string={"lt": token})) == "fr"


# -- dates and sizes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "moment", "day"),
    [("fr", "6 déc. 2026, 06:44", "6 déc. 2026"), ("en", "6 Dec 2026, 06:44", "6 Dec 2026")],
)
def test_dates_read_the_same_whatever_length_a_template_asks_for(
    app: Flask, locale: str, moment: str, day: str
) -> None:
    template = (
        '{{ d|datetimeformat("short") }}|{{ d|datetimeformat("long") }}|{{ d|datetimeformat }}'
        '|{{ d|dateformat }}|{{ d|dateformat("long") }}'
    )
    with app.test_request_context(), force_locale(locale):
        shown = render_template_string(template, d=DECEMBER)
    assert shown.split("|") == [moment, moment, moment, day, day]


@pytest.mark.parametrize(
    ("size", "french", "english"),
    [
        (1, "1 octet", "1 byte"),
        (80, "80 octets", "80 bytes"),
        (1023, "1023 octets", "1023 bytes"),
        (1536, "1,5 ko", "1.5 kB"),
        (20 * 1024, "20 ko", "20 kB"),
        (2 * 1024 * 1024, "2 Mo", "2 MB"),
        (int(1.5 * 1024 * 1024), "1,5 Mo", "1.5 MB"),
        (100 * 1024 * 1024, "100 Mo", "100 MB"),
    ],
)
def test_sizes_read_in_the_pages_language(app: Flask, size: int, french: str, english: str) -> None:
    with app.test_request_context():
        with force_locale("fr"):
            assert size_label(size) == french
            assert render_template_string("{{ n|filesizeformat }}", n=size) == french
        with force_locale("en"):
            assert size_label(size) == english
            assert render_template_string("{{ n|filesizeformat }}", n=size) == english


def test_the_learner_page_shows_dates_and_sizes_in_the_chosen_language(
    registered: Flask, moodle: TestPlatform, clean_database: Database
) -> None:
    token = _launch(registered, moodle)
    iframe = _cookieless(registered)
    form = _form(iframe.get("/epreuve", query_string={"lt": token}))
    handed = iframe.post(
        "/epreuve/remise",
        data={
            **form,
            "text": "Mon travail",
            "links": "",
            "files": [(io.BytesIO(b"x" * 80), "note.txt")],
        },
        content_type="multipart/form-data",
    )
    assert handed.status_code == 303, handed.get_data(as_text=True)[:1000]
    with clean_database.session() as session:
        session.execute(sa.update(SubmissionVersion).values(submitted_at=DECEMBER))
    french = iframe.get("/epreuve", query_string={"lt": token}).get_data(as_text=True)
    english = iframe.get("/epreuve", query_string={"lt": token, "lang": "en"})
    assert "Remise le 6 déc. 2026, 06:44" in french
    assert "(80 octets)" in french
    assert "Handed in on 6 Dec 2026, 06:44" in english.get_data(as_text=True)
    assert "(80 bytes)" in english.get_data(as_text=True)
