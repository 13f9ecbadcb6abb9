"""Error pages: accessible HTML for people, JSON for programs, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


def wants_json() -> bool:
    """Return whether the client prefers JSON to HTML."""
    if request.args.get("format") == "json" or request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(
        ["text/html", "application/json", "application/ld+json"]
    )
    return best in {"application/json", "application/ld+json"}


def with_error_headers(response: Response, error: HTTPException) -> Response:
    """Keep what the error says in its headers (a 405's ``Allow``), not its content type."""
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    """Render every HTTP error the same way."""
    from lti_tool.views import case_api

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        if request.path.startswith(f"{case_api.PREFIX}/"):
            # No route matched (404, 405): CASE consumers still get the binding's payload.
            return case_api.http_error(error)
        code = error.code or 500
        titles = {
            400: _("Requête invalide"),
            403: _("Accès refusé"),
            404: _("Page introuvable"),
            405: _("Méthode non autorisée"),
            413: _("Envoi trop volumineux"),
            429: _("Trop de demandes"),
            503: _("Service momentanément indisponible"),
        }
        title = titles.get(code, _("Erreur"))
        if wants_json():
            body = jsonify(error={"status": code, "title": title, "detail": error.description})
        else:
            body = render_template(
                "errors/error.html", code=code, title=title, detail=error.description
            )
        return with_error_headers(make_response(body, code), error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=error)
        return _http_error(InternalServerError())
