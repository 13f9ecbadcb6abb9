"""Who issues the credentials (the certifier, from the settings) and for which référentiel."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification import links, sessions
from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    DecisionScope,
    IssuedCredential,
    JuryDecision,
)
from lti_tool.certification.ob3 import (
    Achievement,
    IssuerProfile,
    achievement_for_bloc,
    achievement_for_title,
)
from lti_tool.certification.ob3.baking import badge_png
from lti_tool.config import Settings
from referentiel.model import Framework


class UnknownFrameworkError(LookupError):
    """A session names a référentiel version that is not installed."""


def issuer_profile(settings: Settings) -> IssuerProfile:
    """Return the certifier's Open Badges profile, at its public address."""
    certifier = settings.certifier
    return IssuerProfile(
        id=links.issuer_url(settings.base_url),
        name=certifier.name,
        url=certifier.url,
        email=certifier.email,
    )


def session_framework(db: Session, session: CertificationSession) -> Framework:
    """Return the référentiel version a session certifies."""
    try:
        return sessions.session_framework(db, session)
    except LookupError as gone:
        raise UnknownFrameworkError(
            f"framework_code: {session.framework_code} {session.framework_version} is not installed"
        ) from gone


def achievement(framework: Framework, scope: str, code: str, base_url: str) -> Achievement:
    """Return the achievement of a bloc, or of the title, of a référentiel."""
    if scope == DecisionScope.TITLE:
        return achievement_for_title(framework, base_url)
    if code not in {bloc.code for bloc in framework.blocs}:
        raise UnknownFrameworkError(f"code: {code} is not a bloc of {framework.code}")
    return achievement_for_bloc(framework, code, base_url)


_images: dict[tuple[str, str, str, str, str, str], bytes] = {}


def badge_image(db: Session, credential: IssuedCredential, settings: Settings) -> bytes:
    """Return the image a credential is baked into, drawn once per process and achievement."""
    session = db.scalars(
        sa.select(CertificationSession)
        .join(Candidate, Candidate.session_id == CertificationSession.id)
        .join(JuryDecision, JuryDecision.candidate_id == Candidate.id)
        .where(JuryDecision.id == credential.decision_id)
    ).one()
    key = (
        session.framework_code,
        session.framework_version,
        credential.scope,
        credential.code,
        settings.base_url,
        settings.certifier.name,
    )
    image = _images.get(key)
    if image is None:
        framework = session_framework(db, session)
        drawn = achievement(framework, credential.scope, credential.code, settings.base_url)
        image = badge_png(drawn, issuer_name=settings.certifier.name)
        if len(_images) >= 64:
            _images.clear()
        _images[key] = image
    return image
