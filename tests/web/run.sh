#!/usr/bin/env bash
# Browser tests of the web pages: installs the npm packages when missing or outdated, then runs
# `node --test`. HORDED (default build/apps/horded/horded) and CHROMIUM (/usr/bin/chromium)
# may be set. Screenshots go to tests/web/out/.
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.package-lock.json
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "chromium not found at ${CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)" >&2
  exit 1
fi
mkdir -p out
if [ $# -eq 0 ]; then set -- ./*.test.mjs; fi
exec node --test --test-concurrency="${WEB_TEST_CONCURRENCY:-2}" --test-reporter=spec "$@"
