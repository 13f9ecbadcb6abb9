"""Admin page of LTI platforms and their deployments: list, add, activate, remove.

A platform added here, like one registered through the public Dynamic Registration
address, waits for the "Activer" button: until then its launches are refused.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lti_tool.auth import admin_required
from lti_tool.db import db_session
from lti_tool.issuer_share import issuer_share
from lti_tool.models import Platform, PlatformStatus
from lti_tool.registration import (
    MAX_LENGTH,
    PlatformFields,
    Problem,
    RegistrationError,
    activate_platform,
    add_deployments,
    list_platforms,
    register_platform,
    remove_deployment,
    remove_platform,
)

blueprint = Blueprint("admin_platforms", __name__, url_prefix="/admin/plateformes")

# Form field → the Platform field it fills.
FORM_FIELDS = (
    "name",
    "issuer",
    "client_id",
    "auth_login_url",
    "auth_token_url",
    "key_set_url",
    "auth_audience",
    "deployment_ids",
)


def field_label(name: str) -> str:
    """Return how pages name a registration field."""
    labels = {
        "name": _("Nom"),
        "issuer": _("Identifiant de la plateforme (issuer)"),
        "client_id": _("Identifiant client (client_id)"),
        "auth_login_url": _("URL d’authentification OIDC"),
        "auth_token_url": _("URL des jetons d’accès"),
        "key_set_url": _("URL du jeu de clés (JWKS)"),
        "auth_audience": _("Audience des jetons (facultatif)"),
        "deployment_id": _("Identifiant de déploiement"),
        "deployment_ids": _("Identifiants de déploiement"),
        "product_family_code": _("Type de plateforme"),
        "openid_configuration": _("URL de configuration OpenID"),
    }
    return labels.get(name, name)


def problem_text(problem: Problem) -> str:
    """Word a registration problem for the reader (without the field's name)."""
    if problem.reason == "too_long":
        return _(
            "Ce champ dépasse %(limit)d caractères.", limit=MAX_LENGTH.get(problem.field, 1024)
        )
    if problem.reason == "duplicate_deployment":
        return _(
            "Le déploiement « %(value)s » est en double ou déjà enregistré.", value=problem.value
        )
    if problem.reason == "unknown_deployment":
        return _("Cette plateforme n’a pas de déploiement « %(value)s ».", value=problem.value)
    texts = {
        "required": _("Ce champ est obligatoire."),
        "not_url": _("Saisissez une URL complète, par exemple https://lms.exemple.fr/…"),
        "not_https": _(
            "L’URL doit commencer par https:// (http n’est accepté que pour 127.0.0.1 "
            "et localhost)."
        ),
        "has_query": _("L’identifiant ne doit contenir ni requête (?…) ni fragment (#…)."),
        "duplicate_platform": _(
            "Une plateforme avec cet identifiant (issuer) et ce client_id est déjà enregistrée."
        ),
        "unknown_platform": _(
            "Aucune plateforme n’est enregistrée avec cet identifiant et ce client_id."
        ),
    }
    return texts.get(problem.reason, problem.reason)


@blueprint.get("/")
@admin_required
def index() -> str:
    """List the platforms, with the forms to change them."""
    return _page()


@blueprint.post("/")
@admin_required
def add() -> Response | tuple[str, int]:
    """Register a platform from the form."""
    form = request.form
    fields = PlatformFields(
        issuer=form.get("issuer", ""),
        client_id=form.get("client_id", ""),
        auth_login_url=form.get("auth_login_url", ""),
        auth_token_url=form.get("auth_token_url", ""),
        key_set_url=form.get("key_set_url", ""),
        auth_audience=form.get("auth_audience", ""),
        name=form.get("name", ""),
        deployment_ids=tuple(form.get("deployment_ids", "").split()),
    )
    try:
        platform = register_platform(db_session(), fields, status=PlatformStatus.PENDING)
    except RegistrationError as error:
        return _refused(error, form={k: form.get(k, "") for k in FORM_FIELDS})
    flash(
        _(
            "Plateforme « %(name)s » enregistrée, en attente : activez-la pour accepter ses "
            "lancements.",
            name=platform.name or platform.issuer,
        )
    )
    return redirect(url_for(".index"))


@blueprint.post("/<int:platform_id>/activer")
@admin_required
def activate(platform_id: int) -> Response:
    """Accept a pending platform's launches from now on."""
    platform = _platform(platform_id)
    name = platform.name or platform.issuer
    if activate_platform(db_session(), platform):
        flash(_("Plateforme « %(name)s » activée : ses lancements sont acceptés.", name=name))
    else:
        flash(_("La plateforme « %(name)s » était déjà active.", name=name))
    return redirect(url_for(".index"))


@blueprint.get("/<int:platform_id>/supprimer")
@admin_required
def confirm_removal(platform_id: int) -> str:
    """Ask before removing a platform: what Jalon knows of its courses goes with it."""
    return render_template("admin/platform_remove.html", platform=_platform(platform_id))


@blueprint.post("/<int:platform_id>/supprimer")
@admin_required
def remove(platform_id: int) -> Response:
    """Remove a platform and everything attached to it."""
    platform = _platform(platform_id)
    name = platform.name or platform.issuer
    remove_platform(db_session(), platform)
    flash(_("Plateforme « %(name)s » supprimée.", name=name))
    return redirect(url_for(".index"))


@blueprint.post("/<int:platform_id>/deploiements")
@admin_required
def add_deployment(platform_id: int) -> Response | tuple[str, int]:
    """Add a deployment id to a platform."""
    platform = _platform(platform_id)
    deployment_id = request.form.get("deployment_id", "")
    try:
        add_deployments(db_session(), platform, [deployment_id])
    except RegistrationError as error:
        return _refused(error, scope=f"deploiement-{platform_id}", value=deployment_id)
    flash(_("Déploiement « %(id)s » ajouté.", id=deployment_id.strip()))
    return redirect(url_for(".index"))


@blueprint.post("/<int:platform_id>/deploiements/supprimer")
@admin_required
def remove_deployment_view(platform_id: int) -> Response | tuple[str, int]:
    """Remove one deployment id of a platform."""
    platform = _platform(platform_id)
    deployment_id = request.form.get("deployment_id", "")
    try:
        remove_deployment(db_session(), platform, deployment_id)
    except RegistrationError as error:
        return _refused(error, scope=f"deploiement-{platform_id}")
    flash(_("Déploiement « %(id)s » supprimé.", id=deployment_id.strip()))
    return redirect(url_for(".index"))


def _platform(platform_id: int) -> Platform:
    platform = db_session().get(Platform, platform_id)
    if platform is None:
        abort(404, description=_("Cette plateforme n’existe pas ou a été supprimée."))
    return platform


def _refused(
    error: RegistrationError,
    *,
    form: dict[str, str] | None = None,
    scope: str | None = None,
    value: str = "",
) -> tuple[str, int]:
    """Show the page again with the problems next to their fields; nothing is stored."""
    db_session().rollback()
    errors: dict[str, list[str]] = {}
    for problem in error.problems:
        key = scope or ("deployment_ids" if problem.field == "deployment_id" else problem.field)
        errors.setdefault(key, []).append(problem_text(problem))
    return _page(form=form, errors=errors, scope_value=value), 400


def _page(
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    scope_value: str = "",
) -> str:
    errors = errors or {}
    platforms = list_platforms(db_session())
    context: dict[str, Any] = {
        "platforms": platforms,
        # What activating each pending platform would open to it (see lti_tool.issuer_share).
        "shares": {
            p.id: share
            for p in platforms
            if not p.is_active and (share := issuer_share(db_session(), p)) is not None
        },
        "form": form or {},
        "errors": errors,
        "scope_value": scope_value,
        "field_label": field_label,
        "error_summary": [
            (key, message) for key, messages in errors.items() for message in messages
        ],
    }
    return render_template("admin/platforms.html", **context)
