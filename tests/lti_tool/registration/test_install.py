"""``/lti/canvas.json`` and the "how to install" page."""

from __future__ import annotations

import re

import jsonschema
import pytest
from flask.testing import FlaskClient

BASE = "https://jalon.test"
# Canvas's placements (Lti::ResourcePlacement::PLACEMENTS) and LTI scopes (TokenScopes).
CANVAS_PLACEMENTS = [
    "account_navigation", "assignment_edit", "assignment_group_menu", "assignment_index_menu",
    "assignment_menu", "assignment_selection", "assignment_view", "collaboration",
    "conference_selection", "course_assignments_menu", "course_home_sub_navigation",
    "course_navigation", "course_settings_sub_navigation", "discussion_topic_index_menu",
    "discussion_topic_menu", "editor_button", "file_index_menu", "file_menu",
    "global_navigation", "homework_submission", "link_selection", "migration_selection",
    "module_group_menu", "module_index_menu", "module_index_menu_modal", "module_menu",
    "module_menu_modal", "post_grades", "quiz_index_menu", "quiz_menu", "resource_selection",
    "similarity_detection", "student_context_card", "submission_type_selection",
    "tool_configuration", "top_navigation", "user_navigation", "wiki_index_menu",
    "wiki_page_menu",
]  # fmt: skip
CANVAS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    "https://canvas.instructure.com/lti/public_jwk/scope/update",
]
# Canvas's Schemas::Lti::ToolConfiguration (lib/schemas/lti/tool_configuration.rb), with
# the documented requirement of a public_jwk or a public_jwk_url.
CANVAS_SCHEMA = {
    "type": "object",
    "required": ["title", "description", "target_link_uri", "oidc_initiation_url"],
    "anyOf": [{"required": ["public_jwk"]}, {"required": ["public_jwk_url"]}],
    "properties": {
        "title": {"type": "string"},
        "description": {"type": "string"},
        "public_jwk_url": {"type": "string"},
        "scopes": {"type": "array", "items": {"enum": CANVAS_SCOPES}},
        "target_link_uri": {"type": "string"},
        "oidc_initiation_url": {"type": "string"},
        "custom_fields": {"type": "object", "additionalProperties": {"type": "string"}},
        "extensions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["platform", "settings"],
                "properties": {
                    "domain": {"type": "string"},
                    "tool_id": {"type": "string"},
                    "platform": {"type": "string"},
                    "privacy_level": {"enum": ["public", "email_only", "name_only", "anonymous"]},
                    "settings": {
                        "type": "object",
                        "required": ["placements"],
                        "properties": {
                            "text": {"type": "string"},
                            "placements": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["placement"],
                                    "properties": {
                                        "placement": {"enum": CANVAS_PLACEMENTS},
                                        "message_type": {
                                            "enum": [
                                                "LtiDeepLinkingRequest",
                                                "LtiResourceLinkRequest",
                                            ]
                                        },
                                        "target_link_uri": {"type": "string"},
                                        "text": {"type": "string"},
                                        "selection_width": {"type": "number"},
                                        "selection_height": {"type": "number"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_canvas_json_follows_canvas_documented_format(client: FlaskClient) -> None:
    response = client.get("/lti/canvas.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    config = response.get_json()
    jsonschema.validate(config, CANVAS_SCHEMA)


def test_canvas_json_points_at_jalon_and_places_deep_linking(client: FlaskClient) -> None:
    config = client.get("/lti/canvas.json").get_json()
    assert config["oidc_initiation_url"] == f"{BASE}/lti/login"
    assert config["target_link_uri"] == f"{BASE}/lti/launch"
    assert config["public_jwk_url"] == f"{BASE}/lti/jwks"
    assert "public_jwk" not in config  # keys rotate: Canvas must read the key set
    assert set(config["scopes"]) == {
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    }
    (canvas,) = config["extensions"]
    assert canvas["platform"] == "canvas.instructure.com"
    assert canvas["privacy_level"] == "anonymous"
    assert canvas["domain"] == "jalon.test"
    placements = {p["placement"]: p for p in canvas["settings"]["placements"]}
    assert set(placements) == {"assignment_selection", "link_selection"}
    for placement in placements.values():
        assert placement["message_type"] == "LtiDeepLinkingRequest"
        assert placement["target_link_uri"] == f"{BASE}/lti/launch"


@pytest.mark.parametrize(
    ("lang", "heading"),
    [("fr", "Installer Jalon dans Moodle ou Canvas"), ("en", "Install Jalon in Moodle or Canvas")],
)
def test_the_installation_page_gives_every_value_to_copy(
    client: FlaskClient, lang: str, heading: str
) -> None:
    response = client.get(f"/lti/installation?lang={lang}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in page
    codes = re.findall(r"<code[^>]*data-copy[^>]*>([^<]*)</code>", page)
    for value in (
        f"{BASE}/lti/register",
        f"{BASE}/lti/canvas.json",
        f"{BASE}/lti/launch",
        f"{BASE}/lti/login",
        f"{BASE}/lti/jwks",
    ):
        assert value in codes, f"{value} is not offered to copy"
    assert "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly" in page
    assert 'id="confidentialite"' in page
    assert '<script src="/static/copy-code.js" defer></script>' in page
    # Public page: no sign-in needed.
    assert "admin/connexion" not in page


def test_copy_script_and_styles_are_served(client: FlaskClient) -> None:
    for name in ("copy-code.js", "registration-close.js", "registration.css"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        response.close()
