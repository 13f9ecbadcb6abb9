"""How an LMS administrator installs Jalon: the Canvas JSON and the "how to install" page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template

from lti_tool.dynamic_registration import (
    CANVAS_CUSTOM_FIELDS,
    CANVAS_PLACEMENTS,
    CLIENT_NAME,
    DESCRIPTION,
    SCOPES,
    ToolUrls,
)

blueprint = Blueprint("lti_install", __name__, url_prefix="/lti")


def tool_urls() -> ToolUrls:
    """Return Jalon's LTI URLs for this app's ``base_url``."""
    return ToolUrls(current_app.config["JALON"].base_url)


def canvas_configuration(urls: ToolUrls) -> dict[str, Any]:
    """Return the developer-key JSON Canvas reads from a configuration URL.

    Deep linking in the assignment and module pickers lets a teacher place an épreuve
    (Canvas then creates the grade column from the returned line item). The privacy level
    is "anonymous": Jalon needs no name or e-mail, and an administrator who wants evaluators
    to see names can raise it on the key.
    """
    placements = [
        {
            "placement": placement,
            "message_type": "LtiDeepLinkingRequest",
            "target_link_uri": urls.launch,
            "text": CLIENT_NAME,
            "selection_width": 1000,
            "selection_height": 700,
        }
        for placement in CANVAS_PLACEMENTS
    ]
    return {
        "title": CLIENT_NAME,
        "description": DESCRIPTION,
        "oidc_initiation_url": urls.login,
        "target_link_uri": urls.launch,
        "public_jwk_url": urls.jwks,
        "scopes": list(SCOPES),
        "extensions": [
            {
                "domain": urls.domain,
                "tool_id": "jalon",
                "platform": "canvas.instructure.com",
                "privacy_level": "anonymous",
                "settings": {"text": CLIENT_NAME, "placements": placements},
            }
        ],
        "custom_fields": dict(CANVAS_CUSTOM_FIELDS),
    }


@blueprint.get("/canvas.json")
def canvas_json() -> Response:
    """Serve the Canvas developer-key configuration ("Enter URL" in Canvas)."""
    return jsonify(canvas_configuration(tool_urls()))


@blueprint.get("/installation")
def installation() -> str:
    """Show an LMS administrator every way to install Jalon, with the values to paste."""
    return render_template("install/installation.html", urls=tool_urls(), scopes=SCOPES)
