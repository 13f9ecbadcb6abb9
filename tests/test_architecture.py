"""The package boundaries of DESIGN.md: referentiel ← xapi ← lti_tool."""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = {
    # The framework is pure Python: no web layer, no database.
    "referentiel": ("flask", "pylti1p3", "lti_tool", "xapi", "sqlalchemy"),
    # xAPI may persist its outbox, but knows nothing of Flask or LTI.
    "xapi": ("flask", "pylti1p3", "lti_tool"),
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_inner_packages_never_import_outer_layers(package: str) -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        f"import {package}\n"
        f"for m in pkgutil.walk_packages({package}.__path__, '{package}.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(','.join(sorted(n for n in {FORBIDDEN[package]!r} if n in sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"{package} pulled in {result.stdout.strip()}"
