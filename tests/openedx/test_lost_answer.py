"""A score Open edX stored but whose answer was lost, then posted again: held, not failed.

Open edX keeps one score per line item and learner and refuses one whose timestamp is not
strictly later with 400 (the package's ``LtiAgsScoreSerializer``), where Moodle answers
409. Jalon reads the result then, finds the grade held and marks it sent: the learner's
grade is posted once by the evaluator's publish, refused once, never doubled.
"""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from lti_tool.evaluation import passback
from lti_tool.evaluation.models import GradePassback
from lti_tool.services import lms_services
from tests.openedx.conftest import Browser, Jalon, hand_in, publish_all_met
from tests.openedx.gradebook import Grade
from tests.openedx.platform import OpenEdxLms

E1 = ["framework=community-manager-n6", "epreuve=E1"]


def test_a_lost_answer_is_read_back_and_the_grade_marked_sent(
    jalon: Jalon, openedx: OpenEdxLms
) -> None:
    component = openedx.add_component(jalon.tool, custom_parameters=E1, weight=16)
    jalon.register(openedx, component)
    lea = openedx.add_user("student", "lea", "Léa Moreau")
    paul = openedx.add_user("staff", "paul", "Paul Durand")
    learner, teacher = Browser(), Browser()
    hand_in(learner, learner.open(openedx, component, lea), "Ma stratégie éditoriale")
    openedx.gradebook.lost_answers = 1  # stored, then answered 500
    publish_all_met(teacher, teacher.open(openedx, component, paul), "Très bien.")
    with jalon.database.session() as session:
        row = session.execute(sa.select(GradePassback.status, GradePassback.last_error)).one()
    assert tuple(row) == ("pending", "LMS_UNREACHABLE")
    assert openedx.gradebook.grade(component, lea.external_id) == Grade(16.0, 16.0, "Très bien.")

    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    with jalon.app.app_context():
        report = passback.deliver_due(
            jalon.database.sessions,
            later,
            lms_services().ags,
            10,
            rng=random.Random(3),  # noqa: S311
        )
    assert report == passback.DeliveryReport(sent=1, held=1)
    # The resend (same timestamp) was refused with Open edX's 400; nothing posted after it.
    assert [status for status, _score in openedx.gradebook.score_posts] == [500, 400]
    with jalon.database.session() as session:
        row = session.execute(sa.select(GradePassback.status, GradePassback.last_error)).one()
    assert tuple(row) == ("sent", None)
    assert len(openedx.gradebook.scores) == 1
