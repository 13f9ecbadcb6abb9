"""HTTP views, one module per area."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from lti_tool.storable import INTEGER_MAX


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` up to the largest id a column holds: a larger number names nothing."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INTEGER_MAX)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Register every blueprint, the error pages and the security headers."""
    from lti_tool.views import (
        admin_xapi,
        errors,
        headers,
        health,
        navigation,
        referentiels,
        site_files,
        storable_input,
    )

    app.register_blueprint(health.blueprint)
    app.register_blueprint(site_files.blueprint)
    app.register_blueprint(referentiels.blueprint)
    # The same référentiels for CASE consumers, at the 1EdTech binding's paths.
    from lti_tool.views import case_api

    app.register_blueprint(case_api.blueprint)
    # LTI registration paths: Dynamic Registration, Canvas JSON, install page, admin page.
    from lti_tool.views import admin_index, admin_platforms, install, registration

    app.register_blueprint(admin_index.blueprint)
    app.register_blueprint(install.blueprint)
    app.register_blueprint(registration.blueprint)
    app.register_blueprint(admin_platforms.blueprint)
    from lti_tool.lti import deep_linking_views
    from lti_tool.lti import views as lti_views

    app.register_blueprint(lti_views.blueprint)
    app.register_blueprint(deep_linking_views.blueprint)
    app.register_blueprint(admin_xapi.blueprint)
    # A person's rights of access and erasure (lti_tool.privacy).
    from lti_tool.views import admin_learners

    app.register_blueprint(admin_learners.blueprint)
    # The accrochage file for the Caisse des Dépôts (lti_tool.certification.accrochage).
    from lti_tool.views import admin_accrochage

    app.register_blueprint(admin_accrochage.blueprint)
    # The certification jury: sessions, deliberation, minutes (issue 14).
    from lti_tool.views import admin_certification, admin_certification_deliberation

    app.register_blueprint(admin_certification.blueprint)
    app.register_blueprint(admin_certification_deliberation.blueprint)
    # Where the IRIs of statements point: the xAPI profile and the LMS activities.
    from lti_tool.views import activities, xapi_profile

    app.register_blueprint(xapi_profile.blueprint)
    app.register_blueprint(activities.blueprint)
    # Evaluation: the learner's épreuve and progress, the evaluators' pages, the JSON API.
    from lti_tool import api, prose, templating
    from lti_tool.views import evaluator, learner, matrix, progress

    for area in (learner, evaluator, progress, matrix, api):
        app.register_blueprint(area.blueprint)
    # Holder identity for the accrochage file: the candidate's form, the admin's (issue 14).
    from lti_tool.views import candidate_identity

    app.register_blueprint(candidate_identity.blueprint)
    # Credentials (issue 14): public verification, issuer, keys, status lists; the learner's.
    from lti_tool.views import credentials, credentials_learner

    app.register_blueprint(credentials.blueprint)
    app.register_blueprint(credentials_learner.blueprint)
    # The certification's PDFs: minutes, certificates and parchments.
    from lti_tool.views import certification_documents

    app.register_blueprint(certification_documents.blueprint)
    errors.init_app(app)
    prose.init_app(app)
    templating.init_app(app)
    storable_input.init_app(app)
    navigation.init_app(app)
    # The demo LMS is mounted only by `jalon demo`, or by a test passing `demo=DemoServices()`.
    demo = app.extensions["jalon.services"].get("demo")
    if demo is not None or app.config["JALON"].is_demo:
        from lti_tool import demo as demo_platform

        demo_platform.init_app(app, demo)

    headers.init_app(app)
