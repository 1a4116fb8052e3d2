#!/usr/bin/env bash
# Run the whole test suite. Installs what it needs into .venv; the tests start their own Redis
# (and use the machine's PostgreSQL, or one from the pgserver wheel, where a test needs PostgreSQL).
# The browser tests use Debian's Chromium (installed here when missing and possible; see lib.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_venv test
ensure_browser
exec "$VENV/bin/python" -m pytest "$@"
