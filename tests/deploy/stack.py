"""Jalon as deployed: the shipped nginx site in front of several ``jalon serve``, as processes.

``Stack`` renders ``deploy/nginx/jalon.conf`` with its placeholders, wraps it in a minimal
main configuration of its own (pid, temporary folders and logs in the given folder,
``daemon off``, the current user), makes a self-signed certificate, and starts the Debian
nginx and N ``jalon serve`` (the real CLI) on one PostgreSQL database and one Redis::

    with Stack(tmp, instances=2, workers=1, database_url=url, redis_url=redis) as stack:
        requests.get(f"{stack.base_url}/healthz", verify=stack.ca_file)
        requests.get(f"{stack.instances[1].url}/healthz")  # one app server, no proxy

A ``requests.Session`` needs ``trust_env = False`` for its ``verify`` to hold: otherwise
``REQUESTS_CA_BUNDLE``, when set, replaces it.

The tests in this folder and ``bench/scale.py`` use it. Every process listens on 127.0.0.1
only: the one change made to the shipped site is its ``listen`` lines narrowed to it
(``on_loopback``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import lti_tool

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "deploy" / "nginx" / "jalon.conf"
# The placeholders of the shipped site, exactly: docs/deploy.md names the same list.
PLACEHOLDERS = (
    "JALON_SERVER_NAME",
    "JALON_HTTPS_PORT",
    "JALON_HTTP_PORT",
    "JALON_TLS_CERTIFICATE",
    "JALON_TLS_CERTIFICATE_KEY",
    "JALON_STATIC_ROOT",
    "JALON_UPSTREAM_SERVERS",
    "JALON_CLIENT_MAX_BODY",
    "JALON_NGINX_LOG_DIR",
)
STATIC_ROOT = Path(lti_tool.__file__).resolve().parent / "static"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
MIME_TYPES = Path("/etc/nginx/mime.types")
_PLACEHOLDER = re.compile(r"\$\{(JALON_[A-Z_]+)\}")


class StackError(RuntimeError):
    """A process of the stack did not start; the message holds the end of its log."""


def render_site(values: Mapping[str, str], site: Path = SITE) -> str:
    """Return the site file with its placeholders filled, as the documented envsubst does.

    Only the listed placeholders are replaced (nginx's own ``$host`` and the like stay);
    a placeholder the file uses but ``values`` lacks is an error, not an empty string.
    """
    missing = [name for name in PLACEHOLDERS if name not in values]
    if missing:
        raise KeyError(f"no value for {', '.join(missing)}")

    def _value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            raise KeyError(f"{site} uses an undocumented placeholder {name}")
        return values[name]

    return _PLACEHOLDER.sub(_value, site.read_text())


_LISTEN = re.compile(r"^(\s*listen) (\d+)", re.MULTILINE)
_LISTEN_IPV6 = re.compile(r"^\s*listen \[::\]:.*\n", re.MULTILINE)


def on_loopback(site: str) -> str:
    """Return the rendered site listening on 127.0.0.1 only (not on every address)."""
    return _LISTEN.sub(r"\1 127.0.0.1:\2", _LISTEN_IPV6.sub("", site))


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """Write a certificate for ``name``, localhost and 127.0.0.1, and its key; return both."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    names: list[x509.GeneralName] = [x509.DNSName(name), x509.DNSName("localhost")]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "tls.crt", folder / "tls.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return cert_file, key_file


def free_port() -> int:
    """Return a port of 127.0.0.1 nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _main_config(folder: Path, site: Path) -> str:
    """Return nginx's main configuration around the site: everything in ``folder``."""
    user = "" if os.geteuid() != 0 else "user root;\n"  # workers read the test's files
    temp = "\n".join(
        f"  {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi")
    )
    return f"""{user}worker_processes 1;
daemon off;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} notice;
events {{ worker_connections 512; }}
http {{
  include {MIME_TYPES};
  default_type application/octet-stream;
  sendfile on;
{temp}
  uwsgi_temp_path {folder / "uwsgi"};
  scgi_temp_path {folder / "scgi"};
  include {site};
}}
"""


@dataclass
class Instance:
    """One ``jalon serve``: its port, process and log file."""

    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the instance's own address, without the proxy (plain http)."""
        return f"http://127.0.0.1:{self.port}"


