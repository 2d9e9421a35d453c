#!/usr/bin/env bash
# Runs the whole test suite: formatting, unit tests (ctest), integration tests against the real
# server binary (pytest), the JavaScript SDK round trip, and the unit + integration tests again
# under AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/install-deps.sh" --browser

echo "== format check"
files=$(git ls-files 'src/*.cpp' 'src/*.hpp' 'src/*.h' 'apps/*.cpp' 'apps/*.hpp' 'examples/*.c' 'examples/*.cpp')
clang-format --dry-run -Werror $files

echo "== build"
"$ROOT/scripts/build.sh" "$ROOT/build"

echo "== npm packages: the SDK compatibility test; the OpenID Connect provider and playwright-core"
(cd tests/compat && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/web && npm ci --no-audit --no-fund --loglevel=error)

echo "== unit tests"
ctest --test-dir "$ROOT/build" --output-on-failure -L unit

echo "== integration tests (real binary over HTTP)"
export HORDE_BUILD="$ROOT/build"
HORDED="$ROOT/build/apps/horded/horded" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration tests/worker tests/client

echo "== browser tests of the web pages (Chromium, playwright-core, local OpenID Connect provider)"
HORDED="$ROOT/build/apps/horded/horded" "$ROOT/tests/web/run.sh"

echo "== benchmark smoke run (no timing asserts; docs/benchmarks.md has the full preset)"
/usr/bin/python3 bench/run.py --preset smoke --horded "$ROOT/build/apps/horded/horded"
echo "== A/B script smoke run (the same build twice, one short round)"
/usr/bin/python3 bench/ab.py --preset smoke --rounds 1 --duration 1 \
    "$ROOT/build/apps/horded/horded" "$ROOT/build/apps/horded/horded"

echo "== sanitizer build (ASan + UBSan)"
CMAKE_BUILD_TYPE=Debug "$ROOT/scripts/build.sh" "$ROOT/build-asan" -DHORDE_SANITIZE=ON
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$ROOT/build-asan" --output-on-failure -L unit
HORDE_BUILD="$ROOT/build-asan" HORDED="$ROOT/build-asan/apps/horded/horded" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration tests/worker tests/client
echo "== all tests passed"
