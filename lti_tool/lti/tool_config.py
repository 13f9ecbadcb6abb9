"""pylti1p3's tool configuration, read from the database for each request.

pylti1p3's ``ToolConfDict`` keeps its issuer map in a class attribute shared by every
instance; this configuration holds nothing but the request's session and its app's
:class:`RegistrationCache`. Registrations are always looked up by issuer *and* client id,
because Canvas uses one issuer for every hosted instance.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import sqlalchemy as sa
from pylti1p3.deployment import Deployment as PyltiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract
from sqlalchemy.orm import Session

from lti_tool.lti import keys
from lti_tool.models import Deployment, Platform, PlatformStatus


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
    # PlatformStatus: a pending platform is known but refused (LTI_PLATFORM_PENDING).
    status: str

    @property
    def is_active(self) -> bool:
        """Return whether an administrator approved the platform."""
        return self.status == PlatformStatus.ACTIVE


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
    "status",
)
# Built once: the registrations of an issuer with their deployments, in one query.
_PLATFORMS = (
    sa.select(*(_P.c[name] for name in _PLATFORM_COLUMNS), _D.c.deployment_id)
    .select_from(_P.outerjoin(_D, _D.c.platform_id == _P.c.id))
    .where(_P.c.issuer == sa.bindparam("iss"))
    .order_by(_P.c.id)
)


class RegistrationCache:
    """The registrations of each issuer, kept by one app in one process for a few seconds.

    Every login and launch reads its registration, and nearly all read the same few. A
    change flushed in this process (admin page, dynamic registration, CLI) empties every
    cache of the process at once, and again when it commits; a change made by another
    process (a sibling worker, the CLI) is seen within ``ttl`` seconds
    (``JALON_REGISTRATION_CACHE_SECONDS``; 0 reads the database every time). Only found
    registrations are kept: a new issuer is looked up until it exists, so it works at once.
    """

    MAX_ISSUERS = 1024
    _all: ClassVar[weakref.WeakSet[RegistrationCache]] = weakref.WeakSet()

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, list[RegisteredPlatform]]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        RegistrationCache._all.add(self)

    @property
    def generation(self) -> int:
        """Return a number that changes whenever the cache is emptied."""
        return self._generation

    def get(self, iss: str) -> list[RegisteredPlatform] | None:
        """Return the live registrations of an issuer, or None to read the database."""
        entry = self._entries.get(iss)
        if entry is None or time.monotonic() >= entry[0]:
            return None
        return entry[1]

    def put(self, iss: str, platforms: list[RegisteredPlatform], generation: int) -> None:
        """Keep what a read found, unless the cache was emptied since the read began."""
        if self.ttl <= 0 or not platforms:
            return
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= self.MAX_ISSUERS:
                self._entries.clear()
            self._entries[iss] = (time.monotonic() + self.ttl, platforms)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._generation += 1
            self._entries.clear()

    @classmethod
    def clear_all(cls) -> None:
        """Empty the caches of every app of this process."""
        for cache in list(cls._all):
            cache.clear()


def _registrations_changed(*_args: Any) -> None:
    RegistrationCache.clear_all()


for _model in (Platform, Deployment):
    for _event in ("after_insert", "after_update", "after_delete"):
        sa.event.listen(_model, _event, _registrations_changed)


@sa.event.listens_for(Session, "after_flush")
def _note_registration_change(session: Session, _context: Any) -> None:
    if any(
        isinstance(item, Platform | Deployment)
        for item in (*session.new, *session.dirty, *session.deleted)
    ):
        session.info["jalon.registrations_changed"] = True


@sa.event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    # Cleared at flush already; again now, for a read that ran between flush and commit.
    if session.info.pop("jalon.registrations_changed", False):
        RegistrationCache.clear_all()


class JalonRegistration(Registration):
    """A pylti1p3 registration backed by a platform registration and Jalon's current key.

    The private key is handed to PyJWT as a loaded key object, never as a PEM string
    (parsing a PEM for each signature costs ~40 ms).
    """

    def __init__(self, platform: RegisteredPlatform, sessions: Callable[[], Session]) -> None:
        self.platform = platform
        self._sessions = sessions
        self.set_issuer(platform.issuer)
        self.set_client_id(platform.client_id)
        self.set_auth_login_url(platform.auth_login_url)
        self.set_auth_token_url(platform.auth_token_url)
        self.set_key_set_url(platform.key_set_url)
        if platform.auth_audience:
            self.set_auth_audience(platform.auth_audience)

    def get_tool_private_key(self) -> Any:
        """Return the current key, loaded."""
        return keys.private_key(keys.current(self._sessions()))

    def get_kid(self) -> str | None:
        """Return the current key's id without re-deriving it from a PEM."""
        return keys.current(self._sessions()).kid

    def get_jwks(self) -> list[dict[str, Any]]:
        """Return the current public key."""
        return [dict(keys.current(self._sessions()).public_jwk)]


class DatabaseToolConf(ToolConfAbstract):  # type: ignore[type-arg]
    """Registrations and deployments from the ``platforms`` and ``deployments`` tables."""

    def __init__(
        self, sessions: Callable[[], Session], cache: RegistrationCache | None = None
    ) -> None:
        # An instance attribute shadows the class-level map pylti1p3 shares between instances.
        self.issuers_relation_types: dict[str, str] = {}
        # The request's session, opened only if the cache cannot answer.
        self.sessions = sessions
        self.cache = cache
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
        if found is None and self.cache is not None:
            found = self.cache.get(iss)
        if found is None:
            generation = self.cache.generation if self.cache is not None else 0
            rows: dict[int, tuple[dict[str, Any], set[str]]] = {}
            for row in self.sessions().connection().execute(_PLATFORMS, {"iss": iss}):
                values = {name: getattr(row, name) for name in _PLATFORM_COLUMNS}
                _, deployments = rows.setdefault(row.id, (values, set()))
                if row.deployment_id is not None:
                    deployments.add(row.deployment_id)
            found = [
                RegisteredPlatform(**values, deployment_ids=frozenset(deployments))
                for values, deployments in rows.values()
            ]
            if self.cache is not None:
                self.cache.put(iss, found, generation)
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
        return JalonRegistration(platform, self.sessions) if platform else None

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Any:
        """Return the registration of (issuer, client id)."""
        platform = self.platform(iss, client_id)
        return JalonRegistration(platform, self.sessions) if platform else None

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
