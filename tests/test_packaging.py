"""`pip install .` gives a Jalon that runs: the wheel carries what the app loads at run time.

The templates stay at the top of the repository and travel in the wheel as lti_tool/templates
(pyproject.toml); the static files, the compiled catalogues, the migrations, the OpenAPI
document and the packages' data travel with their packages. .ci/wheel.sh goes further: it
installs the wheel with its dependencies and launches through `jalon demo` over HTTP.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("lti_tool", "referentiel", "xapi")
# What the build reads: pyproject.toml names the readme, the packages and the templates.
BUILD_INPUTS = ("pyproject.toml", "README.md", "templates", *PACKAGES)


def _source_files() -> set[str]:
    """Return where every file of the packages and templates belongs in an installed Jalon."""
    files = set()
    for top in (*PACKAGES, "templates"):
        for path in (REPO / top).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                relative = path.relative_to(REPO).as_posix()
                files.add(f"lti_tool/{relative}" if top == "templates" else relative)
    return files


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel as `pip install .` does, from a copy of the sources."""
    # A copy: setuptools reuses the checkout's build/ folder, where a file deleted since an
    # earlier build would still be packed and hide a missing one.
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        if (REPO / name).is_dir():
            shutil.copytree(
                REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(REPO / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    (found,) = dist.glob("jalon-*.whl")
    return found


def test_item2_the_wheel_carries_every_template_and_file_the_app_loads(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        members = {name for name in archive.namelist() if ".dist-info/" not in name}
    # The page every error shows, and what `jalon demo` renders first.
    for page in ("errors/error.html", "base.html", "demo/home.html", "lti/home.html"):
        assert f"lti_tool/templates/{page}" in members
    assert "lti_tool/translations/en/LC_MESSAGES/messages.mo" in members
    assert "lti_tool/static/demo/demo.css" in members
    assert "lti_tool/migrations/versions/0007_platform_approval.py" in members
    # Every file of every package and every template, and nothing else (no top-level
    # `templates` package): a new subpackage missing from pyproject.toml's list fails here.
    expected = _source_files()
    assert sorted(expected - members) == []
    assert sorted(members - expected) == []


# Run by the wheel's own copy of lti_tool, from outside the checkout.
SERVE_FROM_THE_WHEEL = """
import json, sys
import lti_tool
from lti_tool import create_app, migrations
from lti_tool.cli.context import session_scope
from lti_tool.config import Settings
from lti_tool.frameworks import install_bundled

settings = Settings.from_env(demo=True)
migrations.upgrade(settings.database_url)
with session_scope(settings) as session:
    install_bundled(session)
client = create_app(settings).test_client()
answers = {"lti_tool": lti_tool.__file__, "templates": str(lti_tool.TEMPLATES)}
for path in ("/there-is-no-such-page", "/there-is-no-such-page?lang=en", "/referentiels/",
             "/static/demo/demo.css", "/api/v1/openapi.yaml"):
    response = client.get(path)
    answers[path] = [response.status_code, response.get_data(as_text=True)[:3000]]
    response.close()
print(json.dumps(answers))
"""


def test_item2_the_installed_wheel_renders_pages_from_its_own_templates(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), wheel],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JALON_")}
    # The wheel's packages come first; this venv only lends the dependencies.
    env["PYTHONPATH"] = str(site)
    env["JALON_INSTANCE_PATH"] = str(tmp_path / "instance")
    ran = subprocess.run(
        [sys.executable, "-c", SERVE_FROM_THE_WHEEL],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    answers = json.loads(ran.stdout.splitlines()[-1])
    assert answers["lti_tool"] == str(site / "lti_tool" / "__init__.py")
    assert answers["templates"] == str(site / "lti_tool" / "templates")
    status, page = answers["/there-is-no-such-page"]
    assert status == 404
    assert "<h1>Page introuvable" in page
    status, page = answers["/there-is-no-such-page?lang=en"]
    assert status == 404
    assert "<h1>Page not found" in page
    status, page = answers["/referentiels/"]
    assert status == 200
    assert "Community Manager" in page
    assert answers["/static/demo/demo.css"][0] == 200
    assert answers["/api/v1/openapi.yaml"][0] == 200
