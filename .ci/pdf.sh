#!/usr/bin/env bash
# Install what the certification PDFs and their tests need on a Debian machine: Pango for
# WeasyPrint (the procès-verbal, certificates, parchments), the DejaVu fonts their print
# stylesheet names (every French letter and typographic sign), poppler-utils to read and
# rasterise their pages (pdftotext, pdftoppm), and zbar-tools to decode their QR codes
# (zbarimg). Safe to run again: apt is used only for what is missing.
set -euo pipefail

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi

missing=()
ldconfig -p | grep -q 'libpango-1.0.so.0' || missing+=(libpango-1.0-0)
ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || missing+=(libpangoft2-1.0-0)
ldconfig -p | grep -q 'libharfbuzz-subset.so.0' || missing+=(libharfbuzz-subset0)
{ command -v fc-list >/dev/null 2>&1 && fc-list | grep -q 'DejaVuSans.ttf'; } \
  || missing+=(fontconfig fonts-dejavu-core)
{ command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; } \
  || missing+=(poppler-utils)
command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "pdf.sh: installing ${missing[*]} with apt-get"
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
else
  echo "pdf.sh: Pango, the DejaVu fonts, poppler-utils and zbar-tools already installed"
fi
echo "pdf.sh: $(pdftoppm -v 2>&1 | head -n 1); $(zbarimg --version 2>&1 | head -n 1)"
