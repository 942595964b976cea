#!/usr/bin/env bash
# Runs a command against the local HTTP entry `make dev` serves: builds every function
# binary (so the gateway's first requests don't wait for it), starts `make dev` in the
# background unless one is running, waits until it answers, runs "$@" with AGNUS_API_URL
# set, and stops what it started. Used by scripts/smoke.sh and scripts/browser-test.sh.
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
export AGNUS_DEV_HOST="${AGNUS_DEV_HOST:-127.0.0.1}"
export AGNUS_DEV_PORT="${AGNUS_DEV_PORT:-3000}"
export AGNUS_API_URL="http://$AGNUS_DEV_HOST:$AGNUS_DEV_PORT"
log="$AGNUS_STATE_DIR/dev-${AGNUS_WITH_DEV_NAME:-with-dev}.log"
cargo build -q --workspace --bins
started=0
if ! [[ -f "$AGNUS_STATE_DIR/dev.pid" ]] || ! kill -0 "$(cat "$AGNUS_STATE_DIR/dev.pid")" 2>/dev/null; then
  "$AGNUS_ROOT/scripts/dev.sh" > "$log" 2>&1 &
  started=1
fi
stop() {
  if [[ "$started" == 1 ]]; then
    pid="$(cat "$AGNUS_STATE_DIR/dev.pid" 2>/dev/null || true)"
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do [[ -f "$AGNUS_STATE_DIR/dev.pid" ]] || break; sleep 0.1; done
  fi
}
trap stop EXIT
# Any HTTP answer means the router is up (functions compile on their first request).
for i in $(seq 1 600); do
  if curl -s -o /dev/null --max-time 2 "$AGNUS_API_URL/api/auth/me"; then break; fi
  if [[ "$i" == 600 ]]; then echo "dev: $AGNUS_API_URL did not come up; log:" >&2; tail -50 "$log" >&2; exit 1; fi
  sleep 0.5
done
"$@"
