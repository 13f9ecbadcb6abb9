"""nginx in front of the Jalon instances of ``bench/scale.py``, as a process of the run.

A minimal site: TLS on 127.0.0.1 with a self-signed certificate made for the run, the
instances as one upstream (round robin, keep-alive), ``X-Forwarded-*`` set as a reverse
proxy does, uploads up to 25 MB.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bench.lms import wait_for_port
from bench.scale_stack import Process

SITE = """\
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    upstream jalon {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{https} ssl;
        server_name 127.0.0.1;
        ssl_certificate {folder}/cert.pem;
        ssl_certificate_key {folder}/key.pem;
        client_max_body_size 25m;
        location / {{
            proxy_pass http://jalon;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Port $server_port;
        }}
    }}
    server {{
        listen 127.0.0.1:{http};
        return 301 https://$host:{https}$request_uri;
    }}
}}
"""


class Front:
    """nginx on 127.0.0.1: https on ``https_port``, a redirect on ``http_port``."""

    def __init__(self, folder: Path, https_port: int, http_port: int) -> None:
        self.folder = folder
        self.https_port, self.http_port = https_port, http_port
        self.process: Process | None = None

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def start(self, ports: list[int]) -> None:
        """Write the site for the instances on ``ports`` and start nginx."""
        self.folder.mkdir(parents=True, exist_ok=True)
        # Started as root, nginx's workers run as nobody: they need to reach their folder.
        self.folder.parent.chmod(0o711)
        self.folder.chmod(0o755)
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
                *("-subj", "/CN=127.0.0.1", "-keyout", str(self.folder / "key.pem")),
                *("-out", str(self.folder / "cert.pem")),
            ],
            check=True,
            capture_output=True,
        )
        servers = "\n".join(f"        server 127.0.0.1:{port};" for port in ports)
        site = SITE.format(
            folder=self.folder, servers=servers, https=self.https_port, http=self.http_port
        )
        (self.folder / "nginx.conf").write_text(site)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        command = [nginx, "-c", str(self.folder / "nginx.conf"), "-e", str(self.folder / "e.log")]
        self.process = Process(command, {}, self.folder / "nginx.out")
        wait_for_port(self.https_port, 20)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
