"""``jalon platform`` as an administrator uses it: good input, bad input, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lti_tool.cli.platforms import platform
from lti_tool.db import Database
from tests.lti_tool.registration.conftest import stored

MOODLE = "https://moodle.example.edu"
ADD = [
    "add",
    "--issuer",
    MOODLE,
    "--client-id",
    "HkJ3xUq2sLmN0p",
    "--auth-login-url",
    f"{MOODLE}/mod/lti/auth.php",
    "--auth-token-url",
    f"{MOODLE}/mod/lti/token.php",
    "--jwks-url",
    f"{MOODLE}/mod/lti/certs.php",
    "--name",
    "Moodle de l’IUT",
    "--deployment-id",
    "1",
    "--deployment-id",
    "2",
]
WHO = ["--issuer", MOODLE, "--client-id", "HkJ3xUq2sLmN0p"]


@pytest.fixture
def jalon(tmp_path: Path, database_url: str, clean_database: Database):  # type: ignore[no-untyped-def]
    runner = CliRunner(
        env={
            "JALON_DATABASE_URL": database_url,
            "JALON_INSTANCE_PATH": str(tmp_path),
            "JALON_BASE_URL": "https://jalon.test",
            "JALON_SECRET_KEY": "",
        }
    )

    def run(*args: str) -> Result:
        return runner.invoke(platform, list(args))

    return run


def _replace(args: list[str], option: str, value: str) -> list[str]:
    changed = list(args)
    changed[changed.index(option) + 1] = value
    return changed


def test_add_list_remove(jalon, clean_database: Database) -> None:  # type: ignore[no-untyped-def]
    added = jalon(*ADD)
    assert added.exit_code == 0, added.output
    assert f"registered {MOODLE} (client id HkJ3xUq2sLmN0p) with 2 deployment(s)" in added.output
    assert stored(clean_database) == [(MOODLE, "HkJ3xUq2sLmN0p", ["1", "2"])]

    listing = jalon("list")
    assert listing.exit_code == 0
    # Added by an operator at the shell: active at once.
    assert listing.output == f"{MOODLE}\tHkJ3xUq2sLmN0p\tMoodle de l’IUT\t1,2\tactive\n"

    removed = jalon("remove", *WHO)
    assert removed.exit_code == 0, removed.output
    assert stored(clean_database) == []
    assert jalon("list").output.strip() == "no platform registered (jalon platform add --help)"


def test_deployments_can_be_added_and_removed(jalon, clean_database: Database) -> None:  # type: ignore[no-untyped-def]
    without = [a for a in ADD if a not in {"--deployment-id", "1", "2"}]
    added = jalon(*without)
    assert added.exit_code == 0
    assert "warning: no deployment yet" in added.output
    assert jalon("add-deployment", *WHO, "--deployment-id", "5").exit_code == 0
    twice = jalon("add-deployment", *WHO, "--deployment-id", "5")
    assert twice.exit_code == 1
    assert "--deployment-id: deployment '5' is given twice or is already registered" in twice.output
    assert jalon("remove-deployment", *WHO, "--deployment-id", "5").exit_code == 0
    unknown = jalon("remove-deployment", *WHO, "--deployment-id", "5")
    assert unknown.exit_code == 1
    assert "--deployment-id: this platform has no deployment '5'" in unknown.output
    assert stored(clean_database) == [(MOODLE, "HkJ3xUq2sLmN0p", [])]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--issuer", "http://moodle.example.edu", "--issuer: must use https"),
        ("--issuer", "moodle.example.edu", "--issuer: must be an absolute URL"),
        ("--jwks-url", "certs.php", "--jwks-url: must be an absolute URL"),
        ("--auth-token-url", "http://10.1.1.1/token", "--auth-token-url: must use https"),
        ("--client-id", " ", "--client-id: is required"),
        ("--name", "n" * 300, "--name: is longer than 255 characters"),
    ],
)
def test_bad_input_exits_non_zero_naming_the_option(  # type: ignore[no-untyped-def]
    jalon, clean_database: Database, option: str, value: str, message: str
) -> None:
    result = jalon(*_replace(ADD, option, value))
    assert result.exit_code == 1
    assert f"Error: {message}" in result.output
    assert stored(clean_database) == []


def test_a_missing_option_is_a_usage_error(jalon, clean_database: Database) -> None:  # type: ignore[no-untyped-def]
    result = jalon("add", "--issuer", MOODLE)
    assert result.exit_code == 2
    assert "Missing option '--client-id'" in result.output
    assert stored(clean_database) == []


def test_the_same_platform_twice_is_refused(jalon, clean_database: Database) -> None:  # type: ignore[no-untyped-def]
    assert jalon(*ADD).exit_code == 0
    again = jalon(*_replace(ADD, "--name", "autre"))
    assert again.exit_code == 1
    assert "--client-id: a platform with this issuer and client id is already registered" in (
        again.output
    )
    assert stored(clean_database) == [(MOODLE, "HkJ3xUq2sLmN0p", ["1", "2"])]


def test_removing_an_unknown_platform_fails(jalon, clean_database: Database) -> None:  # type: ignore[no-untyped-def]
    result = jalon("remove", *WHO)
    assert result.exit_code == 1
    assert "--client-id: no platform is registered with this issuer and client id" in result.output
