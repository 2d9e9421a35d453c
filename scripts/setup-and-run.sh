#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running private horde:
# installs the packages, builds, and starts horded on its embedded default
# (SQLite in ./data, results on disk, http://0.0.0.0:7001). Extra args go to horded.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh" "$ROOT/build"
# The data dir defaults to ./data through the environment, so a --data-dir flag still wins.
export HORDE_DATA_DIR="${HORDE_DATA_DIR:-$ROOT/data}"
exec "$ROOT/build/apps/horded/horded" "$@"
