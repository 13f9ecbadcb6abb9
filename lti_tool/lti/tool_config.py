"""pylti1p3's tool configuration, read from the database for each request.

pylti1p3's ``ToolConfDict`` keeps its issuer map in a class attribute shared by every
instance; this configuration holds nothing but the request's session. Registrations are
always looked up by issuer *and* client id, because Canvas uses one issuer for every
hosted instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pylti1p3.deployment import Deployment as PyltiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract
from sqlalchemy.orm import Session

from lti_tool.lti import keys
from lti_tool.models import Deployment, Platform


@dataclass(frozen=True)
class RegisteredPlatform:
    """A platform registration and its deployment ids, as one launch reads them.

    Plain values rather than ORM objects: the lookup runs on every login and launch.
    """

    id: int
    issuer: str
    client_id: str
    name: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    auth_audience: str | None
    product_family_code: str | None
    deployment_ids: frozenset[str]


_P, _D = Platform.__table__, Deployment.__table__
_PLATFORM_COLUMNS = (
    "id",
    "issuer",
    "client_id",
    "name",
    "auth_login_url",
    "auth_token_url",
    "key_set_url",
    "auth_audience",
    "product_family_code",
)
# Built once: the registrations of an issuer with their deployments, in one query.
_PLATFORMS = (
    sa.select(*(_P.c[name] for name in _PLATFORM_COLUMNS), _D.c.deployment_id)
    .select_from(_P.outerjoin(_D, _D.c.platform_id == _P.c.id))
    .where(_P.c.issuer == sa.bindparam("iss"))
    .order_by(_P.c.id)
)


class JalonRegistration(Registration):
    """A pylti1p3 registration backed by a platform registration and Jalon's current key.

    The private key is handed to PyJWT as a loaded key object, never as a PEM string
    (parsing a PEM for each signature costs ~40 ms).
    """

    def __init__(self, platform: RegisteredPlatform, session: Session) -> None:
        self.platform = platform
        self._session = session
        self.set_issuer(platform.issuer)
        self.set_client_id(platform.client_id)
        self.set_auth_login_url(platform.auth_login_url)
        self.set_auth_token_url(platform.auth_token_url)
        self.set_key_set_url(platform.key_set_url)
        if platform.auth_audience:
            self.set_auth_audience(platform.auth_audience)

    def get_tool_private_key(self) -> Any:
        """Return the current key, loaded."""
        return keys.private_key(keys.current(self._session))

    def get_kid(self) -> str | None:
        """Return the current key's id without re-deriving it from a PEM."""
        return keys.current(self._session).kid

    def get_jwks(self) -> list[dict[str, Any]]:
        """Return the current public key."""
        return [dict(keys.current(self._session).public_jwk)]


class DatabaseToolConf(ToolConfAbstract):  # type: ignore[type-arg]
    """Registrations and deployments from the ``platforms`` and ``deployments`` tables."""

    def __init__(self, session: Session) -> None:
        # An instance attribute shadows the class-level map pylti1p3 shares between instances.
        self.issuers_relation_types: dict[str, str] = {}
        self.session = session
        # One request asks several times for the same registration (login, launch checks).
        self._platforms: dict[str, list[RegisteredPlatform]] = {}

    def check_iss_has_one_client(self, iss: str) -> bool:
        """Never: registrations are keyed by issuer and client id."""
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        """Return True: registrations are keyed by issuer and client id."""
        return True

    def platforms(self, iss: str) -> list[RegisteredPlatform]:
        """Return every registration of an issuer (queried once per request)."""
        found = self._platforms.get(iss)
        if found is None:
            rows: dict[int, tuple[dict[str, Any], set[str]]] = {}
            for row in self.session.connection().execute(_PLATFORMS, {"iss": iss}):
                values = {name: getattr(row, name) for name in _PLATFORM_COLUMNS}
                _, deployments = rows.setdefault(row.id, (values, set()))
                if row.deployment_id is not None:
                    deployments.add(row.deployment_id)
            found = [
                RegisteredPlatform(**values, deployment_ids=frozenset(deployments))
                for values, deployments in rows.values()
            ]
            self._platforms[iss] = found
        return found

    def platform(self, iss: str, client_id: str | None) -> RegisteredPlatform | None:
        """Return the registration of (issuer, client id).

        Without a client id, an issuer with exactly one registration names it.
        """
        found = self.platforms(iss)
        if client_id:
            return next((p for p in found if p.client_id == client_id), None)
        return found[0] if len(found) == 1 else None

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Any:
        """Return the only registration of an issuer, if it has exactly one."""
        platform = self.platform(iss, None)
        return JalonRegistration(platform, self.session) if platform else None

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Any:
        """Return the registration of (issuer, client id)."""
        platform = self.platform(iss, client_id)
        return JalonRegistration(platform, self.session) if platform else None

    def find_deployment(self, iss: str, deployment_id: str) -> PyltiDeployment | None:
        """Return the deployment of an issuer's only registration."""
        platform = self.platform(iss, None)
        return self._deployment(platform, deployment_id)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> PyltiDeployment | None:
        """Return the deployment of (issuer, client id)."""
        return self._deployment(self.platform(iss, client_id), deployment_id)

    def has_deployment(self, platform: RegisteredPlatform, deployment_id: str) -> bool:
        """Return whether a deployment id is registered for the platform."""
        return deployment_id in platform.deployment_ids

    def _deployment(
        self, platform: RegisteredPlatform | None, deployment_id: str
    ) -> PyltiDeployment | None:
        if platform is None or not self.has_deployment(platform, deployment_id):
            return None
        return PyltiDeployment().set_deployment_id(deployment_id)
