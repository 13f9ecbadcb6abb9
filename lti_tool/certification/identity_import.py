"""The school's CSV of holder identities: read, matched to a session's candidates, all or nothing.

The file is UTF-8 (with or without a byte order mark), its delimiter ``;`` or ``,`` (the
header line says which), its first line the column names of :data:`COLUMNS` (case, accents
and spaces around them do not matter; a column may be left out, an unknown one is an error).
Each row names ONE candidate of the session: by ``email``, the address the LMS sent at
launch (compared without case), else by ``identifiant``, the LMS login
(``preferred_username``) or its ``person_sourcedid``. A row matching no candidate, or
several, is an error; so is a candidate named twice. Nothing is written unless every row
is right: :class:`ImportRefused` lists each error by line, column and reason, never a value.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from lti_tool.certification.identity import (
    IdentityData,
    field_errors,
    identity_of,
    identity_schema,
    save_identity,
)
from lti_tool.certification.identity_retention import may_keep, settle, standing
from lti_tool.certification.models import Candidate, CertificationSession
from lti_tool.db import utcnow
from lti_tool.models import LtiUser

# Column → schema field; the two matching columns and the birth date are read apart.
COLUMNS: dict[str, str | None] = {
    "email": None,
    "identifiant": None,
    "nom_naissance": "birth_name",
    "nom_usage": "usage_name",
    "prenom1": "first_name_1",
    "prenom2": "first_name_2",
    "prenom3": "first_name_3",
    "date_naissance": None,
    "sexe": "sex",
    "code_insee_naissance": "birth_insee_code",
    "code_postal_naissance": "birth_postal_code",
    "commune_naissance": "birth_city",
    "pays_naissance": "birth_country_code",
    "voie_acces": "access_route",
    "voie_acces_vae": "vae_route",
    "initiative_inscription": "registration_initiative",
    "date_inscription": "registration_date",
}
COLUMN_OF = {name: column for column, name in COLUMNS.items() if name} | dict.fromkeys(
    ("birth_year", "birth_month", "birth_day"), "date_naissance"
)
NOT_KEPT = (
    "la session est signée et rien n’est validé pour ce candidat : son identité n’est pas conservée"
)
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
FULL_DATE = (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), re.compile(r"(\d{4})-(\d{2})-(\d{2})"))


def template_line(delimiter: str = ";") -> str:
    """Return the header line of the CSV, every column in order."""
    return delimiter.join(COLUMNS)


@dataclass(frozen=True, order=True)
class RowError:
    """One thing wrong with the file: its line (1 is the header), column and reason."""

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"ligne {self.line}" + (f", colonne {self.column}" if self.column else "")
        return f"{where} : {self.reason}"


class ImportRefused(ValueError):  # noqa: N818 (a refusal, like UploadRefused)
    """The file has errors; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} error(s); nothing was imported")
        self.errors = sorted(errors)


@dataclass
class ImportReport:
    """How many identities the import created and replaced."""

    created: int = 0
    updated: int = 0
    learner_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    line: int
    values: dict[str, str]


