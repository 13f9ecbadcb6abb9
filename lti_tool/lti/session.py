"""After the launch: a signed session token in links and forms, never a third-party cookie.

Inside an LMS iframe, Safari and increasingly Chrome drop Jalon's cookies. So the launch
ends by issuing a short token (itsdangerous, signed with the app secret) that names the
stored launch; every link carries it as ``?lt=`` and every form as a hidden field. It
lasts two hours after the last request that refreshed it (sliding expiry), and never
longer than ``JALON_SESSION_MAX_HOURS`` (10 by default) after the launch: the token signs
the launch time too, so refreshing it cannot carry a session past a working day. After
that the user reopens the activity from the LMS, which launches afresh.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from flask import Flask, current_app, g, request, url_for
from flask_babel import refresh
from itsdangerous import BadSignature
from markupsafe import Markup

from lti_tool import csrf
from lti_tool.db import db_session
from lti_tool.evaluation.course import teaching_assistants_evaluate
from lti_tool.i18n import LOCALES
from lti_tool.lti.errors import LaunchRejected
from lti_tool.lti.launch import CLAIM, LAUNCH_TTL, launch_key
from lti_tool.lti.roles import Roles, parse
from lti_tool.lti.signed import TokenSerializer
from lti_tool.people import LaunchedPerson, shared_name

PARAM = "lt"
HEADER = "X-Jalon-Launch"
SALT = "jalon.lti.session"
REFRESH_AFTER = 600
# What itsdangerous's URL-safe tokens are made of: nothing to quote in a query.
_TOKEN_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
F = TypeVar("F", bound=Callable[..., Any])


def _serializer() -> TokenSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=8)
def _serializer_for(secret: str) -> TokenSerializer:
    # One per secret rather than one per request: every page issues or reads a token.
    return TokenSerializer(secret, salt=SALT)


def issue(launch_id: str, launched_at: int | None = None) -> str:
    """Return a session token for a stored launch made at ``launched_at`` (default: now)."""
    return _serializer().dumps(
        [launch_id, int(time.time()) if launched_at is None else launched_at]
    )


@dataclass(frozen=True)
class Token:
    """What a valid session token names: the stored launch, when it was made and signed."""

    launch_id: str
    launched_at: int
    issued_at: float


def read(given: str) -> Token | None:
    """Return what a token names, or None: forged, idle too long, or the launch too old."""
    try:
        payload, issued = _serializer().loads(given, max_age=LAUNCH_TTL, return_timestamp=True)
    except BadSignature:
        return None
    if not (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], str)
        and isinstance(payload[1], int)
    ):
        return None
    launch_id, launched_at = payload
    if time.time() - launched_at > _max_age():
        return None
    return Token(launch_id, launched_at, issued.timestamp())


def _max_age() -> int:
    """Return the absolute lifetime of a launch's session, in seconds."""
    return int(current_app.config["JALON"].session_max_hours) * 3600


def launch_locale(claims: dict[str, Any]) -> str | None:
    """Return fr or en from a launch's ``launch_presentation.locale`` (e.g. en-US, fr_FR)."""
    presentation = claims.get(CLAIM + "launch_presentation")
    locale = presentation.get("locale") if isinstance(presentation, dict) else None
    if not isinstance(locale, str):
        return None
    language = locale.replace("_", "-").split("-", 1)[0].lower()
    return language if language in {"fr", "en"} else None


@dataclass(frozen=True)
class LaunchSession:
    """Who is here, from which course and placement (``g.lti``)."""

    launch_id: str
    platform_id: int
    issuer: str
    client_id: str
    deployment_id: str
    message_type: str
    roles: Roles
    claims: dict[str, Any] = field(repr=False)
    context_pk: int | None = None
    user_pk: int | None = None
    resource_link_pk: int | None = None
    locale: str | None = None

    @property
    def context(self) -> dict[str, Any]:
        """Return the context claim (id, label, title, type), or an empty dict."""
        context = self.claims.get(CLAIM + "context")
        return context if isinstance(context, dict) else {}

    @property
    def resource_link(self) -> dict[str, Any]:
        """Return the resource link claim, or an empty dict."""
        link = self.claims.get(CLAIM + "resource_link")
        return link if isinstance(link, dict) else {}

    @property
    def custom(self) -> dict[str, Any]:
        """Return the custom parameters of the placement."""
        custom = self.claims.get(CLAIM + "custom")
        return custom if isinstance(custom, dict) else {}

    @property
    def user_name(self) -> str | None:
        """Return the name the platform shared (:mod:`lti_tool.people`), if any."""
        shown = shared_name(LaunchedPerson.from_claims(self.claims))
        return shown.text if shown else None

    @property
    def is_anonymous(self) -> bool:
        """Return whether the platform launched without naming the user (no ``sub``)."""
        return not self.claims.get("sub")


def record(claims: dict[str, Any], jalon: dict[str, Any]) -> str:
    """Return the JSON stored for a launch: its claims and what Jalon derived."""
    return json.dumps({"claims": claims, "jalon": jalon}, separators=(",", ":"))


def _session_from(launch_id: str, text: str) -> LaunchSession:
    data = json.loads(text)
    claims, jalon = data["claims"], data["jalon"]
    return LaunchSession(
        launch_id=launch_id,
        platform_id=jalon["platform_id"],
        issuer=claims["iss"],
        client_id=jalon["client_id"],
        deployment_id=claims[CLAIM + "deployment_id"],
        message_type=claims[CLAIM + "message_type"],
        roles=parse(claims.get(CLAIM + "roles", [])),
        claims=claims,
        context_pk=jalon.get("context_id"),
        user_pk=jalon.get("user_id"),
        resource_link_pk=jalon.get("resource_link_id"),
        # A language chosen on a page during the launch, else the launch's own claim.
        locale=jalon.get("locale") or launch_locale(claims),
    )


