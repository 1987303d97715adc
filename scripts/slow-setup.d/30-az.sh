#!/usr/bin/env bash
# Azure CLI for test/slow/az: installed with pip into a venv in a cache outside the repository,
# keyed by version, reused on a second run. The version is the one the identity-init az variant's
# default image pins (strategies/options.ts DEFAULT_IMAGES.az).
set -euo pipefail
AZ_VERSION=2.91.0
cache="${IDENTITY_HEALTH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/identity-health}/az-$AZ_VERSION"
if [ -x "$cache/venv/bin/az" ] && "$cache/venv/bin/az" version --output tsv >/dev/null 2>&1; then
  echo "30-az.sh: azure-cli $AZ_VERSION already in $cache"
  exit 0
fi
command -v python3 >/dev/null || { echo "30-az.sh: python3 is missing (apt-get install python3 python3-venv)" >&2; exit 1; }
rm -rf "$cache"
mkdir -p "$cache"
python3 -m venv "$cache/venv" || { echo "30-az.sh: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
echo "30-az.sh: installing azure-cli $AZ_VERSION into $cache (several minutes)"
"$cache/venv/bin/pip" install --quiet --disable-pip-version-check "azure-cli==$AZ_VERSION" \
  || { echo "30-az.sh: pip install azure-cli==$AZ_VERSION failed" >&2; rm -rf "$cache"; exit 1; }
"$cache/venv/bin/az" version --output tsv >/dev/null || { echo "30-az.sh: az does not run after install" >&2; rm -rf "$cache"; exit 1; }
echo "30-az.sh: azure-cli $AZ_VERSION ready in $cache"
