"""Reading the platform's deep-linking settings: Moodle's strings, Canvas's booleans."""

from __future__ import annotations

from typing import Any

import pytest

from lti_tool.lti.deep_linking import DeepLinkingRefused, read_settings
from lti_tool.lti.launch import DL_CLAIM

RETURN = "https://moodle.example.edu/mod/lti/contentitem_return.php"


def _claims(**settings: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "deep_link_return_url": RETURN,
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe"],
    }
    base.update(settings)
    return {DL_CLAIM + "deep_linking_settings": base}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("false", False),
        (" True ", True),
        (True, True),
        (False, False),
        ("yes", None),
        (1, None),
        (None, None),
    ],
)
def test_booleans_arrive_as_booleans_or_strings(value: Any, expected: bool | None) -> None:
    settings = read_settings("LtiDeepLinkingRequest", _claims(accept_multiple=value))
    assert settings.accept_multiple is expected


def test_absent_settings_are_unknown_not_false() -> None:
    settings = read_settings("LtiDeepLinkingRequest", _claims())
    assert (settings.accept_multiple, settings.accept_lineitem, settings.has_data) == (
        None,
        None,
        False,
    )


def test_data_is_echoed_whatever_its_type() -> None:
    settings = read_settings("LtiDeepLinkingRequest", _claims(data={"course": 7}))
    assert (settings.has_data, settings.data) == (True, {"course": 7})


@pytest.mark.parametrize(
    ("message_type", "claims", "code"),
    [
        ("LtiResourceLinkRequest", _claims(), "DL_NOT_REQUESTED"),
        ("LtiDeepLinkingRequest", {}, "DL_NOT_REQUESTED"),
        ("LtiDeepLinkingRequest", _claims(accept_types=["link"]), "DL_TYPE_NOT_ACCEPTED"),
        ("LtiDeepLinkingRequest", _claims(accept_types="link"), "DL_TYPE_NOT_ACCEPTED"),
        ("LtiDeepLinkingRequest", _claims(deep_link_return_url="/relative"), "DL_BAD_RETURN_URL"),
        ("LtiDeepLinkingRequest", _claims(deep_link_return_url=42), "DL_BAD_RETURN_URL"),
    ],
)
def test_requests_jalon_cannot_answer(message_type: str, claims: dict[str, Any], code: str) -> None:
    with pytest.raises(DeepLinkingRefused) as refused:
        read_settings(message_type, claims)
    assert refused.value.code == code
    assert 400 <= refused.value.status < 500
