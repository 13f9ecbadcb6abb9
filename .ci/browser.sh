#!/usr/bin/env bash
# Install what the browser tests need on a Debian machine: Debian's Chromium and ChromeDriver,
# Pango for WeasyPrint's PDF livret, poppler-utils to look at its pages (pdftoppm, pdftotext),
# and axe-core at the version tests/a11y/package-lock.json pins.
# Safe to run again: apt is used only for what is missing, npm ci always yields the pinned tree.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# WeasyPrint (the PDF livret) loads Pango and HarfBuzz's subsetter (smaller fonts) from the
# system; without the subsetter WeasyPrint 70 still works but warns at import.
ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
ldconfig -p | grep -q 'libharfbuzz-subset.so.0' || missing+=(libharfbuzz-subset0)
# tests/lti_tool/evaluation/test_livret.py rasterises and reads the livret's pages.
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "browser.sh: installing ${missing[*]} with apt-get"
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
else
  echo "browser.sh: chromium, chromedriver, npm, Pango and poppler-utils already installed"
fi
# Debian's chromium wrapper prints a harmless shell warning on some machines: keep stdout only.
echo "browser.sh: $(chromium --version 2>/dev/null); $(chromedriver --version 2>/dev/null)"

echo "browser.sh: npm ci in tests/a11y (axe-core)"
npm ci --prefix tests/a11y --no-audit --no-fund --loglevel=error
echo "browser.sh: axe-core $(node -p 'require("./tests/a11y/node_modules/axe-core/package.json").version')"
