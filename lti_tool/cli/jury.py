"""``jalon certification session``: jury sessions, their members, candidates and decisions.

Every refusal exits non-zero with each problem as ``field: reason`` and changes nothing.
Candidates are named by their number in the session; courses by Jalon's own id (``jalon
certification session courses`` lists them), since two platforms may share an LMS id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification.decisions import (
    current_decisions,
    decide,
    session_decisions,
    sign_problems,
)
from lti_tool.certification.models import Candidate, CertificationSession, JuryRole
from lti_tool.certification.outcomes import correct_decision, sign_session
from lti_tool.certification.sessions import (
    EXAM_MODES,
    JuryError,
    add_candidates_from_course,
    add_member,
    courses_using,
    create_session,
    session_framework,
)
from lti_tool.cli.context import session_scope, settings_from_env
from lti_tool.frameworks import find_record, framework_of
from lti_tool.models import LtiContext

DATE = click.DateTime(formats=["%Y-%m-%d"])
F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def _db() -> Iterator[Session]:
    """Give a session committed on success; a refusal changes nothing and exits 1."""
    try:
        with session_scope(settings_from_env(serving=False)) as db:
            yield db
    except JuryError as error:
        lines = "\n".join(f"  {problem}" for problem in error.problems)
        raise click.ClickException(f"refused, nothing was changed:\n{lines}") from None


def _session(db: Session, session_id: int) -> CertificationSession:
    session = db.get(CertificationSession, session_id)
    if session is None:
        raise click.ClickException(f"session: no session {session_id}")
    return session


def _candidate(session: CertificationSession, number: int) -> Candidate:
    for candidate in session.candidates:
        if candidate.number == number:
            return candidate
    raise click.ClickException(f"candidate: no candidate {number} in session {session.id}")


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


@click.group("session")
def jury_session() -> None:
    """Open jury sessions, seat the jury, present candidates, decide and sign the minutes."""


@jury_session.command("create")
@click.option("--framework", required=True, help="The référentiel's code (its current version).")
@click.option("--title", required=True, help="The session's title.")
@click.option("--jury-date", required=True, type=DATE, help="The jury's date (YYYY-MM-DD).")
@click.option("--place", default="", help="Where the jury sits.")
@click.option("--exam-start", type=DATE, help="First day of the examinations (YYYY-MM-DD).")
@click.option("--exam-end", type=DATE, help="Last day of the examinations (YYYY-MM-DD).")
@click.option("--exam-postal-code", help="Postal code of the examination place (5 digits).")
@click.option("--exam-mode", help=f"One of {', '.join(EXAM_MODES)}.")
def create(
    framework: str,
    title: str,
    jury_date: dt.datetime,
    place: str,
    exam_start: dt.datetime | None,
    exam_end: dt.datetime | None,
    exam_postal_code: str | None,
    exam_mode: str | None,
) -> None:
    """Open a session for the current version of an imported référentiel."""
    with _db() as db:
        record = find_record(db, framework)
        if record is None:
            raise click.ClickException(f"framework: no imported référentiel {framework!r}")
        session = create_session(
            db,
            framework=framework_of(record),
            title=title,
            jury_date=jury_date.date(),
            place=place,
            exam_start=_date(exam_start),
            exam_end=_date(exam_end),
            exam_postal_code=exam_postal_code,
            exam_mode=exam_mode,
        )
        click.echo(f"session {session.id} opened: {session.title}")


@jury_session.command("list")
def list_sessions() -> None:
    """List the sessions: id, status, jury date, référentiel, candidates, title."""
    with _db() as db:
        sessions = db.scalars(
            sa.select(CertificationSession).order_by(CertificationSession.id)
        ).all()
        for s in sessions:
            click.echo(
                f"{s.id}\t{s.status}\t{s.jury_date.isoformat()}\t{s.framework_code} "
                f"{s.framework_version}\t{len(s.candidates)} candidates\t{s.title}"
            )


@jury_session.command("show")
@click.argument("session_id", type=int)
def show(session_id: int) -> None:
    """Show a session: jury, candidates with their current decisions, what blocks signing."""
    with _db() as db:
        session = _session(db, session_id)
        framework = session_framework(db, session)
        click.echo(f"session {session.id}: {session.title} ({session.status})")
        click.echo(f"référentiel: {session.framework_code} {session.framework_version}")
        click.echo(f"jury date: {session.jury_date.isoformat()}  place: {session.place or '-'}")
        if session.signed_at is not None:
            click.echo(f"signed: {session.signed_at.isoformat()} by {session.signed_by}")
        click.echo("jury:")
        for member in session.members:
            click.echo(f"  {member.role}\t{member.full_name}\t{member.quality or '-'}")
        click.echo("candidates:")
        decisions = session_decisions(db, session)
        for candidate in session.candidates:
            current = decisions.get(candidate.id, {})
            words = []
            for code in [*(b.code for b in framework.blocs), framework.code]:
                scope = "title" if code == framework.code else "bloc"
                decision = current.get((scope, code))
                state = "-" if decision is None else ("V" if decision.is_validated else "NV")
                words.append(f"{'title' if scope == 'title' else code}={state}")
            click.echo(f"  {candidate.number}\tcourse {candidate.context_id}\t{' '.join(words)}")
        if not session.is_signed:
            for problem in sign_problems(db, session):
                click.echo(f"to sign: {problem}")


@jury_session.command("courses")
@click.argument("session_id", type=int)
def courses(session_id: int) -> None:
    """List the courses using the session's référentiel (Jalon's id, issuer, LMS id, title)."""
    with _db() as db:
        session = _session(db, session_id)
        for course in courses_using(db, session.framework_code):
            click.echo(
                f"{course.id}\t{course.issuer}\t{course.context_id}\t"
                f"{course.learners} learners\t{course.title or '-'}"
            )


@jury_session.command("add-member")
@click.argument("session_id", type=int)
@click.option("--name", "full_name", required=True, help="The member's full name.")
@click.option("--role", required=True, help="president, member or professional.")
@click.option("--quality", default="", help="Position and organisation.")
def add_member_command(session_id: int, full_name: str, role: str, quality: str) -> None:
    """Seat a person on the jury."""
    with _db() as db:
        member = add_member(
            db, _session(db, session_id), full_name=full_name, role=role, quality=quality
        )
        click.echo(f"{member.full_name} sits on the jury as {JuryRole(member.role).value}")


@jury_session.command("add-candidates")
@click.argument("session_id", type=int)
@click.option("--course", "course_id", required=True, type=int, help="Jalon's id of the course.")
def add_candidates(session_id: int, course_id: int) -> None:
    """Present every learner of a course (not yet a candidate) to the session."""
    with _db() as db:
        session = _session(db, session_id)
        context = db.get(LtiContext, course_id)
        if context is None:
            raise click.ClickException(f"course: no course {course_id}")
        added = add_candidates_from_course(db, session, context)
        click.echo(f"{len(added)} candidates added: {' '.join(str(c.number) for c in added)}")


def _scope(
    bloc: str | None, title: bool, is_validated: bool | None, framework_code: str
) -> tuple[str, str]:
    if (bloc is None) == (not title):
        raise click.UsageError("give either --bloc CODE or --title")
    if is_validated is None:
        raise click.UsageError("give either --validated or --not-validated")
    return ("title", framework_code) if title else ("bloc", str(bloc))


decision_options = [
    click.argument("session_id", type=int),
    click.option("--candidate", "number", required=True, type=int, help="The candidate's number."),
    click.option("--bloc", help="The bloc decided on."),
    click.option("--title", is_flag=True, help="Decide on the title instead of a bloc."),
    click.option(
        "--validated/--not-validated",
        "is_validated",
        default=None,
        help="The decision (one of the two is required).",
    ),
    click.option("--reasons", default="", help="Why (required for not validated)."),
    click.option("--by", "decided_by", required=True, help="Who decides (name)."),
]


def _with_decision_options(command: F) -> F:
    for option in reversed(decision_options):
        command = option(command)
    return command


@jury_session.command("decide")
@_with_decision_options
def decide_command(
    session_id: int,
    number: int,
    bloc: str | None,
    title: bool,
    is_validated: bool | None,
    reasons: str,
    decided_by: str,
) -> None:
    """Record the jury's decision on a bloc or the title (while the session is open)."""
    with _db() as db:
        session = _session(db, session_id)
        scope, code = _scope(bloc, title, is_validated, session.framework_code)
        decision = decide(
            db,
            _candidate(session, number),
            scope=scope,
            code=code,
            is_validated=bool(is_validated),
            reasons=reasons,
            decided_by=decided_by,
        )
        click.echo(f"decision {decision.id} recorded: candidate {number} {scope} {code}")


