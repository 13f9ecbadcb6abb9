"""Refuse, before any view runs, input holding characters Jalon could not store.

A NUL in a form field makes PostgreSQL refuse the statement (a 500 after half the work);
a lone surrogate cannot even be encoded. Every query parameter, form field and JSON body
is checked once here: a 400 naming the field — an error page for a form, JSON errors for
the API — and a route value that holds one names nothing that exists (404).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, abort, request
from flask.globals import request_ctx
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from lti_tool.csrf import SAFE_METHODS
from lti_tool.storable import first_unstorable, is_storable, storable


def _first_in_fields(fields: MultiDict[str, str]) -> str | None:
    for name, value in fields.items(multi=True):
        if not is_storable(name) or not is_storable(value):
            return storable(name) or "_"
    return None


def _unstorable_field(req: Request) -> str | None:
    """Return the name of the first field that holds an unstorable character, if any."""
    found = _first_in_fields(req.args)
    if found is None and req.method not in SAFE_METHODS:
        if req.is_json:
            found = first_unstorable(req.get_json(silent=True))
        else:
            found = _first_in_fields(req.form)
            # A file's field name only: its file name is the upload's business (files.py).
            bad = (storable(name) or "_" for name in req.files if not is_storable(name))
            found = found or next(bad, None)
    return found


def _refuse(field: str) -> None:
    message = _(
        "Le champ « %(field)s » contient un caractère invisible que Jalon ne peut pas "
        "enregistrer (caractère nul ou de contrôle) : retirez-le puis renvoyez.",
        field=field,
    )
    if request.blueprint == "api":
        raise ValidationError({field: [message]})  # the API's JSON errors
    abort(400, description=message)


def init_app(app: Flask) -> None:
    """Check every request's input before its view runs."""

    @app.before_request
    def _check_input() -> None:
        req = request_ctx.request  # once, rather than through the proxy at each use
        values: dict[str, Any] = req.view_args or {}
        if any(isinstance(v, str) and not is_storable(v) for v in values.values()):
            abort(404)
        field = _unstorable_field(req)
        if field is not None:
            _refuse(field)
