"""The menu of a launched session: a learner's pages, or the evaluation team's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from flask_babel import lazy_gettext as _

from lti_tool.lti import session

# (endpoint, label): what a learner and what the evaluation team reach from every page.
LEARNER_PAGES = (
    ("learner.epreuve", _("L’épreuve")),
    ("progress.mine", _("Ma progression")),
    ("lti.activity", _("L’activité")),
)
STAFF_PAGES = (
    ("evaluator.queue", _("Copies à évaluer")),
    ("matrix.matrix", _("Classe")),
    ("progress.course_settings", _("Réglages du cours")),
    ("lti.activity", _("L’activité")),
)


@dataclass(frozen=True)
class MenuItem:
    """One link of the menu; ``is_current`` marks the page shown."""

    label: str
    url: str
    is_current: bool


def menu() -> list[MenuItem]:
    """Return the menu of the current LTI session (empty without one)."""
    launch = session.current()
    if launch is None or launch.is_anonymous or launch.message_type != "LtiResourceLinkRequest":
        return []
    if session.can_evaluate(launch):
        pages = STAFF_PAGES
        if not session.can_configure(launch):
            pages = tuple(page for page in pages if page[0] != "progress.course_settings")
    elif launch.roles.is_learner:
        pages = LEARNER_PAGES
    else:
        return []
    return [
        MenuItem(str(label), session.lti_url(endpoint), request.endpoint == endpoint)
        for endpoint, label in pages
    ]


def init_app(app: Flask) -> None:
    """Give every template the session's menu."""

    @app.context_processor
    def _menu() -> dict[str, Any]:
        return {"lti_menu": menu()}
