#!/usr/bin/env bash
# Run the benchmark (see bench/README.md): ./bench/run.sh [--smoke] [--db sqlite,postgres] ...
# Uses the same .venv as scripts/test.sh, plus bench/requirements.txt.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
ensure_venv test
stamp="$VENV/.textline-bench-installed"
if [ ! -f "$stamp" ] || [ "$ROOT/bench/requirements.txt" -nt "$stamp" ]; then
  echo "==> installing the benchmark's tools (bench/requirements.txt)"
  "$VENV/bin/python" -m pip install --quiet -r "$ROOT/bench/requirements.txt"
  touch "$stamp"
fi
PATH="$VENV/bin:$PATH"
tool="${BENCH_TOOL:-run}"
exec "$VENV/bin/python" -m "bench.$tool" "$@"
