"""Security headers of every response: who may frame a page, where its forms go, caching.

Jalon lives in the LMS's iframe, so framing is allowed — by the platform the page belongs
to (the session token's platform), or by the approved platforms on pages that belong to
none; never on admin pages. Forms post to Jalon only, except the deep-linking answer that
goes back to the platform. A page that carries a session token or shows someone's work is
never kept by a cache.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, Request, Response, current_app, g
from flask.globals import request_ctx
from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge

from lti_tool.csrf import SAFE_METHODS
from lti_tool.lti import services, session
from lti_tool.lti.session import LaunchSession
from lti_tool.models import Platform, PlatformStatus, url_origin

BASE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'"
)
ADMIN_PREFIX = "/admin"
# Areas whose pages show someone's work, results or identity, or carry a token in forms.
PERSONAL_BLUEPRINTS = frozenset(
    {
        "learner", "evaluator", "progress", "matrix", "api", "lti", "deep_linking",
        "lti_registration", "demo", "demo_lti",
    }
)  # fmt: skip
# The LTI messages a platform sends into its iframe: a refusal there (a platform awaiting
# approval, say) must still show in the platform's frame.
LTI_MESSAGES = frozenset({"lti.login", "lti.launch", "lti.refused"})
_FORM_ORIGINS = "jalon_form_action_origins"


def allow_form_action(url: str) -> None:
    """Let this response's forms post to ``url``'s origin (an auto-post back to a platform)."""
    origin = url_origin(url)
    if origin is not None:
        g.setdefault(_FORM_ORIGINS, set()).add(origin)


class PlatformOrigins:
    """Origins of registered platforms, read again after a registration change or ``ttl`` s.

    Every page needs them and they change seldom: the registration cache's generation
    moves whenever a platform or deployment is written in this process.
    """

    MAX_ENTRIES = 4096

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[object, tuple[float, int, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def get(
        self, key: object, generation: int, read: Callable[[], frozenset[str]]
    ) -> frozenset[str]:
        """Return the origins kept under ``key``, or those ``read`` finds now."""
        entry = self._entries.get(key)
        if entry is not None and entry[1] == generation and time.monotonic() < entry[0]:
            return entry[2]
        origins = read()
        if self.ttl > 0:
            with self._lock:
                if len(self._entries) >= self.MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = (time.monotonic() + self.ttl, generation, origins)
        return origins


Where = Callable[[], sa.ColumnElement[bool]] | None


def _read_origins(where: Where) -> frozenset[str]:
    """Return the origins of the platforms ``where`` selects (own session: after the view)."""
    query = sa.select(Platform) if where is None else sa.select(Platform).where(where())
    try:
        with current_app.extensions["jalon.db"].sessions() as db:
            return frozenset().union(*(platform.origins() for platform in db.scalars(query)))
    except sa.exc.SQLAlchemyError:
        return frozenset()  # the database is down: only Jalon itself may frame the page


def _platform_origins(key: object, where: Where) -> frozenset[str]:
    # ``where`` builds its clause only on a miss: building it costs more than the cache hit.
    cache: PlatformOrigins = current_app.extensions["jalon.platform_origins"]
    generation = services().registrations.generation
    return cache.get(key, generation, lambda: _read_origins(where))


def _frame_ancestors(req: Request, launch: LaunchSession | None) -> str:
    if req.path.startswith(ADMIN_PREFIX):
        return "'none'"
    if launch is not None:
        platform_id = launch.platform_id
        origins = _platform_origins(platform_id, lambda: Platform.id == platform_id)
    elif req.blueprint == "lti_registration":
        # The platform registering Jalon is not known yet, and hosted Canvas frames this
        # page from the school's host, not from its configuration URL's.
        values = req.args if req.method in SAFE_METHODS else req.form
        given = url_origin(values.get("openid_configuration"))
        return " ".join(["'self'", "https:", *([given] if given else [])])
    elif req.endpoint in LTI_MESSAGES:
        origins = _platform_origins("registered", None)
    else:
        origins = _platform_origins("active", lambda: Platform.status == PlatformStatus.ACTIVE)
    return " ".join(["'self'", *sorted(origins)])


def _form_action() -> str:
    extra: set[str] = g.get(_FORM_ORIGINS, set())
    return " ".join(["'self'", *sorted(extra)])


def _carries_token(req: Request, launch: LaunchSession | None) -> bool:
    if launch is not None or session.PARAM in req.args:
        return True
    if session.HEADER in req.headers:
        return True
    if req.method in SAFE_METHODS:
        return False
    try:
        return session.PARAM in req.form
    except RequestEntityTooLarge:
        # A body over the limit is never read, so the 413 page cannot tell: keep it anyway
        # (reading the form again here turned that page into a 500).
        return True


def init_app(app: Flask) -> None:
    """Add the security headers to every response of the app."""
    ttl = app.config["JALON"].registration_cache_seconds
    app.extensions["jalon.platform_origins"] = PlatformOrigins(ttl)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        # The request and its launch, looked up once rather than through the proxies.
        req, launch = request_ctx.request, session.current()
        # The response's own headers, read in one pass: Werkzeug looks each name up by
        # scanning them, and signals a missing one by building an HTTP exception.
        present: dict[str, str] = {}
        for name, value in headers.items():
            present.setdefault(name.lower(), value)
        if "x-content-type-options" not in present:
            headers.add("X-Content-Type-Options", "nosniff")
        # Links carry the session token: no URL of Jalon's may leave in a Referer.
        _put(headers, present, "Referrer-Policy", "no-referrer")
        ancestors = f"frame-ancestors {_frame_ancestors(req, launch)}"
        policy = present.get("content-security-policy")
        if policy is None:
            headers.add(
                "Content-Security-Policy",
                f"{BASE_POLICY}; form-action {_form_action()}; {ancestors}",
            )
        elif "frame-ancestors" not in policy:
            # A view's own policy (a learner's file, sandboxed) still says who may frame it.
            headers["Content-Security-Policy"] = f"{policy}; {ancestors}"
        admin = req.path.startswith(ADMIN_PREFIX)
        cache_control = present.get("cache-control")
        if admin or _carries_token(req, launch):
            _put(headers, present, "Cache-Control", _no_store(cache_control))
        elif req.blueprint in PERSONAL_BLUEPRINTS and cache_control is None:
            headers.add("Cache-Control", "no-store")
        return response


def _put(headers: Headers, present: dict[str, str], name: str, value: str) -> None:
    """Set header ``name`` (``present``: the lowercased names already there)."""
    if name.lower() in present:
        headers[name] = value
    else:
        headers.add(name, value)


def _no_store(current: str | None) -> str:
    if current and "no-store" in current and "public" not in current:
        return current
    return "no-store"
