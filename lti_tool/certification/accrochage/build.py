"""Build the ``cpf:flux`` document (lxml) from checked inputs; no validation here.

Element order follows the XSD's declarations even where it uses ``xsd:all``, so the file
reads like the Caisse des Dépôts' own examples. Optional elements Jalon has no value for are
left out; required ones the XSD lets be empty (``nomUsage``, ``dateFinValidite``…) are
written ``xsi:nil="true"``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from lxml import etree

from lti_tool.certification.accrochage.model import Flux, Holder, Identity, Obtained

NAMESPACE = "urn:cdc:cpf:pc5:schema:1.0.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_NSMAP = {"cpf": NAMESPACE, "xsi": XSI}
_NIL = f"{{{XSI}}}nil"


def flux_id(session_id: int, now: dt.datetime) -> str:
    """Return a new ``idFlux``: unique per file (the Caisse refuses a file sent twice)."""
    return f"JALON-S{session_id}-{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:12]}"


def technical_id(base_url: str, learner_id: int, framework: str, certification: str) -> str:
    """Return a passage's ``idTechnique``: the same in every file, opaque (no personal data).

    It names the holder and what they obtained on this Jalon, not the session or the
    decision, so a correction or a second file declares the same passage again.
    """
    name = f"{base_url.rstrip('/')}|{learner_id}|{framework}|{certification}"
    return f"JALON-{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def timestamp(now: dt.datetime) -> str:
    """Return ``horodatage`` as the XSD's pattern wants it: seconds and a ``±hh:mm`` offset."""
    aware = now if now.utcoffset() is not None else now.replace(tzinfo=dt.UTC)
    return aware.replace(microsecond=0).isoformat()


def build_document(flux: Flux) -> etree._Element:
    """Return the ``cpf:flux`` element of a file."""
    root = etree.Element(_tag("flux"), nsmap=_NSMAP)
    _text(root, "idFlux", flux.flux_id)
    _text(root, "horodatage", timestamp(flux.timestamp))
    sender = _child(root, "emetteur")
    _text(sender, "idClient", flux.certifier.id_client or "")
    certifier = _child(_child(sender, "certificateurs"), "certificateur")
    _text(certifier, "idClient", flux.certifier.id_client or "")
    _text(certifier, "idContrat", flux.certifier.id_contrat or "")
    certifications = _child(certifier, "certifications")
    by_code: dict[str, list[tuple[Holder, Obtained]]] = defaultdict(list)
    for holder in flux.holders:
        for obtained in holder.obtained:
            by_code[obtained.rncp or ""].append((holder, obtained))
    for code in sorted(by_code):
        certification = _child(certifications, "certification")
        _text(certification, "type", "RNCP")
        _text(certification, "code", code)
        _text(certification, "natureDeposant", "CERTIFICATEUR")
        passages = _child(certification, "passageCertifications")
        for holder, obtained in by_code[code]:
            _passage(passages, flux, holder, obtained)
    return root


def serialize(root: etree._Element) -> bytes:
    """Return the document as UTF-8 bytes with an XML declaration, indented."""
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _passage(parent: etree._Element, flux: Flux, holder: Holder, obtained: Obtained) -> None:
    session = flux.session
    passage = _child(parent, "passageCertification")
    _text(passage, "idTechnique", obtained.technical_id)
    _optional(passage, "urlPreuve", obtained.proof_url)
    _text(passage, "obtentionCertification", "PAR_ADMISSION")
    _text(passage, "donneeCertifiee", "true")
    _optional(passage, "dateDebutExamen", _day(session.exam_start))
    _optional(passage, "dateFinExamen", _day(session.exam_end))
    _optional(passage, "modalitePassageExamen", session.exam_mode)
    _optional(passage, "codePostalCentreExamen", session.exam_postal_code)
    _text(passage, "dateDebutValidite", obtained.valid_from.isoformat())
    _nillable(passage, "dateFinValidite", _day(obtained.valid_until))
    _text(passage, "presenceNiveauLangueEuro", "false")
    _text(passage, "presenceNiveauNumeriqueEuro", "false")
    _nillable(passage, "scoring", None)
    _nillable(passage, "mentionValidee", None)
    identity = holder.identity or Identity()
    registration = _child(passage, "modalitesInscription")
    _nillable(registration, "modaliteAcces", identity.access_route)
    _optional(registration, "voieAccessVAE", identity.vae_route)
    _optional(registration, "initiativeInscription", identity.registration_initiative)
    _optional(registration, "dateInscription", _day(identity.registration_date))
    _holder(_child(_child(passage, "identificationTitulaire"), "titulaire"), identity)


def _holder(titulaire: etree._Element, identity: Identity) -> None:
    _text(titulaire, "nomNaissance", identity.birth_name or "")
    _nillable(titulaire, "nomUsage", identity.usage_name)
    _text(titulaire, "prenom1", identity.first_name_1 or "")
    _optional(titulaire, "prenom2", identity.first_name_2)
    _optional(titulaire, "prenom3", identity.first_name_3)
    _text(titulaire, "anneeNaissance", _number(identity.birth_year) or "")
    _nillable(titulaire, "moisNaissance", _number(identity.birth_month))
    _nillable(titulaire, "jourNaissance", _number(identity.birth_day))
    _text(titulaire, "sexe", identity.sex or "")
    place = _child(titulaire, "codeCommuneNaissance")
    if identity.birth_insee_code:
        _text(_child(place, "codeInseeNaissance"), "codeInsee", identity.birth_insee_code)
    else:
        _text(_child(place, "codePostalNaissance"), "codePostal", identity.birth_postal_code or "")
    _optional(titulaire, "libelleCommuneNaissance", identity.birth_city)
    _optional(titulaire, "codePaysNaissance", identity.birth_country_code)


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _child(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, _tag(name))


def _text(parent: etree._Element, name: str, value: str) -> None:
    _child(parent, name).text = value


def _optional(parent: etree._Element, name: str, value: str | None) -> None:
    if value is not None and value != "":
        _text(parent, name, value)


def _nillable(parent: etree._Element, name: str, value: str | None) -> None:
    if value is None or value == "":
        _child(parent, name).set(_NIL, "true")
    else:
        _text(parent, name, value)


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _number(value: int | None) -> str | None:
    return None if value is None else str(value)
