#!/usr/bin/env bash
# The slow suites: each area's setup in scripts/slow-setup.d/*.sh runs first (it installs or builds
# what the area needs, into caches outside the repository, and fails with a clear message), then
# vitest runs test/slow/. Ends with the plain "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
for setup in scripts/slow-setup.d/*.sh; do
  [ -e "$setup" ] || continue
  echo "scripts/test-slow.sh: $setup"
  bash "$setup"
done
results=$(mktemp)
status=0
npx vitest run --config vitest.slow.config.mts --reporter=default --reporter=json --outputFile="$results" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`vitest (slow): ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results" || true
rm -f "$results"
exit "$status"
