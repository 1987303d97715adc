#!/usr/bin/env bash
# Runs every test. Installs what the behaviour tests need when missing (Debian packages: busybox,
# dash, curl, shellcheck, iproute2, openssl; root required for network namespaces), then the npm deps.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# The Debian package busybox, not busybox-static: a standalone BusyBox runs its own date/sleep applets,
# not the behaviour bed's virtual-clock shims (apt-get replaces busybox-static with it).
dpkg -s busybox >/dev/null 2>&1 || need+=(busybox)
command -v dash >/dev/null || need+=(dash)
command -v curl >/dev/null || need+=(curl)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v ip >/dev/null || need+=(iproute2)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/test.sh: missing ${need[*]}; run as root or install them (apt-get install ${need[*]})" >&2
    exit 2
  fi
  echo "scripts/test.sh: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
results=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$results" "$@" || status=$?
# One plain closing line that any CI reads: "N passed, N failed".
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results" || true
rm -f "$results"
exit "$status"
