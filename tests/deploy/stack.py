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

The tests in this folder and ``bench/scale.py`` use it; ``nginx.py`` renders the site and
``processes.py`` runs and waits for each process. Every process listens on 127.0.0.1
only: the one change made to the shipped site is its ``listen`` lines narrowed to it
(``on_loopback``).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from tests.deploy.nginx import (
    NGINX,
    STATIC_ROOT,
    client_max_body,
    main_config,
    on_loopback,
    render_site,
    self_signed,
)
from tests.deploy.processes import (
    Instance,
    StackError,
    free_port,
    jalon_command,
    port_is_free,
    wait_until_answering,
)


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
        server_name: str = "127.0.0.1",
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
        self.ports = ports = self._ports(2 + instances)
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
        """Return the public address, through nginx: ``https://<server name>:<port>``.

        The server name is 127.0.0.1 unless told otherwise: ``localhost`` would make clients
        try ::1 first, where nothing of the stack listens.
        """
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
        taken = [p for p in self.ports if not port_is_free(p)]
        if taken:
            # Otherwise whatever listens there would answer the readiness checks.
            raise StackError(f"ports in use on 127.0.0.1: {taken}")
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
            wait_until_answering(
                f"{instance.url}/healthz", instance.process, instance.log, self.ca_file
            )
        wait_until_answering(
            f"{self.base_url}/healthz", self.nginx, self.folder / "error.log", self.ca_file
        )

    def restart(self, instance: Instance, *, before: Callable[[], None] | None = None) -> None:
        """Stop one app server (SIGTERM), run ``before``, start it again, wait until it answers.

        What an upgrade does to each ``jalon@<port>`` in turn (docs/deploy.md).
        """
        if instance.process is not None and instance.process.poll() is None:
            instance.process.send_signal(signal.SIGTERM)
            instance.process.wait(30)
        if before is not None:
            before()
        instance.process = self._serve(instance)
        wait_until_answering(
            f"{instance.url}/healthz", instance.process, instance.log, self.ca_file
        )

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
        main.write_text(main_config(self.folder, site))
        command = [str(NGINX), "-p", str(self.folder), "-c", str(main), "-e", "stderr"]
        test = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
        if test.returncode != 0:
            raise StackError(f"nginx -t refused the configuration:\n{test.stderr}")
        with (self.folder / "nginx.out").open("ab") as log:
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

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