def current() -> LaunchSession | None:
    """Return the current LTI session, if the request carried a valid token."""
    return g.get("lti")


def token() -> str | None:
    """Return the token to put in this response's links and forms."""
    return g.get("lti_token")


_PATHS = "jalon.lti_paths"


def lti_url(endpoint: str, **values: Any) -> str:
    """Return ``url_for(endpoint)`` carrying the session token."""
    session_token = token()
    if session_token and not values:
        return token_url(endpoint, session_token)
    if session_token:
        values[PARAM] = session_token
    return url_for(endpoint, **values)


def token_url(endpoint: str, session_token: str) -> str:
    """Return ``url_for(endpoint, lt=session_token)``, its path built once per app.

    A page's menu, forms and redirects name the same few endpoints with the token alone,
    and url_for costs more than the rest of such a link: the path is kept per app, mount
    point and endpoint, and the token (URL-safe, nothing to quote) added to it.
    """
    if not _TOKEN_SAFE.issuperset(session_token):
        return url_for(endpoint, **{PARAM: session_token})
    paths: dict[tuple[str, str], str] = current_app.extensions.setdefault(_PATHS, {})
    key = (request.script_root, endpoint)
    path = paths.get(key)
    if path is None:
        if len(paths) >= 256:
            paths.clear()
        path = paths[key] = url_for(endpoint)
    return f"{path}?{PARAM}={session_token}"


def field_html() -> Markup:
    """Return the hidden input that carries the session token in a form."""
    session_token = token()
    if not session_token:
        return Markup("")
    return Markup('<input type="hidden" name="{}" value="{}">').format(PARAM, session_token)


def outside(view: F) -> F:
    """Mark a view that answers an LTI message, where no session token can apply."""
    view.lti_session_free = True  # type: ignore[attr-defined]
    return view


def lti_required(view: F) -> F:
    """Let through only a request with a valid LTI session."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current() is None:
            raise LaunchRejected("LTI_SESSION_EXPIRED")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def learner_required(view: F) -> F:
    """Let through a learner of the launch's course (who has a user identity)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        session = current()
        if session is None:
            raise LaunchRejected("LTI_SESSION_EXPIRED")
        if not session.roles.is_learner or session.is_anonymous:
            raise LaunchRejected("LTI_ROLE_FORBIDDEN")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def can_evaluate(launch: LaunchSession) -> bool:
    """Return whether the launched user evaluates in their course.

    Staff do; a teaching assistant (without the Learner role, see ``roles``) does where the
    course allows it, which it does unless its instructors said no; nobody anonymous does.
    """
    if launch.is_anonymous or not launch.roles.is_staff:
        return False
    if not launch.roles.is_teaching_assistant:
        return True
    return teaching_assistants_evaluate(db_session(), launch.context_pk)


def can_configure(launch: LaunchSession) -> bool:
    """Return whether the launched user sets up their course: staff, not an assistant."""
    return can_evaluate(launch) and not launch.roles.is_teaching_assistant


def staff_required(view: F) -> F:
    """Let through who evaluates in the launch's course (see ``can_evaluate``)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        session = current()
        if session is None:
            raise LaunchRejected("LTI_SESSION_EXPIRED")
        if not can_evaluate(session):
            raise LaunchRejected("LTI_ROLE_FORBIDDEN")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def instructor_required(view: F) -> F:
    """Let through who sets up the launch's course (see ``can_configure``)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        session = current()
        if session is None:
            raise LaunchRejected("LTI_SESSION_EXPIRED")
        if not can_configure(session):
            raise LaunchRejected("LTI_ROLE_FORBIDDEN")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    """Recognise the LTI session token on each request (before CSRF checks run)."""
    app.jinja_env.globals.update(lti_url=lti_url, lti_field=field_html, lti_token=token)

    @app.before_request
    def _load_launch() -> None:
        from lti_tool.lti import services

        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "lti_session_free", False):
            # The login and the launch start a session; a token there would name another.
            return
        given = request.args.get(PARAM) or request.headers.get(HEADER)
        if not given and request.method not in csrf.SAFE_METHODS:
            given = request.form.get(PARAM)
        if not given:
            return
        found = read(given)
        if found is None:
            return
        store = services().store()
        text = store.get(launch_key(found.launch_id))
        if text is None:
            return
        session = _session_from(found.launch_id, text)
        chosen = request.args.get("lang")
        is_chosen = chosen in LOCALES and chosen != session.locale
        if is_chosen:
            # Kept with the launch, for its following pages: an LMS iframe may drop the
            # language cookie, and the menu's links carry only the token.
            text = _with_locale(text, str(chosen))
            session = replace(session, locale=chosen)
        g.lti = session
        g.lti_token = given
        now = time.time()
        is_stale = now - found.issued_at > REFRESH_AFTER
        if is_chosen or is_stale:
            # Slide: a fresh token and a fresh time to live for the stored launch, both
            # ending by the absolute limit, which the new token carries unchanged.
            left = int(found.launched_at + _max_age() - now) + 1
            store.set(launch_key(session.launch_id), text, min(LAUNCH_TTL, left))
        if is_stale:
            g.lti_token = issue(session.launch_id, found.launched_at)
        csrf.set_principal(f"lti:{session.launch_id}")
        if session.locale:
            g.locale = session.locale
            refresh()


def _with_locale(text: str, locale: str) -> str:
    """Return a stored launch's JSON with the language chosen during the launch."""
    data = json.loads(text)
    data["jalon"]["locale"] = locale
    return json.dumps(data, separators=(",", ":"))
