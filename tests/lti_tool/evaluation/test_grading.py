"""Grading: the grid's rules, drafts and stale grids, publication in one transaction, the jury."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from lti_tool.db import Database
from lti_tool.evaluation import grading
from lti_tool.evaluation.grading import publishing
from lti_tool.evaluation.grid import GridInput, field_owners, grid_schema, load_grid
from lti_tool.evaluation.models import (
    CompetencyDecision,
    CriterionResult,
    Evaluation,
    GradePassback,
    LearnerProgress,
    Submission,
)
from lti_tool.frameworks import find_record, framework_of
from referentiel.model import Framework
from tests.lti_tool.evaluation import factories
from xapi import outbox

E1 = ("C1.1", "C1.2", "C1.3", "C1.4", "C1.5")
BASE_URL = "https://jalon.test"
VERB = {
    "http://adlnet.gov/expapi/verbs/scored": "scored",
    "http://adlnet.gov/expapi/verbs/progressed": "progressed",
    "http://adlnet.gov/expapi/verbs/mastered": "mastered",
    "https://w3id.org/xapi/adl/verbs/satisfied": "satisfied",
}


@dataclass(frozen=True)
class World:
    learner: int
    other_learner: int
    evaluator: int
    jury: int
    third: int
    link: int
    submission: int


@pytest.fixture
def framework(app: Flask, clean_database: Database) -> Framework:
    with clean_database.session() as session:
        record = find_record(session, factories.FRAMEWORK)
        assert record is not None
        return framework_of(record)


@pytest.fixture
def world(app: Flask, clean_database: Database) -> World:
    with clean_database.session() as session:
        where = factories.course(session)
        learner = factories.person(session, where, "Léa Martin")
        other = factories.person(session, where, "Noé Bernard")
        evaluator = factories.person(session, where, "Paul Durand", is_staff=True)
        jury = factories.person(session, where, "Ana Costa", is_staff=True)
        third = factories.person(session, where, "Zoé Petit", is_staff=True)
        link = factories.placement(session, where, "E1")
        work = factories.submission(session, where, link, learner, E1)
        factories.hand_in(session, work, factories.at(0), text="Mon étude de cas")
        return World(learner, other, evaluator, jury, third, link, work.id)


@pytest.fixture
def session(app: Flask, clean_database: Database) -> Iterator[Session]:
    with app.test_request_context(), clean_database.session() as session:
        yield session


def grid(
    framework: Framework,
    *,
    action: str = "publier",
    revision: int = 0,
    unmet: tuple[str, ...] = (),
    unset: tuple[str, ...] = (),
    extra: dict[str, str] | None = None,
) -> GridInput:
    """Return a grid where every criterion is met except ``unmet``, ``unset`` left blank."""
    form = {"revision": str(revision), "action": action, "commentaire": "Bon travail."}
    for code in E1:
        for criterion in framework.competency(code).criteria:
            if criterion.code not in unset:
                level = "non_atteint" if criterion.code in unmet else "atteint"
                form[f"niveau-{criterion.code}"] = level
        form[f"commentaire-{code}"] = f"Sur {code}"
    form.update(extra or {})
    return load_grid(form, framework, [framework.competency(c) for c in E1])


def open_for(session: Session, world: World, evaluator: int) -> grading.Opening:
    work = session.get(Submission, world.submission)
    assert work is not None
    return grading.open_evaluation(session, work, evaluator, factories.at(60), create=True)


def verbs(session: Session) -> Counter[str]:
    bodies = session.execute(sa.select(outbox.outbox.c.body)).scalars()
    return Counter(VERB.get(json.loads(body)["verb"]["id"], "other") for body in bodies)


def count(session: Session, model: Any) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def test_the_rule_decides_and_an_override_replaces_it(framework: Framework) -> None:
    c11 = framework.competency("C1.1")
    first = c11.criteria[0].code
    all_met = {c.code: "atteint" for c in c11.criteria}
    one_short = {**all_met, first: "non_atteint"}
    decided = grading.decide(framework, c11, all_met, None, factories.T0)
    assert decided.is_rule_acquired
    assert decided.attempt.is_acquired
    assert decided.met == len(c11.criteria)
    short = grading.decide(framework, c11, one_short, None, factories.T0)
    assert not short.is_rule_acquired
    assert not short.attempt.is_acquired
    assert short.attempt.score == pytest.approx((len(c11.criteria) - 1) / len(c11.criteria))
    overridden = grading.decide(framework, c11, one_short, True, factories.T0)
    assert not overridden.is_rule_acquired
    assert overridden.attempt.is_acquired
    assert overridden.attempt.score == 1.0


def test_an_override_needs_a_justification(session: Session, framework: Framework) -> None:
    with pytest.raises(ValidationError) as caught:
        grid(framework, action="brouillon", extra={"decision-C1.2": "acquise"})
    assert set(caught.value.messages) == {"justification-C1.2"}
    justified = grid(
        framework,
        extra={"decision-C1.2": "non_acquise", "justification-C1.2": "Plagiat partiel."},
    )
    assert justified.competencies["C1.2"].override is False
    assert justified.competencies["C1.2"].justification == "Plagiat partiel."


def test_publishing_names_every_criterion_left_without_a_level(
    session: Session, framework: Framework
) -> None:
    missing = ("C1.1-1", "C1.3-2")
    draft = grid(framework, action="brouillon", unset=missing)
    assert "C1.1-1" not in draft.levels
    with pytest.raises(ValidationError) as caught:
        grid(framework, unset=missing)
    assert set(caught.value.messages) == {"niveau-C1.1-1", "niveau-C1.3-2"}
    with pytest.raises(ValidationError) as caught:
        grid(framework, extra={"niveau-C1.1-1": "excellent"})
    assert set(caught.value.messages) == {"niveau-C1.1-1"}


def test_a_stale_grid_is_refused_and_overwrites_nothing(
    session: Session, framework: Framework, world: World
) -> None:
    opening = open_for(session, world, world.evaluator)
    grading.save(
        session,
        opening,
        grid(framework, action="brouillon", unmet=("C1.1-1",)),
        framework,
        factories.at(61),
    )
    assert opening.evaluation is not None
    assert opening.evaluation.revision == 1
    stale = grid(framework, action="brouillon", revision=0)
    with pytest.raises(grading.GradingError) as caught:
        grading.save(
            session, open_for(session, world, world.evaluator), stale, framework, factories.at(62)
        )
    assert caught.value.code == "EVAL_STALE"
    assert "rien n’a été écrasé" in caught.value.message
    level = session.scalar(
        sa.select(CriterionResult.level).where(CriterionResult.criterion_code == "C1.1-1")
    )
    assert level == "non_atteint"
    # The page's current revision saves, replacing the rows.
    grading.save(
        session,
        open_for(session, world, world.evaluator),
        grid(framework, action="brouillon", revision=1),
        framework,
        factories.at(63),
    )
    assert count(session, CriterionResult) == 16
    assert session.scalar(sa.select(Evaluation.revision)) == 2


def test_publishing_writes_decisions_progress_statements_and_the_grade(
    session: Session, framework: Framework, world: World
) -> None:
    opening = open_for(session, world, world.evaluator)
    published = grading.publish(
        session, opening, grid(framework, unmet=("C1.1-1",)), framework, BASE_URL, factories.at(61)
    )
    evaluation = published.evaluation
    assert evaluation.status == "published"
    assert evaluation.published_at == factories.at(61)
    assert (evaluation.score_given, evaluation.score_maximum) == (15.0, 16.0)
    assert count(session, CriterionResult) == 16
    decisions = {d.competency_code: d for d in session.scalars(sa.select(CompetencyDecision))}
    assert not decisions["C1.1"].is_acquired
    assert decisions["C1.2"].is_acquired
    assert {d.settlement for d in decisions.values()} == {"single"}
    assert session.get(Submission, world.submission).status == "evaluated"  # type: ignore[union-attr]
    statuses = {
        (row.kind, row.code): row.status for row in session.scalars(sa.select(LearnerProgress))
    }
    assert statuses[("competency", "C1.1")] == "en_cours"
    assert statuses[("competency", "C1.5")] == "acquis"
    assert statuses[("bloc", "B1")] == "en_cours"
    assert published.change.newly_acquired == ("C1.2", "C1.3", "C1.4", "C1.5")
    # 16 criteria scored, 5 competencies progressed, 4 of them newly mastered.
    assert verbs(session) == {"scored": 16, "progressed": 5, "mastered": 4}
    assert published.statements == 25
    passback = session.scalars(sa.select(GradePassback)).one()
    assert passback.status == "pending"
    assert passback.evaluation_id == evaluation.id
    assert (passback.score_given, passback.score_maximum) == (15.0, 16.0)
    assert passback.comment == "Bon travail."
    assert (passback.activity_progress, passback.grading_progress) == ("Completed", "FullyGraded")
    assert passback.scored_at == factories.at(61)
    # Published is final.
    with pytest.raises(grading.GradingError) as caught:
        grading.save(
            session,
            open_for(session, world, world.evaluator),
            grid(framework, revision=1),
            framework,
            factories.at(62),
        )
    assert caught.value.code == "EVAL_PUBLISHED"


def test_a_publication_failing_midway_leaves_nothing(
    app: Flask,
    clean_database: Database,
    framework: Framework,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(publishing, "_grade", broken)
    with app.test_request_context(), clean_database.sessions() as session:
        opening = open_for(session, world, world.evaluator)
        session.commit()
        with pytest.raises(RuntimeError):
            grading.publish(
                session, opening, grid(framework, revision=0), framework, BASE_URL, factories.at(61)
            )
        session.rollback()
        for model in (CriterionResult, CompetencyDecision, LearnerProgress, GradePassback):
            assert count(session, model) == 0, model
        assert count(session, outbox.outbox) == 0
        evaluation = session.scalars(sa.select(Evaluation)).one()
        assert (evaluation.status, evaluation.revision) == ("draft", 0)
        assert session.get(Submission, world.submission).status == "submitted"  # type: ignore[union-attr]


def test_the_jury_settles_and_its_grade_supersedes_the_pending_one(
    session: Session, framework: Framework, world: World
) -> None:
    # Another learner's pending grade on the same placement is left alone.
    factories_work = session.get(Submission, world.submission)
    assert factories_work is not None
    first = grading.publish(
        session,
        open_for(session, world, world.evaluator),
        grid(framework),
        framework,
        BASE_URL,
        factories.at(61),
    )
    session.add(
        GradePassback(
            evaluation_id=first.evaluation.id,
            resource_link_id=world.link,
            learner_id=world.other_learner,
            score_given=1,
            score_maximum=2,
            scored_at=factories.at(61),
        )
    )
    jury_opening = open_for(session, world, world.jury)
    assert jury_opening.role == "jury"
    assert jury_opening.other is not None
    verdict = grid(
        framework,
        extra={"decision-C1.1": "non_acquise", "justification-C1.1": "Sources non citées."},
    )
    grading.publish(session, jury_opening, verdict, framework, BASE_URL, factories.at(90))
    settled = {
        (d.evaluation_id, d.competency_code): d.settlement
        for d in session.scalars(sa.select(CompetencyDecision))
    }
    for evaluation_id in (first.evaluation.id, jury_opening.evaluation.id):  # type: ignore[union-attr]
        assert settled[(evaluation_id, "C1.1")] == "jury"
        assert settled[(evaluation_id, "C1.2")] == "agreed"
    status = session.scalar(sa.select(LearnerProgress.status).where(LearnerProgress.code == "C1.1"))
    assert status == "en_cours"  # the jury prevails
    grades = {
        (p.learner_id, p.evaluation_id): p.status for p in session.scalars(sa.select(GradePassback))
    }
    assert grades[(world.learner, first.evaluation.id)] == "superseded"
    assert grades[(world.learner, jury_opening.evaluation.id)] == "pending"  # type: ignore[union-attr]
    assert grades[(world.other_learner, first.evaluation.id)] == "pending"
    with pytest.raises(grading.GradingError) as caught:
        open_for(session, world, world.third)
    assert caught.value.code == "EVAL_THIRD_EVALUATOR"
    assert "troisième" in caught.value.message


def test_the_evaluator_publishing_after_the_jury_leaves_the_jury_grade(
    session: Session, framework: Framework, world: World
) -> None:
    mine = open_for(session, world, world.evaluator)
    grading.save(session, mine, grid(framework, action="brouillon"), framework, factories.at(61))
    jury = open_for(session, world, world.jury)
    assert jury.role == "jury"
    grading.publish(session, jury, grid(framework), framework, BASE_URL, factories.at(70))
    grading.publish(
        session,
        open_for(session, world, world.evaluator),
        grid(framework, revision=1),
        framework,
        BASE_URL,
        factories.at(80),
    )
    assert {d.settlement for d in session.scalars(sa.select(CompetencyDecision))} == {"agreed"}
    passback = session.scalars(sa.select(GradePassback)).one()
    assert passback.evaluation_id == jury.evaluation.id  # type: ignore[union-attr]


def test_nothing_handed_in_cannot_be_opened(
    session: Session, world: World, clean_database: Database
) -> None:
    work = session.get(Submission, world.submission)
    assert work is not None
    for version in work.versions:
        version.is_draft = True
    session.flush()
    with pytest.raises(grading.GradingError) as caught:
        open_for(session, world, world.evaluator)
    assert caught.value.code == "EVAL_NOTHING_HANDED_IN"


def test_every_field_an_error_can_name_belongs_to_a_competency(framework: Framework) -> None:
    # The grid's errors name "C1.2 — …" in words, from the field's owner, never the field.
    competencies = [framework.competency(c) for c in E1]
    owners = field_owners(competencies)
    with pytest.raises(ValidationError) as caught:
        grid(framework, unset=("C1.3-2",), extra={"decision-C1.2": "acquise"})
    for name in caught.value.messages:
        assert isinstance(name, str)
        assert name in owners, name
    assert owners["justification-C1.2"].competency.code == "C1.2"
    assert owners["justification-C1.2"].criterion is None
    level = owners["niveau-C1.3-2"]
    assert (level.competency.code, getattr(level.criterion, "code", None)) == ("C1.3", "C1.3-2")
    schema_fields = {
        field.data_key or name
        for name, field in grid_schema(framework, competencies).fields.items()
    }
    assert schema_fields - set(owners) == {"revision", "commentaire", "action"}
