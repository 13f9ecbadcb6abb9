#!/usr/bin/env bash
# Install the second verifier of Jalon's Open Badges 3.0 credentials: Digital Bazaar's Node
# stack (@digitalbazaar/vc, eddsa-rdfc-2022, bitstring status list; pinned by
# tests/vc/package-lock.json) into tests/vc/node_modules. tests/lti_tool/certification/
# test_ob3_second_verifier.py runs tests/vc/verify.mjs on credentials Jalon signed.
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
  echo "vc.sh: installing ${missing[*]} with apt-get"
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "vc.sh: Node $(node --version) found; the verifier needs Node 20 or newer" >&2
  exit 1
fi

lock_sum="$(sha256sum tests/vc/package-lock.json | cut -d' ' -f1)"
stamp=tests/vc/node_modules/.jalon-lock-sha256
library=tests/vc/node_modules/@digitalbazaar/vc/package.json
if [ -f "$library" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; then
  echo "vc.sh: @digitalbazaar/vc already installed from this lock file"
else
  echo "vc.sh: npm ci in tests/vc (@digitalbazaar/vc and its cryptosuites)"
  npm ci --prefix tests/vc --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > "$stamp"
fi
echo "vc.sh: node $(node --version), @digitalbazaar/vc $(node -p 'require("./tests/vc/node_modules/@digitalbazaar/vc/package.json").version')"
