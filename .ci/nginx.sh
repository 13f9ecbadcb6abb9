#!/usr/bin/env bash
# Install what tests/deploy needs on a Debian machine: Debian's nginx (the tests run it as a
# process of their own, never as the system's service), envsubst (gettext-base) to render
# the site as docs/deploy.md does, and the PostgreSQL client tools (pg_dump, pg_restore) for
# the restore drill. Safe to run again: apt is used only for what is missing.
set -euo pipefail

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v envsubst >/dev/null 2>&1 || missing+=(gettext-base)
command -v pg_dump >/dev/null 2>&1 || missing+=(postgresql-client)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "nginx.sh: installing ${missing[*]} with apt-get"
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
  # Where systemd runs, the package has just started its default site on port 80: the
  # tests do not use it.
  if [[ " ${missing[*]} " == *" nginx "* ]] && command -v systemctl >/dev/null 2>&1 \
    && systemctl is-active --quiet nginx 2>/dev/null; then
    "${sudo[@]}" systemctl stop nginx
  fi
else
  echo "nginx.sh: nginx, envsubst and pg_dump already installed"
fi
nginx="$(command -v nginx || echo /usr/sbin/nginx)"
echo "nginx.sh: $("$nginx" -v 2>&1)"
