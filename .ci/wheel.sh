#!/usr/bin/env bash
# What `pip install .` gives a newcomer: build Jalon's wheel, install it in a fresh venv outside
# the checkout, run `jalon demo` from a folder that is not the checkout (so nothing is imported
# from the source tree), and check its pages, files and one real LTI launch over HTTP
# (.ci/wheel_check.py). Everything lives in a temporary folder, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== the wheel: pip install . in a fresh venv, then jalon demo and a launch"
repo="$PWD"
started=$SECONDS
work="$(mktemp -d)"
demo_pid=""

finish() {
  status=$?
  if [ -n "$demo_pid" ]; then
    kill "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$work/demo.log" ]; then
    echo "wheel.sh: the demo's log (last 60 lines):" >&2
    tail -n 60 "$work/demo.log" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap finish EXIT

# Build from a copy: setuptools reuses the checkout's build/ folder, where a file deleted
# since an earlier build would still be packed.
mkdir "$work/src"
tar -C "$repo" --exclude=./.git --exclude=./.venv --exclude=./build --exclude='*.egg-info' \
  --exclude=./tests --exclude=./bench --exclude=__pycache__ -cf - . | tar -C "$work/src" -xf -
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip wheel -q --no-deps -w "$work/dist" "$work/src"
wheel=("$work"/dist/jalon-*.whl)
echo "wheel.sh: built $(basename "${wheel[0]}") ($(du -k "${wheel[0]}" | cut -f1) kB)"
"$work/venv/bin/python" -m pip install -q "${wheel[0]}"

# Run from an empty folder, with no JALON_* setting or PYTHONPATH from the caller.
mkdir "$work/run" "$work/instance"
cd "$work/run"
unset PYTHONPATH
while IFS= read -r name; do unset "$name"; done < <(env | sed -n 's/^\(JALON_[A-Za-z0-9_]*\)=.*/\1/p')
"$work/venv/bin/python" - <<'PY'
import sys

import lti_tool
from xapi.profile import load_profile

if "site-packages" not in lti_tool.__file__:
    sys.exit(f"wheel.sh: lti_tool comes from {lti_tool.__file__}, not the installed wheel")
print(f"wheel.sh: lti_tool from {lti_tool.__file__}")
load_profile("http://127.0.0.1")  # the xAPI profile document (no page serves it yet)
PY
port="$("$work/venv/bin/python" -c \
  'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
JALON_INSTANCE_PATH="$work/instance" "$work/venv/bin/jalon" demo --port "$port" \
  >"$work/demo.log" 2>&1 &
demo_pid=$!
"$work/venv/bin/python" "$repo/.ci/wheel_check.py" "http://127.0.0.1:$port" "$demo_pid"
echo "wheel.sh: passed in $((SECONDS - started)) s"
