"""Bad input: an optional claim of the wrong type is ignored with a log line, never a 500."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sqlalchemy as sa

from lti_tool.db import Database
from lti_tool.models import LtiContext, LtiResourceLink, LtiUser
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
PRIVATE_VALUE = "valeur-qui-ne-doit-pas-fuir"

# (claim, member or None, a wrong value): the claim as Moodle sends it, reshaped.
WRONG_SHAPES: list[tuple[str, str | None, Any]] = [
    ("name", None, ["Léa", PRIVATE_VALUE]),
    ("given_name", None, 42),
    ("family_name", None, {"value": PRIVATE_VALUE}),
    ("email", None, [PRIVATE_VALUE]),
    ("preferred_username", None, ""),
    ("preferred_username", None, [PRIVATE_VALUE]),
    (CLAIM + "context", "title", [PRIVATE_VALUE]),
    (CLAIM + "context", "label", 7),
    (CLAIM + "resource_link", "title", {"fr": PRIVATE_VALUE}),
    (CLAIM + "resource_link", "description", [PRIVATE_VALUE]),
    (CLAIM + "launch_presentation", None, PRIVATE_VALUE),
    (CLAIM + "launch_presentation", "locale", ["fr"]),
    (CLAIM + "launch_presentation", "return_url", 12),
    (CLAIM + "lis", None, [PRIVATE_VALUE]),
    (CLAIM + "lis", "person_sourcedid", {"id": PRIVATE_VALUE}),
    (CLAIM + "tool_platform", None, PRIVATE_VALUE),
    (CLAIM + "tool_platform", "name", [PRIVATE_VALUE]),
    (CLAIM + "custom", None, PRIVATE_VALUE),
    (CLAIM + "custom", "framework", ["community-manager-n6"]),
    (CLAIM + "custom", "epreuve", 3),
    (CLAIM + "ext", None, [PRIVATE_VALUE]),
    (AGS, None, [PRIVATE_VALUE]),
    (AGS, "scope", PRIVATE_VALUE),
    (AGS, "lineitems", [PRIVATE_VALUE]),
    (NRPS, None, PRIVATE_VALUE),
    (NRPS, "context_memberships_url", 5),
]


def _reshape(claim: str, member: str | None, value: Any) -> Any:
    def change(claims: dict[str, Any]) -> None:
        if member is None:
            claims[claim] = value
        else:
            claims[claim][member] = value

    return change


def _label(claim: str, member: str | None) -> str:
    short = claim.removeprefix(CLAIM)
    return f"{short}.{member}" if member else short


@pytest.mark.parametrize(
    ("claim", "member", "value"),
    WRONG_SHAPES,
    ids=[f"{_label(c, m)}={type(v).__name__}" for c, m, v in WRONG_SHAPES],
)
@pytest.mark.parametrize("role", ["learner", "instructor"])
def test_bad_input_wrongly_typed_claim_is_ignored_and_logged(
    browser: Browser,
    moodle: TestPlatform,
    clean_database: Database,
    caplog: pytest.LogCaptureFixture,
    claim: str,
    member: str | None,
    value: Any,
    role: str,
) -> None:
    with caplog.at_level(logging.WARNING):
        response = browser.launch(moodle, role, change=_reshape(claim, member, value))
        token = landing_token(response)
        for path in ("/lti/accueil", "/lti/activite", "/epreuve" if role == "learner" else "/"):
            page = browser.get(path, query_string={"lt": token})
            assert page.status_code < 500, (path, page.get_data(as_text=True)[:2000])
    label = _label(claim, member)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(label in message for message in warnings), warnings
    # The log line names the claim, never its value.
    assert not any(PRIVATE_VALUE in r.getMessage() for r in caplog.records)
    with clean_database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(LtiContext)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(LtiUser)) == 1
        link = session.scalar(sa.select(LtiResourceLink))
        assert link is not None
        assert all(isinstance(v, str) for v in link.custom.values())
        user = session.scalar(sa.select(LtiUser))
        assert user is not None
        assert all(
            v is None or isinstance(v, str)
            for v in (user.name, user.given_name, user.family_name, user.email)
        )
