"""Files a browser asks for on its own: the icon."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from PIL import Image


def test_item8_favicon_ico_is_an_icon(client: FlaskClient) -> None:
    with client.get("/favicon.ico") as answer:
        data = answer.data
    assert answer.status_code == 200
    assert answer.mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
    assert answer.cache_control.public
    assert answer.cache_control.max_age == 86400
    icon = Image.open(io.BytesIO(data))
    assert icon.format == "ICO"
    assert {(16, 16), (32, 32), (48, 48)} <= set(icon.info["sizes"])


def test_item8_pages_name_the_svg_icon(client: FlaskClient) -> None:
    page = client.get("/referentiels/").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    with client.get("/static/favicon.svg") as svg:
        text = svg.get_data(as_text=True)
    assert svg.status_code == 200
    assert svg.mimetype == "image/svg+xml"
    assert text.startswith("<svg ")
