"""Jalon's web app: ``create_app`` is the only way to get one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.instance import private_folder

HERE = Path(__file__).resolve().parent
# A wheel installs the templates as lti_tool/templates (pyproject.toml maps the package to the
# repository's top-level templates/); a checkout or an editable install reads them in place.
# A path, not importlib.resources: setuptools' editable finder does not resolve a package
# mapped outside its parent's folder, and Jinja needs a folder anyway.
TEMPLATES = HERE / "templates" if (HERE / "templates").is_dir() else HERE.parent / "templates"


def create_app(settings: Settings | None = None, **services: Any) -> Flask:
    """Build the app from settings (default: the environment) and optional services."""
    from lti_tool import auth, csrf, i18n, lti, observability, views

    settings = settings or Settings.from_env()
    # Uploads, keys and (on SQLite) the database live here: owner-only from the start.
    private_folder(settings.instance_path)
    app = Flask(__name__, template_folder=str(TEMPLATES), instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        JALON=settings,
        # A learner's form carries up to one file of the largest size allowed (and its text);
        # a larger body is refused with a 413 page before it is read.
        MAX_CONTENT_LENGTH=max(16 * 1024 * 1024, settings.upload_max_bytes + 1024 * 1024),
    )
    # Ids are 64-bit integers: a longer one names nothing (404), never an overflow (500).
    app.url_map.converters["int"] = views.BoundedIntegerConverter
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # One reverse proxy in front sets X-Forwarded-For/Proto/Host; trust exactly that hop.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    database = services.pop("database", None) or Database(settings.database_url)
    observability.init_app(app, database)  # first: its hooks time and tag all the others
    database.init_app(app)
    app.extensions["jalon.services"] = services
    i18n.init_app(app)
    # Authentication first: it names the principal that CSRF tokens are bound to.
    auth.init_app(app)
    lti.init_app(app)
    csrf.init_app(app)
    views.init_app(app)
    return app