def _column_name(raw: str) -> str:
    plain = unicodedata.normalize("NFKD", raw.strip().lstrip("\ufeff").lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[\s\-]+", "_", plain)


def read_rows(data: bytes) -> list[_Row]:
    """Return the data rows of the file, or raise :class:`ImportRefused` on its shape."""
    if len(data) > MAX_BYTES:
        raise ImportRefused([RowError(0, "", f"le fichier dépasse {MAX_BYTES} octets")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRefused([RowError(line, "", "le fichier n’est pas en UTF-8")]) from None
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        names = [_column_name(name) for name in next(reader, [])]
    except csv.Error as exc:
        raise ImportRefused([RowError(1, "", f"ligne illisible ({exc})")]) from None
    errors = [RowError(1, n or "?", "colonne inconnue") for n in names if n not in COLUMNS]
    errors += [RowError(1, n, "colonne en double") for n in set(names) if names.count(n) > 1]
    for needed in ("nom_naissance", "prenom1"):
        if needed not in names:
            errors.append(RowError(1, needed, "colonne obligatoire absente"))
    if "email" not in names and "identifiant" not in names:
        errors.append(RowError(1, "email", "il faut une colonne email ou identifiant"))
    if errors:
        raise ImportRefused(errors)
    rows = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(names):
                errors.append(
                    RowError(
                        reader.line_num, "", f"{len(cells)} cellules pour {len(names)} colonnes"
                    )
                )
                continue
            rows.append(_Row(reader.line_num, dict(zip(names, cells, strict=True))))
            if len(rows) > MAX_ROWS:
                raise ImportRefused([RowError(reader.line_num, "", f"plus de {MAX_ROWS} lignes")])
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, "", f"ligne illisible ({exc})"))
    if errors:
        raise ImportRefused(errors)
    return rows


def birth_date(text: str) -> dict[str, str]:
    """Split JJ/MM/AAAA, AAAA-MM-JJ, MM/AAAA or AAAA into the schema's three fields."""
    text = text.strip()
    if not text:
        return {}
    for pattern in FULL_DATE:
        match = pattern.fullmatch(text)
        if match:
            parts = match.groups()
            day, month, year = parts if pattern is FULL_DATE[0] else parts[::-1]
            return {"birth_year": year, "birth_month": month, "birth_day": day}
    match = re.fullmatch(r"(\d{1,2})/(\d{4})", text)
    if match:
        return {"birth_year": match.group(2), "birth_month": match.group(1)}
    if re.fullmatch(r"\d{4}", text):
        return {"birth_year": text}
    raise ValueError("n’est pas une date (JJ/MM/AAAA ou AAAA-MM-JJ)")


def _registration_date(text: str) -> str:
    match = FULL_DATE[0].fullmatch(text.strip())
    if match:
        day, month, year = (int(part) for part in match.groups())
        try:
            return dt.date(year, month, day).isoformat()
        except ValueError:
            return text
    return text


@dataclass(frozen=True)
class _People:
    """The session's candidates, indexed by what a row may name them with."""

    by_email: dict[str, set[int]]
    by_login: dict[str, set[int]]
    learners: dict[int, LtiUser]


def _people(db: Session, session_id: int) -> _People:
    by_email: dict[str, set[int]] = defaultdict(set)
    by_login: dict[str, set[int]] = defaultdict(set)
    learners: dict[int, LtiUser] = {}
    rows = db.scalars(
        sa.select(LtiUser)
        .join(Candidate, Candidate.learner_id == LtiUser.id)
        .where(Candidate.session_id == session_id)
    )
    for person in rows:
        learners[person.id] = person
        if person.email:
            by_email[person.email.strip().casefold()].add(person.id)
        for login in (person.preferred_username, person.person_sourcedid):
            if login:
                by_login[login.strip().casefold()].add(person.id)
    return _People(by_email, by_login, learners)


def _match(row: _Row, people: _People, errors: list[RowError]) -> int | None:
    email = row.values.get("email", "").strip().casefold()
    login = row.values.get("identifiant", "").strip().casefold()
    if not email and not login:
        errors.append(
            RowError(row.line, "email", "ni adresse ni identifiant pour trouver le candidat")
        )
        return None
    column, found = ("email", people.by_email.get(email, set())) if email else ("", set())
    if not email:
        column, found = "identifiant", people.by_login.get(login, set())
    if not found:
        errors.append(RowError(row.line, column, "aucun candidat de la session ne correspond"))
        return None
    if len(found) > 1:
        errors.append(RowError(row.line, column, "plusieurs candidats de la session correspondent"))
        return None
    if email and login and people.by_login.get(login, set()) != found:
        errors.append(RowError(row.line, "identifiant", "ne désigne pas le candidat de l’adresse"))
        return None
    return next(iter(found))


def _identity(row: _Row, errors: list[RowError]) -> IdentityData | None:
    loaded: dict[str, Any] = {
        name: row.values[column]
        for column, name in COLUMNS.items()
        if name and column in row.values
    }
    if "registration_date" in loaded:
        loaded["registration_date"] = _registration_date(loaded["registration_date"])
    try:
        loaded.update(birth_date(row.values.get("date_naissance", "")))
    except ValueError as exc:
        errors.append(RowError(row.line, "date_naissance", str(exc)))
        return None
    try:
        data: IdentityData = identity_schema().load(loaded)
    except ValidationError as error:
        for name, messages in field_errors(error).items():
            column = COLUMN_OF.get(name, name)
            errors.extend(RowError(row.line, column, message) for message in messages)
        return None
    return data


def import_identities(
    db: Session,
    session: CertificationSession,
    data: bytes,
    *,
    retention_days: int,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Check every row of the CSV, then store each candidate's identity; flush only.

    Raise :class:`ImportRefused` (and write nothing) when any row is wrong. Into a session
    already signed, only holders it may keep are taken (:mod:`identity_retention`), and
    their deletion date is set at once.
    """
    rows = read_rows(data)
    people = _people(db, session.id)
    errors: list[RowError] = []
    seen: dict[int, int] = {}
    ready: list[tuple[int, IdentityData]] = []
    for row in rows:
        learner_id = _match(row, people, errors)
        identity = _identity(row, errors)
        if learner_id is None or identity is None:
            continue
        if learner_id in seen:
            errors.append(RowError(row.line, "", f"même candidat qu’à la ligne {seen[learner_id]}"))
            continue
        seen[learner_id] = row.line
        if session.is_signed and not may_keep(standing(db, learner_id)):
            errors.append(RowError(row.line, "", NOT_KEPT))
            continue
        ready.append((learner_id, identity))
    if not rows:
        errors.append(RowError(2, "", "aucune ligne de candidat"))
    if errors:
        raise ImportRefused(errors)
    report = ImportReport()
    for learner_id, identity in ready:
        existed = identity_of(db, learner_id) is not None
        saved = save_identity(db, people.learners[learner_id], identity, source="csv")
        if session.is_signed:
            settle(db, saved, retention_days, now or utcnow())
        report.updated += existed
        report.created += not existed
        report.learner_ids.append(learner_id)
    return report
