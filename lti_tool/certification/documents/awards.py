"""What a certificate (one validated bloc) and a parchment (the title) print.

Both are read from the issued credential: its decision, the session that took it, the
référentiel version deliberated on, and the holder as Jalon names them. A revoked
credential prints nothing (:class:`RevokedCredentialError`, with the reason given).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from lti_tool.certification.documents.errors import NotPrintableError, RevokedCredentialError
from lti_tool.certification.documents.minutes import names_of, session_framework
from lti_tool.certification.links import verification_url
from lti_tool.certification.models import (
    CertificationSession,
    DecisionScope,
    IssuedCredential,
    JuryDecision,
    JuryMember,
    JuryRole,
)
from lti_tool.config import Settings
from referentiel.model import Bloc, Framework

LONG_NAME = 48  # characters: about two lines of the name's large type


@dataclass(frozen=True)
class Award:
    """A validated bloc or title, its holder, the jury that decided, and where to verify it."""

    credential: IssuedCredential
    decision: JuryDecision
    session: CertificationSession
    framework: Framework
    rncp: str | None
    holder: str
    bloc: Bloc | None  # the certificate's bloc; None on a parchment
    president: JuryMember | None
    certifier_name: str
    certifier_url: str | None
    url: str  # the public verification page, which the QR code holds

    @property
    def address(self) -> tuple[str, str]:
        """Return the verification URL in two parts, the path and the id, to print apart.

        The id never wraps: a line break at one of its hyphens would read as a hyphen cut.
        """
        path, _slash, last = self.url.rpartition("/")
        return f"{path}/", last

    @property
    def holder_is_long(self) -> bool:
        """Return whether the name needs a smaller type to stay within its page."""
        return len(self.holder) > LONG_NAME


def gather(db: Session, credential: IssuedCredential, settings: Settings, scope: str) -> Award:
    """Read what the document of ``credential`` prints; refuse what must not be printed."""
    if credential.revoked_at is not None:
        raise RevokedCredentialError(credential.revocation_reason)
    if credential.scope != scope:
        raise NotPrintableError(f"a {credential.scope} credential, not a {scope} one")
    decision = db.get(JuryDecision, credential.decision_id)
    if decision is None or not decision.is_validated or decision.code != credential.code:
        raise NotPrintableError("the credential's decision is not a validation of its code")
    session = decision.candidate.session
    framework = session_framework(db, session)
    bloc = None
    if scope == DecisionScope.BLOC:
        bloc = next((b for b in framework.blocs if b.code == credential.code), None)
        if bloc is None:
            raise NotPrintableError(f"bloc {credential.code} is not in the référentiel")
    president = next((m for m in session.members if m.role == JuryRole.PRESIDENT), None)
    return Award(
        credential=credential,
        decision=decision,
        session=session,
        framework=framework,
        rncp=getattr(framework.identity, "rncp", None),
        holder=names_of(db, [credential.learner_id]).get(credential.learner_id, ""),
        bloc=bloc,
        president=president,
        certifier_name=settings.certifier.name,
        certifier_url=settings.certifier.url,
        url=verification_url(settings.base_url, credential.public_id),
    )
