"""The accrochage certificateur: the ``cpf:flux`` XML file for the Caisse des Dépôts.

By law (since 1 July 2021), a certifier declares every holder of an RNCP certification to the
Caisse des Dépôts within three months; the file feeds the holder's Passeport de compétences.
:func:`declare` reads a signed jury session, checks every value (per candidate, per field),
builds the file and validates it against the XSD; nothing is returned — or written — unless
all of it passed. No Flask here: the CLI and the admin page call these functions.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree
from sqlalchemy.orm import Session

from lti_tool.certification.accrochage.checks import check_flux
from lti_tool.certification.accrochage.gather import (
    Declaration,
    NameOf,
    UnknownSessionError,
    gather,
)
from lti_tool.certification.accrochage.model import Certifier, Issue, Problem
from lti_tool.certification.accrochage.write import Outcome, render_flux, write_atomically
from lti_tool.certification.accrochage.xsd import SchemaError, load_schema


def declare(
    db: Session,
    session_id: int,
    certifier: Certifier,
    base_url: str,
    schema: etree.XMLSchema,
    *,
    name_of: NameOf,
    now: dt.datetime | None = None,
) -> tuple[Declaration, Outcome]:
    """Return a session's declaration and its file, or every problem that stops the file.

    Raises UnknownSessionError when no session has this id. Reads only: the caller writes
    the bytes (:func:`write_atomically`) or sends them.
    """
    declaration = gather(
        db, session_id, certifier, base_url, now or dt.datetime.now(dt.UTC), name_of=name_of
    )
    if declaration.problems:
        found = (*declaration.problems, *check_flux(declaration.flux))
        return declaration, Outcome(None, found)
    return declaration, render_flux(declaration.flux, schema)


__all__ = [
    "Certifier",
    "Declaration",
    "Issue",
    "Outcome",
    "Problem",
    "SchemaError",
    "UnknownSessionError",
    "declare",
    "load_schema",
    "write_atomically",
]
