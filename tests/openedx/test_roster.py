"""The evaluators' queue reads Open edX's roster (Names & Roles), served through the
package's own NRPS serializers: names only when the course shares them, roles from the
package's context role map (a Community TA is a learner there too).
"""

from __future__ import annotations

import re

from tests.openedx.conftest import Browser, Jalon
from tests.openedx.platform import OpenEdxLms

E1 = ["framework=community-manager-n6", "epreuve=E1"]


def _not_submitted(page: str) -> tuple[str, list[str]]:
    section = page.split('id="titre-non-remis"', 1)[1].split("</section>", 1)[0]
    heading = section.split("</h2>", 1)[0]
    return heading, re.findall(r"<li>([^<]+)</li>", section)


def test_the_queue_lists_who_has_not_handed_in_from_open_edx(jalon: Jalon) -> None:
    openedx = OpenEdxLms(pii_sharing=True).start()
    try:
        component = openedx.add_component(jalon.tool, custom_parameters=E1, nrps=True)
        jalon.register(openedx, component)
        for role, username, name in [
            ("student", "lea", "Léa Moreau"),
            ("student", "hugo", "Hugo Petit"),
            ("Community TA", "ines", "Inès Haddad"),
        ]:
            openedx.add_user(role, username, name)
        paul = openedx.add_user("staff", "paul", "Paul Durand")
        queue = Browser().open(openedx, component, paul)
    finally:
        openedx.stop()
    assert queue.url.startswith(f"{jalon.base}/evaluation/?lt="), queue.url
    assert "D’après la liste des participants de la plateforme." in queue.text
    heading, names = _not_submitted(queue.text)
    assert "(3)" in heading
    assert sorted(names) == ["Hugo Petit", "Inès Haddad", "Léa Moreau"]


def test_without_names_and_roles_the_queue_says_the_roster_is_not_offered(
    jalon: Jalon, openedx: OpenEdxLms
) -> None:
    """ "Names & Roles (NRPS)" is off by default in the component."""
    component = openedx.add_component(jalon.tool, custom_parameters=E1)
    jalon.register(openedx, component)
    paul = openedx.add_user("staff", "paul", "Paul Durand")
    queue = Browser().open(openedx, component, paul)
    assert "LMS_SERVICE_NOT_OFFERED" in queue.text
