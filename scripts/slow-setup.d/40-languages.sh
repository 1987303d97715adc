#!/usr/bin/env bash
# Slow-suite setup for test/slow/languages: builds the Python wheel, the Go module and the Maven jar
# (scripts/languages/build.ts: jsii facade, jsii, one jsii-pacmak for the three targets, API docs)
# into a version-keyed cache outside the repository; a second run with the same sources reuses it.
#   IH_LANGUAGES_CACHE  the cache (default: ~/.cache/cdk8s-identity-health/languages); pip and Maven
#                       downloads are cached there too, Go modules in the usual GOMODCACHE.
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
command -v go >/dev/null || missing+=("go (Go >= 1.23, for the Go module)")
command -v mvn >/dev/null || missing+=("mvn (Maven, for the jar)")
command -v javac >/dev/null || missing+=("javac (a JDK >= 11, for the jar)")
command -v python3 >/dev/null || missing+=("python3 (>= 3.9, for the wheel)")
if command -v python3 >/dev/null && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  # Debian splits venv/ensurepip out of python3.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "languages: installing python3-venv"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  else
    missing+=("python3-venv (python3 -m venv)")
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  printf 'languages: FAILED: missing %s\n' "${missing[@]}" >&2
  exit 1
fi

start=$SECONDS
npx tsx scripts/languages/build.ts
echo "languages: ready in $((SECONDS - start)) s"
