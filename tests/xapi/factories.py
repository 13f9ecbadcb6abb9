"""Domain events as Moodle and Canvas would cause them, and a strategy for random ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from xapi.events import (
    AnyEvent,
    BlocSatisfied,
    CertificationSatisfied,
    CompetencyMastered,
    CompetencyProgressed,
    CriterionScored,
    Launched,
    LmsContext,
    LtiUser,
    ResourceLink,
    Submitted,
)

FRAMEWORK = "community-manager-n6"
MOODLE = LmsContext(
    issuer="https://moodle.example.edu",
    platform_name="Moodle",
    deployment_id="1",
    context_id="42",
    context_title="Community manager — promotion 2026",
)
CANVAS = LmsContext(
    issuer="https://canvas.instructure.com",
    platform_name="Canvas",
    deployment_id="2:4dde05e8ca1973bcca9bffc13e1548820eee93a3",
    context_id="4dde05e8ca1973bcca9bffc13e1548820eee93a3",
)
LEARNER = LtiUser(MOODLE.issuer, "17", name="Camille Lefèvre", email="camille.lefevre@Example.ORG")
EVALUATOR = LtiUser(MOODLE.issuer, "3", name="Jeanne Roux", email="jeanne.roux@example.org")
LINK = ResourceLink("rl-101", "Épreuve 1 — étude de cas", "E1", ("B1",))
AT = datetime(2026, 3, 2, 9, 15, 30, 123456, tzinfo=timezone(timedelta(hours=1)))


def path_of(
    learner: LtiUser = LEARNER,
    lms: LmsContext = MOODLE,
    evaluator: LtiUser = EVALUATOR,
    start: datetime = AT,
) -> list[AnyEvent]:
    """Return one event of each kind, as a learner's path in one course, a minute apart."""
    common: dict[str, Any] = {"learner": learner, "lms": lms, "framework_code": FRAMEWORK}
    evaluated: dict[str, Any] = {
        **common,
        "evaluation_id": "ev-7",
        "evaluator": evaluator,
        "resource_link": LINK,
        "bloc_code": "B1",
        "competency_code": "C1.1",
        "language": "fr",
    }
    at = [start + timedelta(minutes=n) for n in range(7)]
    return [
        Launched(**common, occurred_at=at[0], launch_id="launch-1", resource_link=LINK),
        Submitted(**common, occurred_at=at[1], submission_id="sub-1", resource_link=LINK),
        CriterionScored(
            **evaluated,
            occurred_at=at[2],
            submission_id="sub-1",
            criterion_code="C1.1-1",
            score_raw=1,
            score_min=0,
            score_max=1,
            success=True,
        ),
        CompetencyProgressed(**evaluated, occurred_at=at[3], score=1.0, success=True),
        CompetencyMastered(**evaluated, occurred_at=at[4], score=1.0),
        BlocSatisfied(**common, occurred_at=at[5], evaluation_id="ev-7", bloc_code="B1"),
        CertificationSatisfied(**common, occurred_at=at[6], evaluation_id="ev-7"),
    ]


def by_kind() -> dict[type, AnyEvent]:
    """Return the events of :func:`path_of` keyed by their class."""
    return {type(event): event for event in path_of()}


# Random but valid events: LMS-provided text is any Unicode, to stress JSON and language maps;
# codes have the shapes a référentiel file allows.
_text = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != "")
_codes = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,11}\Z")
_slugs = st.from_regex(r"\A[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}\Z")
_issuers = st.sampled_from(
    ["https://moodle.example.edu", "https://canvas.instructure.com", "http://127.0.0.1:8080/lms"]
)
_moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9))]),
)
_languages = st.one_of(
    st.none(), st.sampled_from(["fr", "en", "fr-FR", "en_GB", "pt_br", "zh-Hant-TW"]), _text
)
_emails = st.emails().filter(lambda e: e.count("@") == 1)


KINDS = ("launched", "submitted", "scored", "progressed", "mastered", "bloc", "certification")


@st.composite
def events(draw: st.DrawFn, kinds: tuple[str, ...] = KINDS) -> AnyEvent:
    """Draw one valid event of any kind (or of one of ``kinds``)."""
    issuer = draw(_issuers)
    lms = LmsContext(
        issuer=issuer,
        platform_name=draw(_text),
        deployment_id=draw(_text),
        context_id=draw(_text),
        context_title=draw(st.none() | _text),
    )

    def user() -> LtiUser:
        return LtiUser(
            issuer, draw(_text), name=draw(st.none() | _text), email=draw(st.none() | _emails)
        )

    link = ResourceLink(
        draw(_text),
        title=draw(st.none() | _text),
        epreuve_code=draw(st.none() | _codes),
        bloc_codes=tuple(draw(st.lists(_codes, max_size=3, unique=True))),
    )
    common: dict[str, Any] = {
        "learner": user(),
        "lms": lms,
        "framework_code": draw(_slugs),
        "occurred_at": draw(_moments),
        "language": draw(_languages),
    }
    kind = draw(st.sampled_from(kinds))
    if kind == "launched":
        return Launched(**common, launch_id=draw(_text), resource_link=link)
    if kind == "submitted":
        return Submitted(**common, submission_id=draw(_text), resource_link=link)
    if kind == "bloc":
        return BlocSatisfied(**common, evaluation_id=draw(_text), bloc_code=draw(_codes))
    if kind == "certification":
        return CertificationSatisfied(**common, evaluation_id=draw(_text))
    evaluated: dict[str, Any] = {
        **common,
        "evaluation_id": draw(_text),
        "evaluator": user(),
        "resource_link": link,
        "bloc_code": draw(_codes),
        "competency_code": draw(_codes),
    }
    share = st.none() | st.floats(min_value=0, max_value=1)
    if kind == "progressed":
        return CompetencyProgressed(**evaluated, score=draw(share), success=draw(st.booleans()))
    if kind == "mastered":
        return CompetencyMastered(**evaluated, score=draw(share))
    bounds = draw(
        st.lists(st.floats(min_value=-1000, max_value=1000), min_size=2, max_size=2, unique=True)
    )
    low, high = sorted(bounds)
    return CriterionScored(
        **evaluated,
        submission_id=draw(_text),
        criterion_code=draw(_codes),
        score_raw=draw(st.floats(min_value=low, max_value=high)),
        score_min=low,
        score_max=high,
        success=draw(st.booleans()),
    )
