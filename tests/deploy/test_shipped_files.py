"""The files of deploy/ as a server gets them: the site in Debian's own nginx.conf, the
documented envsubst, the systemd units and the environment file's example."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lti_tool.cli.grades import send_command
from lti_tool.cli.serving import serve
from lti_tool.cli.xapi import relay_command
from lti_tool.config import ConfigError, Settings
from tests.deploy.conftest import missing
from tests.deploy.nginx import NGINX, PLACEHOLDERS, REPO, SITE, render_site, self_signed

DEPLOY = REPO / "deploy"
UNITS = DEPLOY / "systemd"
GUIDE = REPO / "docs" / "deploy.md"
DEBIAN_NGINX_CONF = Path("/etc/nginx/nginx.conf")


def _values(tmp_path: Path) -> dict[str, str]:
    cert, key = self_signed(tmp_path, "jalon.example.org")
    return {
        "JALON_SERVER_NAME": "jalon.example.org",
        "JALON_HTTPS_PORT": "443",
        "JALON_HTTP_PORT": "80",
        "JALON_TLS_CERTIFICATE": str(cert),
        "JALON_TLS_CERTIFICATE_KEY": str(key),
        "JALON_STATIC_ROOT": "/opt/jalon/venv/lib/python3.11/site-packages/lti_tool/static",
        "JALON_UPSTREAM_SERVERS": "server 127.0.0.1:8001; server 127.0.0.1:8002;",
        "JALON_CLIENT_MAX_BODY": "22m",
        "JALON_NGINX_LOG_DIR": str(tmp_path),
    }


def _envsubst_lists(text: str) -> list[list[str]]:
    """Return the variable lists of the envsubst commands written in a text."""
    commands = re.findall(r"envsubst '([^']+)'", text)
    return [re.findall(r"\$\{(\w+)\}", command) for command in commands]


def test_the_documented_envsubst_names_every_placeholder_and_renders_the_same(
    tmp_path: Path,
) -> None:
    lists = _envsubst_lists(SITE.read_text()) + _envsubst_lists(GUIDE.read_text())
    assert len(lists) == 2
    assert all(sorted(names) == sorted(PLACEHOLDERS) for names in lists)
    values = _values(tmp_path)
    rendered = render_site(values)
    assert "${" not in rendered
    assert "$host" in rendered
    assert "$request_id" in rendered
    if shutil.which("envsubst") is None:
        missing("envsubst is not installed (Debian: apt-get install gettext-base)")
    names = " ".join(f"${{{name}}}" for name in lists[1])
    done = subprocess.run(
        ["envsubst", names],  # noqa: S607 (the documented command)
        input=SITE.read_text(),
        env=values,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == rendered


def test_the_site_passes_nginx_t_inside_debians_own_nginx_conf(tmp_path: Path) -> None:
    if NGINX is None or not DEBIAN_NGINX_CONF.exists():
        missing("nginx is not installed (Debian: apt-get install nginx)")
    site = tmp_path / "jalon"
    site.write_text(render_site(_values(tmp_path)))
    debian = DEBIAN_NGINX_CONF.read_text()
    assert "include /etc/nginx/sites-enabled/*;" in debian
    main = (
        debian.replace("include /etc/nginx/sites-enabled/*;", f"include {site};")
        .replace("pid /run/nginx.pid;", f"pid {tmp_path / 'nginx.pid'};")
        .replace("/var/log/nginx/", f"{tmp_path}/")
    )
    (tmp_path / "nginx.conf").write_text(main)
    checked = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", "stderr"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "warn" not in checked.stderr, checked.stderr


def _unit(name: str) -> str:
    return (UNITS / name).read_text()


def _exec_start(unit: str) -> list[str]:
    line = re.search(r"^ExecStart=(.+?)(?<!\\)$", unit.replace("\\\n", " "), re.MULTILINE)
    assert line
    return line.group(1).split()


def test_the_units_run_commands_the_cli_accepts() -> None:
    app = _unit("jalon@.service")
    defaults = dict(re.findall(r"(JALON_SERVE_\w+)=(\d+)", app))
    command = [
        re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], word).replace("%i", "8001")
        for word in _exec_start(app)
    ]
    assert command[:2] == ["/opt/jalon/venv/bin/jalon", "serve"]
    context = serve.make_context("serve", command[2:])
    assert context.params == {
        "host": "127.0.0.1",
        "port": 8001,
        "workers": 2,
        "threads": 4,
        "relay": False,
        "metrics_port": None,
        "purge": True,
    }
    assert _exec_start(_unit("jalon-relay.service"))[1:] == ["xapi", "relay"]
    relay_command.make_context("relay", [])
    assert _exec_start(_unit("jalon-grades.service"))[1:] == ["grades", "send"]
    send_command.make_context("send", [])


def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        missing("systemd-analyze is not installed (Debian: apt-get install systemd)")
    jalon = shutil.which("jalon") or str(Path(REPO / ".venv" / "bin" / "jalon"))
    for unit in UNITS.iterdir():
        # The one change: the jalon of this checkout's environment, since verify checks it.
        text = unit.read_text().replace("/opt/jalon/venv/bin/jalon", jalon)
        (tmp_path / unit.name).write_text(text)
    names = ["jalon@8001.service", "jalon-relay.service", "jalon-grades.service", "jalon.target"]
    checked = subprocess.run(
        ["systemd-analyze", "verify", *names],  # noqa: S607
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout + checked.stderr == ""
    # The hardening, as systemd rates it (0 best, 10 worst): docs/deploy.md says 1.5.
    for name in names[:3]:
        rated = subprocess.run(
            ["systemd-analyze", "security", "--offline=true", name],  # noqa: S607
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        level = re.search(r"Overall exposure level for \S+: ([\d.]+)", rated.stdout)
        assert level, rated.stdout + rated.stderr
        assert float(level.group(1)) <= 1.5, rated.stdout


def _example() -> dict[str, str]:
    text = (DEPLOY / "jalon.env.example").read_text()
    return dict(re.findall(r"^#?(JALON_\w+)=(.*)$", text, re.MULTILINE))


def test_the_environment_example_is_what_the_units_and_settings_read(tmp_path: Path) -> None:
    example = _example()
    for unit in ("jalon@.service", "jalon-relay.service", "jalon-grades.service"):
        assert "EnvironmentFile=/etc/jalon/jalon.env" in _unit(unit)
        for name in re.findall(r"\$\{(\w+)\}", " ".join(_exec_start(_unit(unit)))):
            assert name in example
    # As shipped, the secret key is empty: the server stops, naming it.
    with pytest.raises(ConfigError, match="JALON_SECRET_KEY is required"):
        Settings.from_env(example, serving=True)
    filled = {
        **example,
        "JALON_SECRET_KEY": "k" * 64,
        "JALON_ADMIN_TOKEN": "a" * 32,
        "JALON_LRS_PASSWORD": "secret",
        "JALON_INSTANCE_PATH": str(tmp_path),
    }
    settings = Settings.from_env(filled, serving=True)
    assert settings.base_url == "https://jalon.example.org"
    assert settings.database_url == "postgresql+psycopg://jalon@/jalon"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.lrs is not None
    assert settings.upload_max_bytes == 20 * 1024 * 1024


def test_the_environment_example_reads_the_same_in_sh_as_in_systemd() -> None:
    # The wrapper of docs/deploy.md sources the file with sh; systemd parses it itself.
    example = DEPLOY / "jalon.env.example"
    done = subprocess.run(
        ["sh", "-c", 'set -a; . "$1"; env', "sh", str(example)],  # noqa: S607
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    sourced = dict(
        line.split("=", 1) for line in done.stdout.splitlines() if line.startswith("JALON_")
    )
    text = example.read_text()
    assert sourced == dict(re.findall(r"^(JALON_\w+)=(.*)$", text, re.MULTILINE))
