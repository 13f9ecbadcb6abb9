"""The Caisse des Dépôts' XSD: the copy Jalon ships, or a newer one the certifier supplies.

The shipped file is a byte copy of ``specs/cdc-cpf-accrochage-1.1.2.xsd`` (its SHA-256 is
checked by the tests). A schema is parsed without network access or entity expansion: an
XSD a person uploads is data, not a set of instructions to fetch things.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lxml import etree

from lti_tool.certification.accrochage.build import NAMESPACE
from lti_tool.certification.accrochage.model import Issue, Problem

DEFAULT_XSD_NAME = "cdc-cpf-accrochage-1.1.2.xsd"
DEFAULT_XSD_SHA256 = "2509b073cb7a2fa30807f71c76e8aab8208c61943fe56ee503d6d64cc08036fc"
MAX_XSD_BYTES = 2 * 1024 * 1024
XSD = "http://www.w3.org/2001/XMLSchema"


class SchemaError(ValueError):
    """An XSD that cannot be read or is not a usable schema."""


def default_xsd() -> bytes:
    """Return the XSD shipped with Jalon (version 1.1.2)."""
    return (resources.files(__package__) / DEFAULT_XSD_NAME).read_bytes()


def load_schema(source: bytes | Path | None = None) -> etree.XMLSchema:
    """Return the schema of ``source`` (bytes or a file), or the shipped one; else SchemaError."""
    if source is None:
        data = default_xsd()
    elif isinstance(source, Path):
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise SchemaError(f"{source}: {exc.strerror or exc}") from exc
    else:
        data = source
    if len(data) > MAX_XSD_BYTES:
        raise SchemaError(f"larger than {MAX_XSD_BYTES // (1024 * 1024)} MB")
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    try:
        document = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise SchemaError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    if document.get("targetNamespace") != NAMESPACE:
        raise SchemaError(f"its targetNamespace is not {NAMESPACE}")
    # The Caisse's XSD is one file: a schema that pulls in others could read this server's.
    for name in ("include", "import", "redefine", "override"):
        if document.find(f".//{{{XSD}}}{name}") is not None:
            raise SchemaError(f"it must be self-contained (it has xsd:{name})")
    try:
        return etree.XMLSchema(document)
    except etree.XMLSchemaParseError as exc:
        raise SchemaError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc


@dataclass(frozen=True, slots=True)
class Passage:
    """Who a ``passageCertification`` of the document is about (to locate XSD errors)."""

    candidate: int
    name: str
    certification: str


def schema_problems(
    document: bytes, schema: etree.XMLSchema, passages: dict[str, Passage]
) -> list[Problem]:
    """Validate the serialized document; return the schema's errors as located problems.

    ``passages`` maps each ``idTechnique`` to its candidate, so an error inside a passage
    names the candidate; the field is the element the error is on.
    """
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    root = etree.fromstring(document, parser)
    if schema.validate(root):
        return []
    by_line: dict[int, etree._Element] = {}
    for element in root.iter():
        if isinstance(element.tag, str):
            by_line.setdefault(element.sourceline or 0, element)
    problems = []
    for error in schema.error_log:
        element = by_line.get(error.line)
        field = etree.QName(element).localname if element is not None else "flux"
        passage = _passage_of(element, passages)
        message = error.message.replace(f"{{{NAMESPACE}}}", "")
        if passage is None:
            problems.append(Problem(field, Issue.XSD, message))
        else:
            problems.append(
                Problem(
                    field,
                    Issue.XSD,
                    message,
                    passage.candidate,
                    passage.name,
                    passage.certification,
                )
            )
    return problems


def _passage_of(element: etree._Element | None, passages: dict[str, Passage]) -> Passage | None:
    while element is not None:
        if etree.QName(element).localname == "passageCertification":
            key = element.findtext(f"{{{NAMESPACE}}}idTechnique")
            return passages.get(key or "")
        element = element.getparent()
    return None
