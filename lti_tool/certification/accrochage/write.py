"""Check, build, validate, and only then write: a file is either valid and whole, or absent."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from lti_tool.certification.accrochage.build import build_document, serialize
from lti_tool.certification.accrochage.checks import check_flux
from lti_tool.certification.accrochage.model import Flux, Problem
from lti_tool.certification.accrochage.xsd import Passage, schema_problems


@dataclass(frozen=True, slots=True)
class Outcome:
    """The document when everything passed, else every problem found (and no document)."""

    document: bytes | None
    problems: tuple[Problem, ...]

    @property
    def is_valid(self) -> bool:
        """Return whether the document may be sent."""
        return self.document is not None and not self.problems


def render_flux(flux: Flux, schema: etree.XMLSchema) -> Outcome:
    """Return the file's bytes, validated against ``schema``, or the problems that stop it.

    The inputs are checked first (per candidate, per field); only inputs without a problem
    are built and validated, so the schema's messages come last and rarely.
    """
    problems = check_flux(flux)
    if problems:
        return Outcome(None, tuple(problems))
    document = serialize(build_document(flux))
    passages = {
        obtained.technical_id: Passage(holder.number, holder.name, obtained.certification)
        for holder in flux.holders
        for obtained in holder.obtained
    }
    refused = schema_problems(document, schema, passages)
    if refused:
        return Outcome(None, tuple(refused))
    return Outcome(document, ())


def write_flux(flux: Flux, schema: etree.XMLSchema, output: Path) -> Outcome:
    """Write the validated file to ``output`` (atomically), or write nothing at all."""
    outcome = render_flux(flux, schema)
    if outcome.document is None:
        return outcome
    write_atomically(output, outcome.document)
    return outcome


def write_atomically(output: Path, data: bytes) -> None:
    """Write ``data`` next to ``output`` then rename it: readers never see half a file."""
    directory = output.resolve().parent
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
