"""Verify a credential, JSON (Data Integrity) or ``vc+jwt``: one ordered list of checks.

Every check that can run does, so the public page can say at once that a credential is
both expired and revoked; ``is_valid`` holds only when every check passed. The keys and the
revocation bits come from the caller (``resolve_key``, ``status_of``): this module reads no
database and fetches nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from typing import Any

import jsonschema
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lti_tool.certification.ob3.integrity import ProofError, proofs_of, verify_proof
from lti_tool.certification.ob3.jose import JwtError, read_jwt, verify_jwt
from lti_tool.certification.ob3.loader import OB_SCHEMA, bundled_document
from lti_tool.certification.ob3.messages import MESSAGES

KeyResolver = Callable[[str], Ed25519PublicKey | None]
StatusLookup = Callable[[str, int], bool | None]


@dataclass(frozen=True, slots=True)
class Check:
    """One verification step: ``message`` is a French msgid, ``detail`` the technical reason."""

    code: str
    ok: bool
    message: str
    detail: str = ""
    outcome: str = ""  # "ok", "ko", "unchecked", "unknown" or "none"


@dataclass(frozen=True, slots=True)
class Verification:
    """The checks, in order, and the credential they were run on (None if unreadable)."""

    checks: tuple[Check, ...]
    credential: dict[str, Any] | None = None
    format: str | None = None  # "json" or "jwt"
    _by_code: dict[str, Check] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {check.code: check for check in self.checks})

    @property
    def is_valid(self) -> bool:
        """Whether every check passed."""
        return bool(self.checks) and all(check.ok for check in self.checks)

    def check(self, code: str) -> Check | None:
        """Return the check with this code, if it ran."""
        return self._by_code.get(code)

    @property
    def is_revoked(self) -> bool:
        """Whether the status list says the credential was revoked."""
        status = self.check("status")
        return status is not None and status.outcome == "ko"

    @property
    def is_expired(self) -> bool:
        """Whether ``validUntil`` has passed."""
        until = self.check("valid_until")
        return until is not None and not until.ok


def _check(code: str, outcome: str, detail: str = "") -> Check:
    return Check(code, outcome in ("ok", "none"), MESSAGES[code, outcome], detail, outcome)


@cache
def _schema_validator() -> jsonschema.Draft201909Validator:
    return jsonschema.Draft201909Validator(
        bundled_document(OB_SCHEMA),
        format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER,
    )


def schema_problems(credential: dict[str, Any], limit: int = 5) -> list[str]:
    """Return where and why the credential breaks the OB 3.0 schema (empty if it does not)."""
    problems = []
    for error in _schema_validator().iter_errors(credential):
        where = "/".join(str(step) for step in error.absolute_path) or "(document)"
        problems.append(f"{where}: {error.message[:200]}")
        if len(problems) >= limit:
            break
    return problems


def _parse(credential: dict[str, Any] | str) -> tuple[str, dict[str, Any], str | None]:
    """Return (format, the credential, the token if a JWT); raise ValueError if unreadable."""
    if isinstance(credential, dict):
        return "json", credential, None
    text = credential.strip()
    if text.startswith("{"):
        parsed = json.loads(text)
        if not isinstance(parsed, dict):
            raise ValueError("not a JSON object")
        return "json", parsed, None
    _header, payload = read_jwt(text)
    return "jwt", payload, text


def _candidates(
    document: dict[str, Any], token: str | None
) -> list[tuple[str, Callable[[Ed25519PublicKey], object]]]:
    """Return each (verification method, how to check it) the credential offers."""
    if token is not None:
        kid = read_jwt(token)[0].get("kid")
        return [(kid, lambda key: verify_jwt(token, key))] if isinstance(kid, str) else []
    candidates: list[tuple[str, Callable[[Ed25519PublicKey], object]]] = []
    for proof in proofs_of(document):
        method = proof.get("verificationMethod")
        if isinstance(method, str):
            candidates.append((method, partial(verify_proof, document, proof)))
    return candidates


def _signature_checks(
    document: dict[str, Any], token: str | None, resolve_key: KeyResolver
) -> list[Check]:
    try:
        candidates = _candidates(document, token)
    except ProofError as error:
        return [_check("key", "ko", str(error)), _check("signature", "unchecked")]
    for method, check in candidates:
        key = resolve_key(method)
        if key is None:
            continue
        try:
            check(key)
        except (ProofError, JwtError) as error:
            return [_check("key", "ok", method), _check("signature", "ko", str(error))]
        return [_check("key", "ok", method), _check("signature", "ok")]
    detail = ", ".join(method for method, _check_it in candidates) or "no verification method"
    return [_check("key", "ko", detail), _check("signature", "unchecked")]


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _validity_checks(document: dict[str, Any], now: datetime) -> list[Check]:
    checks = []
    valid_from = _moment(document.get("validFrom"))
    if valid_from is None:
        checks.append(_check("valid_from", "ko", "validFrom is missing or not a date-time"))
    else:
        outcome = "ok" if valid_from <= now else "ko"
        checks.append(_check("valid_from", outcome, document["validFrom"]))
    if "validUntil" in document:
        valid_until = _moment(document["validUntil"])
        outcome = "ok" if valid_until is not None and now < valid_until else "ko"
        checks.append(_check("valid_until", outcome, str(document["validUntil"])))
    return checks


def _status_check(document: dict[str, Any], status_of: StatusLookup) -> Check:
    statuses = document.get("credentialStatus")
    entries = statuses if isinstance(statuses, list) else [statuses] if statuses else []
    revocation = [
        entry
        for entry in entries
        if isinstance(entry, dict)
        and entry.get("type") == "BitstringStatusListEntry"
        and entry.get("statusPurpose") == "revocation"
    ]
    if not revocation:
        return _check("status", "none")
    entry = revocation[0]
    url, index = entry.get("statusListCredential"), entry.get("statusListIndex")
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not isinstance(url, str) or not isinstance(index, str) or not _is_index(index):
        return _check("status", "unknown", "statusListCredential or statusListIndex is invalid")
    revoked = status_of(url, int(index))
    if revoked is None:
        return _check("status", "unknown", f"{url} #{index}")
    return _check("status", "ko" if revoked else "ok", f"{url} #{index}")


def _is_index(text: str) -> bool:
    """Whether ``text`` is a bit index as a list can hold one: 1 to 18 ASCII digits."""
    return 0 < len(text) <= 18 and text.isascii() and text.isdigit()


def verify(
    credential: dict[str, Any] | str,
    *,
    resolve_key: KeyResolver,
    status_of: StatusLookup,
    now: datetime,
) -> Verification:
    """Verify a credential as JSON (with its ``eddsa-rdfc-2022`` proof) or as a ``vc+jwt``.

    ``resolve_key`` maps a verification method's URL to the issuer's public key, or None if
    the URL names no key of the issuer; ``status_of`` maps a status list URL and an index to
    the revocation bit, or None when it cannot be read. ``now`` must be timezone-aware.
    """
    if now.tzinfo is None:
        raise ValueError("now: a naive datetime")
    try:
        kind, document, token = _parse(credential)
    except (ValueError, JwtError) as error:
        return Verification(checks=(_check("format", "ko", str(error)[:300]),))
    checks = [_check("format", "ok", kind)]
    problems = schema_problems(document)
    checks.append(_check("schema", "ko" if problems else "ok", "; ".join(problems)))
    checks.extend(_signature_checks(document, token, resolve_key))
    checks.extend(_validity_checks(document, now))
    checks.append(_status_check(document, status_of))
    return Verification(checks=tuple(checks), credential=document, format=kind)
