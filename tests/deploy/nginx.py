"""The nginx half of ``Stack``: the shipped site rendered, a certificate, a main config.

``render_site`` fills the placeholders of ``deploy/nginx/jalon.conf`` as the documented
envsubst does; ``main_config`` wraps a site in a main configuration whose every path is in
one folder, run as the current user with ``daemon off``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

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
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    try:
        address = x509.IPAddress(ipaddress.ip_address(name))
        names.extend([] if address in names else [address])
    except ValueError:
        names.extend([] if name == "localhost" else [x509.DNSName(name)])
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


def main_config(folder: Path, site: Path) -> str:
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


def client_max_body(upload_max_mb: int) -> str:
    """Return ``JALON_CLIENT_MAX_BODY`` for ``JALON_UPLOAD_MAX_MB``, as docs/deploy.md says.

    The app refuses a body over max(16, upload + 1) MB with a page that names the limit;
    nginx stops only what is larger still (1 MB more), so learners see the app's page.
    """
    return f"{max(16, upload_max_mb + 1) + 1}m"