class Stack:
    """nginx with the shipped site in front of ``instances`` × ``jalon serve``."""

    def __init__(
        self,
        folder: Path,
        *,
        database_url: str,
        redis_url: str | None = None,
        instances: int = 2,
        workers: int = 1,
        threads: int = 4,
        lrs: tuple[str, str, str] | None = None,
        relay: bool = False,
        first_port: int | None = None,
        server_name: str = "localhost",
        upload_max_mb: int = 20,
        env: Mapping[str, str] | None = None,
        secret_key: str | None = None,
        relays: int = 0,
        grade_senders: int = 0,
    ) -> None:
        """Describe the stack; nothing starts before ``start()`` or ``with``.

        ``lrs`` is (endpoint, username, password); ``relay`` lets each app server's workers
        deliver statements and grades (``--relay``); ports are ``first_port`` (https),
        the next (http), then one per instance — free ports when not given. ``relays`` and
        ``grade_senders`` start that many ``jalon xapi relay`` and ``jalon grades send``
        workers beside them (as the systemd units do); ``secret_key`` is shared by all.
        """
        self.folder = Path(folder)
        self.database_url = database_url
        self.redis_url = redis_url
        self.workers, self.threads = workers, threads
        self.lrs, self.relay = lrs, relay
        self.first_port = first_port
        self.server_name = server_name
        self.upload_max_mb = upload_max_mb
        self.env = dict(env or {})
        self.secret_key = secret_key or secrets.token_urlsafe(32)
        self.admin_token = secrets.token_urlsafe(24)
        self.nginx: subprocess.Popen[bytes] | None = None
        self.workers_wanted = {"xapi-relay": relays, "grades-send": grade_senders}
        # The `jalon xapi relay` and `jalon grades send` processes, by log file.
        self.background: dict[Path, subprocess.Popen[bytes]] = {}
        ports = self._ports(2 + instances)
        self.https_port, self.http_port = ports[0], ports[1]
        self.instances = [
            Instance(port, self.folder / f"jalon-{index}.log")
            for index, port in enumerate(ports[2:])
        ]
        self.instance_path = self.folder / "instance"  # shared: uploads are on this disk

    def _ports(self, count: int) -> list[int]:
        if self.first_port is not None:
            return list(range(self.first_port, self.first_port + count))
        return [free_port() for _ in range(count)]

    @property
    def base_url(self) -> str:
        """Return the public address, through nginx: ``https://<server name>:<port>``."""
        return f"https://{self.server_name}:{self.https_port}"

    @property
    def http_url(self) -> str:
        """Return nginx's plain-http address (it only redirects)."""
        return f"http://{self.server_name}:{self.http_port}"

    @property
    def ca_file(self) -> str:
        """Return the self-signed certificate, for ``requests``' ``verify=``."""
        return str(self.folder / "tls.crt")

    @property
    def client_max_body(self) -> str:
        """Return nginx's body limit: 1 MB over the app's own (docs/deploy.md)."""
        return client_max_body(self.upload_max_mb)

    def app_env(self) -> dict[str, str]:
        """Return the environment of every Jalon process: the system's, then the stack's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("JALON_")}
        env.update(
            JALON_DATABASE_URL=self.database_url,
            JALON_SECRET_KEY=self.secret_key,
            JALON_ADMIN_TOKEN=self.admin_token,
            JALON_BASE_URL=self.base_url,
            JALON_INSTANCE_PATH=str(self.instance_path),
            JALON_UPLOAD_MAX_MB=str(self.upload_max_mb),
        )
        if self.redis_url:
            env["JALON_REDIS_URL"] = self.redis_url
        if self.lrs is not None:
            endpoint, username, password = self.lrs
            env.update(
                JALON_LRS_ENDPOINT=endpoint,
                JALON_LRS_USERNAME=username,
                JALON_LRS_PASSWORD=password,
            )
        env.update(self.env)
        return env

    def jalon(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a ``jalon`` command with the stack's environment; return what it printed."""
        return subprocess.run(
            [*jalon_command(), *args],
            env=self.app_env(),
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    # Starting and stopping ------------------------------------------------------------

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Migrate, start the app servers and nginx, and wait until each answers."""
        if NGINX is None:
            raise StackError("nginx is not installed (Debian: apt-get install nginx)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.jalon("db", "upgrade")
        for instance in self.instances:
            instance.process = self._serve(instance)
        for kind, count in self.workers_wanted.items():
            for index in range(count):
                log = self.folder / f"{kind}-{index}.log"
                self.background[log] = self._spawn(kind.split("-"), log)
        self.nginx = self._start_nginx()
        for instance in self.instances:
            self._wait(f"{instance.url}/healthz", instance.process, instance.log)
        self._wait(f"{self.base_url}/healthz", self.nginx, self.folder / "error.log")

    def _serve(self, instance: Instance) -> subprocess.Popen[bytes]:
        command = [
            "serve",
            "--host=127.0.0.1",
            f"--port={instance.port}",
            f"--workers={self.workers}",
            f"--threads={self.threads}",
            "--relay" if self.relay else "--no-relay",
        ]
        return self._spawn(command, instance.log)

    def _spawn(self, args: Sequence[str], log_file: Path) -> subprocess.Popen[bytes]:
        with log_file.open("ab") as log:
            return subprocess.Popen(
                [*jalon_command(), *args], env=self.app_env(), stdout=log, stderr=subprocess.STDOUT
            )

    def _start_nginx(self) -> subprocess.Popen[bytes]:
        cert, key = self_signed(self.folder, self.server_name)
        logs = self.folder / "nginx-logs"
        logs.mkdir(exist_ok=True)
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.folder / kind).mkdir(exist_ok=True)
        upstream = " ".join(f"server 127.0.0.1:{i.port};" for i in self.instances)
        site = self.folder / "jalon.conf"
        site.write_text(
            on_loopback(
                render_site(
                    {
                        "JALON_SERVER_NAME": self.server_name,
                        "JALON_HTTPS_PORT": str(self.https_port),
                        "JALON_HTTP_PORT": str(self.http_port),
                        "JALON_TLS_CERTIFICATE": str(cert),
                        "JALON_TLS_CERTIFICATE_KEY": str(key),
                        "JALON_STATIC_ROOT": str(STATIC_ROOT),
                        "JALON_UPSTREAM_SERVERS": upstream,
                        "JALON_CLIENT_MAX_BODY": self.client_max_body,
                        "JALON_NGINX_LOG_DIR": str(logs),
                    }
                )
            )
        )
        main = self.folder / "nginx.conf"
        main.write_text(_main_config(self.folder, site))
        command = [str(NGINX), "-p", str(self.folder), "-c", str(main), "-e", "stderr"]
        test = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
        if test.returncode != 0:
            raise StackError(f"nginx -t refused the configuration:\n{test.stderr}")
        with (self.folder / "nginx.out").open("ab") as log:
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def _wait(self, url: str, process: subprocess.Popen[bytes] | None, log: Path) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise StackError(f"{url}: the process ended ({process.returncode}):\n{tail(log)}")
            try:
                if requests.get(url, timeout=2, verify=self.ca_file).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise StackError(f"{url} did not answer within 60 s:\n{tail(log)}")

    def stop(self) -> None:
        """Stop nginx (gracefully) and every Jalon process (SIGTERM: each finishes its work)."""
        processes: Sequence[subprocess.Popen[bytes] | None] = [
            self.nginx,
            *(i.process for i in self.instances),
            *self.background.values(),
        ]
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
        for process in processes[1:]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            if process is None:
                continue
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.nginx = None
        self.background.clear()
        for instance in self.instances:
            instance.process = None


def client_max_body(upload_max_mb: int) -> str:
    """Return ``JALON_CLIENT_MAX_BODY`` for ``JALON_UPLOAD_MAX_MB``, as docs/deploy.md says.

    The app refuses a body over max(16, upload + 1) MB with a page that names the limit;
    nginx stops only what is larger still (1 MB more), so learners see the app's page.
    """
    return f"{max(16, upload_max_mb + 1) + 1}m"


def jalon_command() -> list[str]:
    """Return the installed ``jalon`` script of this interpreter's environment."""
    script = Path(sys.executable).parent / "jalon"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from lti_tool.cli import main; main()"]


def tail(path: Path, lines: int = 30) -> str:
    """Return the last lines of a log file (nothing when it does not exist)."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
