"""Open edX launches Jalon: lti-consumer-xblock's consumer signs, Jalon checks, over HTTP."""

from __future__ import annotations

from tests.openedx.conftest import Browser, Jalon
from tests.openedx.platform import OpenEdxLms

E1 = ["framework=community-manager-n6", "epreuve=E1"]


def test_a_learner_launch_lands_on_the_learner_page(jalon: Jalon, openedx: OpenEdxLms) -> None:
    component = openedx.add_component(jalon.tool, custom_parameters=E1)
    jalon.register(openedx, component)
    learner = openedx.add_user("student", "lea", "Léa Moreau")
    landing = Browser().open(openedx, component, learner)
    assert landing.status_code == 200, landing.text
    # A learner's launch of an épreuve opens on what it asks and the form to hand in.
    assert landing.url.startswith(f"{jalon.base}/epreuve?lt="), landing.url
    assert "C1.5" in landing.text
    assert 'action="/epreuve/brouillon?lt=' in landing.text
