#!/usr/bin/env bash
# Run the whole test suite. Installs what it needs into .venv; the tests start their own Redis
# (and use the machine's PostgreSQL, or one from the pgserver wheel, where a test needs PostgreSQL).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_venv test
exec "$VENV/bin/python" -m pytest "$@"
