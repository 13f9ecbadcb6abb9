"""Grades from Jalon into Open edX, in both of its "Assignment and Grades" modes.

Declarative (the default): the launch gives the component's own line item, which Open edX
made from the block (its Grade Weight as maximum). Programmatic: the launch gives only
``lineitems``; Jalon creates its column there, naming the block as ``resourceLinkId``, which
Open edX requires before a score reaches the course's grades. Either way one published
evaluation is one score, posted once, and the learner's grade is criteria met out of the
Grade Weight.
"""

from __future__ import annotations

import sqlalchemy as sa

from lti_tool.evaluation.models import GradePassback
from tests.openedx.conftest import Browser, Jalon, hand_in, publish_all_met
from tests.openedx.course import Component
from tests.openedx.gradebook import Grade
from tests.openedx.platform import OpenEdxLms

E1 = ["framework=community-manager-n6", "epreuve=E1"]  # C1.1–C1.5: 16 criteria
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"


def _evaluated(jalon: Jalon, openedx: OpenEdxLms, component: Component) -> tuple[str, str]:
    """Léa hands in, Paul (course staff) publishes all met; return the page and Léa's sub."""
    jalon.register(openedx, component)
    lea = openedx.add_user("student", "lea", "Léa Moreau")
    paul = openedx.add_user("staff", "paul", "Paul Durand")
    learner, teacher = Browser(), Browser()
    hand_in(learner, learner.open(openedx, component, lea), "Ma stratégie éditoriale")
    summary = publish_all_met(teacher, teacher.open(openedx, component, paul), "Très bien.")
    return summary, lea.external_id


def test_declarative_the_score_reaches_the_blocks_line_item_once(
    jalon: Jalon, openedx: OpenEdxLms
) -> None:
    component = openedx.add_component(jalon.tool, custom_parameters=E1, weight=16)
    summary, lea = _evaluated(jalon, openedx, component)

    assert "Acceptée par la plateforme (16 / 16)" in summary
    # The one column is the block's own, made by Open edX; Jalon created none.
    (column,) = openedx.gradebook.line_items[component.config_id]
    assert (column.label, column.score_maximum) == ("Jalon", 16)
    assert [status for status, _score in openedx.gradebook.score_posts] == [201]
    ((_status, score),) = openedx.gradebook.score_posts
    assert (score["userId"], score["scoreGiven"], score["scoreMaximum"]) == (lea, 16, 16)
    assert score["gradingProgress"] == "FullyGraded"
    assert openedx.gradebook.grade(component, lea) == Grade(16.0, 16.0, "Très bien.")
    with jalon.database.session() as session:
        assert session.scalars(sa.select(GradePassback.status)).all() == ["sent"]


def test_programmatic_jalon_creates_the_column_on_the_block_and_the_grade_counts(
    jalon: Jalon, openedx: OpenEdxLms
) -> None:
    component = openedx.add_component(
        jalon.tool, custom_parameters=E1, weight=16, ags_mode="programmatic"
    )
    # Open edX creates no column in this mode: the launch offers only ``lineitems``.
    assert openedx.gradebook.declared_line_item(component) is None
    summary, lea = _evaluated(jalon, openedx, component)

    assert "Acceptée par la plateforme (16 / 16)" in summary
    (column,) = openedx.gradebook.line_items[component.config_id]
    # Accepted by the package's LtiAgsLineItemSerializer; resourceLinkId is the block, so
    # the score is published to the course's grades.
    assert str(column.resource_link_id) == component.usage_key
    assert column.score_maximum == 16
    assert column.label.startswith("E1 — ")
    assert [status for status, _score in openedx.gradebook.score_posts] == [201]
    assert openedx.gradebook.grade(component, lea) == Grade(16.0, 16.0, "Très bien.")
