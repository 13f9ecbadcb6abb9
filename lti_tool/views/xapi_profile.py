"""Jalon's xAPI Profile, served where its IRIs point.

``/xapi/profile`` is the profile (JSON-LD); the version IRI that statements carry as their
category, and the IRI of each concept, template and pattern, resolve too, so an analytics
consumer who follows any Jalon IRI in a statement finds its definition.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, request

from xapi.profile import MEDIA_TYPE, load_profile
from xapi.vocabulary import PROFILES_CONTEXT, profile_iri

blueprint = Blueprint("xapi_profile", __name__, url_prefix="/xapi/profile")


@blueprint.get("")
def profile() -> Response:
    """Serve the whole profile document."""
    return _jsonld(load_profile(_base_url()).json)


@blueprint.get("/<path:name>")
def term(name: str) -> Response:
    """Serve the current version (the whole document), or one concept, template or pattern."""
    loaded = load_profile(_base_url())
    iri = f"{profile_iri(_base_url())}/{name}"
    if iri == loaded.version_id:
        return _jsonld(loaded.json)
    document = loaded.document()
    for section in ("concepts", "templates", "patterns"):
        for node in document.get(section, ()):
            if node["id"] == iri:
                text = json.dumps(
                    {"@context": PROFILES_CONTEXT, **node}, ensure_ascii=False, indent=2
                )
                return _jsonld(text)
    abort(404)


def _jsonld(text: str) -> Response:
    response = Response(text, mimetype=MEDIA_TYPE)
    # A public, versioned document: let browsers and profile tools fetch and cache it.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    response.add_etag()
    return response.make_conditional(request)


def _base_url() -> str:
    return str(current_app.config["JALON"].base_url)
