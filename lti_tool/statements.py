"""Turn what happens in the web app into xAPI statements, in the same transaction.

Each function builds the domain event, serializes its statement once and adds it to the
outbox with the caller's session, so the statement exists exactly when the event does.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.frameworks import UNREAD, current_framework
from lti_tool.lti.roles import Roles
from lti_tool.lti.tool_config import RegisteredPlatform
from xapi.events import Launched, LmsContext, LtiUser, ResourceLink
from xapi.outbox import enqueue
from xapi.statements import build

log = logging.getLogger(__name__)
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


def record_launched(
    session: Session,
    platform: RegisteredPlatform,
    claims: dict[str, Any],
    roles: Roles,
    launch_id: str,
    base_url: str,
    now: dt.datetime,
    framework_checksum: str | None = UNREAD,
) -> bool:
    """Queue the *launched* statement of a learner opening a placed épreuve.

    ``framework_checksum`` is the current version of the link's référentiel (None: there
    is none) if the caller read it already (:func:`lti_tool.lti.records.record_launch`).

    Staff launches, launches of a link that names no référentiel, and anonymous launches
    say nothing about a learner's progress, so they emit nothing. Return whether a
    statement was queued.
    """
    custom = claims.get(CLAIM + "custom") or {}
    link = claims.get(CLAIM + "resource_link") or {}
    context = claims.get(CLAIM + "context") or {}
    framework_code = custom.get("framework") if isinstance(custom, dict) else None
    sub = claims.get("sub")
    if roles.is_staff or not sub or not isinstance(framework_code, str) or not link.get("id"):
        return False
    epreuve_code = custom.get("epreuve") if isinstance(custom.get("epreuve"), str) else None
    try:
        event = Launched(
            learner=LtiUser(platform.issuer, str(sub), claims.get("name"), claims.get("email")),
            lms=LmsContext(
                issuer=platform.issuer,
                # The name the platform was registered under, as every other statement says
                # it: the LMS's own ``tool_platform`` name may differ, and change.
                platform_name=platform.name or platform.issuer,
                deployment_id=str(claims[CLAIM + "deployment_id"]),
                context_id=str(context.get("id") or link["id"]),
                context_title=context.get("title"),
            ),
            framework_code=framework_code,
            occurred_at=now,
            language=_language(claims),
            launch_id=launch_id,
            resource_link=ResourceLink(
                id=str(link["id"]),
                title=link.get("title"),
                epreuve_code=epreuve_code,
                bloc_codes=_blocs(session, framework_code, epreuve_code, framework_checksum),
            ),
        )
    except ValueError as exc:
        # A link whose custom parameters Jalon did not write: no statement, but no lost launch.
        log.warning("launch %s: no xAPI statement (%s)", launch_id, exc)
        return False
    record = build(event, base_url)
    enqueue(session, [record])
    return True


# Blocs of an épreuve, per framework version (checksum) and épreuve: the same few pairs
# recur at every launch, and a version's content never changes.
_BLOCS: dict[tuple[str, str], tuple[str, ...]] = {}


def _blocs(
    session: Session, framework_code: str, epreuve_code: str | None, checksum: str | None
) -> tuple[str, ...]:
    """Return the blocs an épreuve evaluates, in framework order."""
    if epreuve_code is None:
        return ()
    current = current_framework(session, framework_code, checksum)
    if current is None:
        return ()
    checksum, framework = current
    blocs = _BLOCS.get((checksum, epreuve_code))
    if blocs is None:
        try:
            covered = set(framework.epreuve(epreuve_code).competencies)
        except KeyError:
            covered = set()
        blocs = tuple(
            bloc.code
            for bloc in framework.blocs
            if any(c.code in covered for c in bloc.competencies)
        )
        if len(_BLOCS) >= 256:
            _BLOCS.clear()
        _BLOCS[(checksum, epreuve_code)] = blocs
    return blocs


def _language(claims: dict[str, Any]) -> str | None:
    presentation = claims.get(CLAIM + "launch_presentation") or {}
    locale = presentation.get("locale") if isinstance(presentation, dict) else None
    return locale.replace("_", "-") if isinstance(locale, str) and locale else None
