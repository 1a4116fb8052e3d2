#!/usr/bin/env bash
# Start everything for a demo on this machine: Redis, migrations, demo accounts, the web app (gunicorn +
# gevent), a Celery worker and beat. No Twilio account needed: texts go through the built-in fake Twilio
# and the texter simulator. A child that dies (web, worker, beat, Redis) is restarted, loudly: the safety
# timers must not quietly stop with it. Ctrl-C stops it all.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_venv dev

PORT="${PORT:-5000}"
REDIS_PORT="${REDIS_PORT:-6390}"
mkdir -p instance/demo-redis instance/logs
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:$PORT}"
export FLASK_APP="textline.app:create_app"
export LOG_FORMAT="${LOG_FORMAT:-text}"  # readable logs for a demo; production uses json
PATH="$VENV/bin:$PATH"

MAX_RESTARTS="${MAX_RESTARTS:-5}"  # per child; past this the demo stops instead of looping
CHILDREN="redis web worker beat"

# start NAME: (re)start one child in the background; its pid goes in PID_<name>.
start() {
  case "$1" in
    redis) "$(redis_server_bin)" --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$ROOT/instance/demo-redis" \
             --appendonly yes --save "" >>instance/logs/redis.log 2>&1 & ;;
    web) gunicorn -k gevent -w 1 -b "127.0.0.1:$PORT" textline.wsgi:app >>instance/logs/web.log 2>&1 & ;;
    worker) celery -A workers.worker worker --loglevel INFO --concurrency 2 >>instance/logs/worker.log 2>&1 & ;;
    beat) celery -A workers.worker beat --loglevel INFO >>instance/logs/beat.log 2>&1 & ;;
  esac
  eval "PID_$1=$!; RESTARTS_$1=\${RESTARTS_$1:-0}"
}

pid_of() { eval "echo \${PID_$1:-}"; }

cleanup() {
  trap - EXIT INT TERM
  echo; echo "==> stopping"
  for name in $CHILDREN; do
    pid="$(pid_of "$name")"
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # leave the watch loop for good (the EXIT trap stops the children)

# Every 2 s: a child that is gone is said so on the terminal and started again.
watch_children() {
  while :; do
    sleep 2
    for name in $CHILDREN; do
      pid="$(pid_of "$name")"
      kill -0 "$pid" 2>/dev/null && continue
      eval "RESTARTS_$name=\$((RESTARTS_$name + 1))"
      count="$(eval "echo \$RESTARTS_$name")"
      if [ "$count" -gt "$MAX_RESTARTS" ]; then
        echo "!! $(date +%T) $name keeps dying ($count times); stopping the demo. See instance/logs/$name.log" >&2
        exit 1
      fi
      echo "!! $(date +%T) $name (pid $pid) stopped; restarting it (restart $count). See instance/logs/$name.log" >&2
      start "$name"
    done
  done
}

echo "==> starting Redis on port $REDIS_PORT"
start redis
python - <<PY
import redis, sys, time
for _ in range(50):
    try:
        redis.Redis(port=$REDIS_PORT).ping(); sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit("Redis did not start; see instance/logs/redis.log")
PY

echo "==> database migrations and demo accounts"
flask db upgrade >instance/logs/migrate.log 2>&1
flask textline seed-demo

echo "==> starting web, worker and beat (logs in instance/logs/)"
start web
start worker
start beat

python - <<PY
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen("http://127.0.0.1:$PORT/healthz", timeout=1); sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit("the web app did not start; see instance/logs/web.log")
PY

cat <<MSG

  Textline is running.

  Texter simulator (play the texter):  $PUBLIC_BASE_URL/simulator
  Volunteer console:                   $PUBLIC_BASE_URL/console
      volunteer@demo.textline / textline-demo   (a teen volunteer)
      advisor@demo.textline   / textline-demo   (an adult advisor)
      admin@demo.textline     / textline-demo   (an admin)

  Open the simulator and the console side by side, text from the simulator, claim the
  conversation in the console and reply. Press Ctrl-C to stop.

  Volunteer wellbeing: end a conversation with "Risk you assessed: High" and the volunteer is paused
  for ${TEXTLINE_PAUSE_MINUTES:-5} minutes (the advisor sees it under "Volunteers on shift" at
  $PUBLIC_BASE_URL/supervise); "I need a moment" hands conversations to the advisor; going off shift
  asks a short check-out, and a low answer puts a debrief on the advisor's panel.

MSG
watch_children
