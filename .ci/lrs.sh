#!/usr/bin/env bash
# Install the real LRS the xAPI tests run against: Learning Locker's statement service
# (npm package xapi-statements, pinned by tests/lrs/package-lock.json) into tests/lrs/node_modules.
# The tests start it themselves, in memory, on a free 127.0.0.1 port (tests/xapi/lrs_process.py).
# Safe to run again: apt is used only if node or npm is missing, and npm ci runs only when
# the lock file changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "lrs.sh: installing ${missing[*]} with apt-get"
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "lrs.sh: Node $(node --version) found; the LRS needs Node 20 or newer" >&2
  exit 1
fi

lock_sum="$(sha256sum tests/lrs/package-lock.json | cut -d' ' -f1)"
stamp=tests/lrs/node_modules/.jalon-lock-sha256
server=tests/lrs/node_modules/xapi-statements/dist/server.js
if [ -f "$server" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; then
  echo "lrs.sh: xapi-statements already installed from this lock file"
else
  echo "lrs.sh: npm ci in tests/lrs (xapi-statements)"
  npm ci --prefix tests/lrs --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > "$stamp"
fi
echo "lrs.sh: node $(node --version), xapi-statements $(node -p 'require("./tests/lrs/node_modules/xapi-statements/package.json").version')"
