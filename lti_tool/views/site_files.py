"""Files browsers ask for at the site's root: the icon.

Browsers request ``/favicon.ico`` on their own, whatever the page says; without it every
first page view logged a 404. Pages also name the SVG icon, sharper on high-density screens.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app

blueprint = Blueprint("site_files", __name__)


@blueprint.get("/favicon.ico")
def favicon() -> Response:
    """Serve the icon (16, 32 and 48 px), cacheable for a day."""
    response = current_app.send_static_file("favicon.ico")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response
