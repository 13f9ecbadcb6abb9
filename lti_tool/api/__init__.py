"""The JSON API for integrations, at ``/api/v1``: progress, the class matrix, evaluations.

Described by ``openapi.yaml`` (served at ``/api/v1/openapi.yaml`` and ``.json``). Callers
authenticate with an LTI session token (``X-Jalon-Launch`` header or ``?lt=``), which
reaches only its own course, or with the administrator token (``Authorization: Bearer``),
which reaches every course. Every answer is JSON, errors included.
"""

from __future__ import annotations

from lti_tool.api.views import blueprint

__all__ = ["blueprint"]
