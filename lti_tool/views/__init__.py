"""HTTP views, one module per area."""

from __future__ import annotations

from flask import Flask, Response


def init_app(app: Flask) -> None:
    """Register every blueprint, the error pages and the security headers."""
    from lti_tool.views import admin_xapi, errors, health, navigation, referentiels

    app.register_blueprint(health.blueprint)
    app.register_blueprint(referentiels.blueprint)
    # LTI registration paths: Dynamic Registration, Canvas JSON, install page, admin page.
    from lti_tool.views import admin_platforms, install, registration

    app.register_blueprint(install.blueprint)
    app.register_blueprint(registration.blueprint)
    app.register_blueprint(admin_platforms.blueprint)
    from lti_tool.lti import deep_linking_views
    from lti_tool.lti import views as lti_views

    app.register_blueprint(lti_views.blueprint)
    app.register_blueprint(deep_linking_views.blueprint)
    app.register_blueprint(admin_xapi.blueprint)
    # Evaluation: the learner's épreuve and progress, the evaluators' pages, the JSON API.
    from lti_tool import api
    from lti_tool.views import evaluator, learner, matrix, progress

    for area in (learner, evaluator, progress, matrix, api):
        app.register_blueprint(area.blueprint)
    errors.init_app(app)
    navigation.init_app(app)
    # The demo LMS is mounted only by `jalon demo`, or by a test passing `demo=DemoServices()`.
    demo = app.extensions["jalon.services"].get("demo")
    if demo is not None or app.config["JALON"].is_demo:
        from lti_tool import demo as demo_platform

        demo_platform.init_app(app, demo)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        # Jalon is framed by the LMS, so framing stays allowed; scripts and styles are ours only.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action *",
        )
        return response