@jury_session.command("sign")
@click.argument("session_id", type=int)
@click.option("--by", "signed_by", required=True, help="Who signs (the jury's president).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def sign(session_id: int, signed_by: str, yes: bool) -> None:
    """Sign the minutes: every current decision becomes final."""
    if not yes:
        click.confirm(
            f"Sign the minutes of session {session_id}? Decisions become final", abort=True
        )
    with _db() as db:
        signed = sign_session(
            db,
            _session(db, session_id),
            signed_by=signed_by,
            settings=settings_from_env(serving=False),
        )
        click.echo(
            f"minutes signed: {len(signed.decisions)} final decisions, "
            f"{len(signed.credentials)} credentials issued"
        )


@jury_session.command("correct")
@_with_decision_options
def correct_command(
    session_id: int,
    number: int,
    bloc: str | None,
    title: bool,
    is_validated: bool | None,
    reasons: str,
    decided_by: str,
) -> None:
    """Correct a final decision after signing: a new dated decision naming the old one."""
    with _db() as db:
        session = _session(db, session_id)
        scope, code = _scope(bloc, title, is_validated, session.framework_code)
        candidate = _candidate(session, number)
        decision = current_decisions(db, candidate).get((scope, code))
        if decision is None:
            raise click.ClickException(f"{scope}: candidate {number} has no decision on {code}")
        fixed = correct_decision(
            db,
            decision,
            is_validated=bool(is_validated),
            reasons=reasons,
            decided_by=decided_by,
            settings=settings_from_env(serving=False),
        )
        click.echo(f"decision {fixed.id} corrects decision {decision.id}")
