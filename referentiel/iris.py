"""The IRIs of a framework and its items.

These addresses are served by the web app, used as CASE ``uri`` values and as xAPI
activity ids, so they must never change: the segments below are part of the public
interface.
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import quote


class Kind(StrEnum):
    """Item kinds, valued by the URL segment that lists them."""

    BLOC = "blocs"
    COMPETENCY = "competences"
    CRITERION = "criteres"
    ACTIVITY = "activites"
    EPREUVE = "epreuves"
    ASSOCIATION = "associations"
    LEVEL = "niveaux"


def framework_iri(base_url: str, framework_code: str) -> str:
    """Return the IRI of a framework: ``{base}/referentiels/{code}/``."""
    return f"{base_url.rstrip('/')}/referentiels/{quote(framework_code, safe='')}/"


def item_iri(base_url: str, framework_code: str, kind: Kind, code: str) -> str:
    """Return the IRI of one item of a framework."""
    return f"{framework_iri(base_url, framework_code)}{kind.value}/{quote(code, safe='.-_')}"
