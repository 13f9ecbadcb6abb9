"""HTTP views, one module per area."""

from __future__ import annotations

from flask import Flask, Response


def init_app(app: Flask) -> None:
    """Register every blueprint, the error pages and the security headers."""
    from lti_tool.views import errors, health, referentiels

    app.register_blueprint(health.blueprint)
    app.register_blueprint(referentiels.blueprint)
    errors.init_app(app)

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
