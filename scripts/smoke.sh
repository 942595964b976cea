#!/usr/bin/env bash
# Runs the smoke tests through the same local HTTP entry `make dev` serves: starts
# `make dev` in the background (unless one is running), waits for it, runs the
# ignored smoke tests against it, and stops what it started.
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
export AGNUS_DEV_HOST="${AGNUS_DEV_HOST:-127.0.0.1}"
export AGNUS_DEV_PORT="${AGNUS_DEV_PORT:-3000}"
api="http://$AGNUS_DEV_HOST:$AGNUS_DEV_PORT"
# Build every function binary first, so the gateway's first requests don't wait for it.
cargo build -q --workspace --bins
# The GitHub REST + OpenAI-compatible LLM stand-in the review engine talks to.
mkdir -p "$AGNUS_STATE_DIR"
python3 "$AGNUS_ROOT/tests/standins/standin.py" --port 0 > "$AGNUS_STATE_DIR/standin.out" 2>&1 &
standin_pid=$!
for _ in $(seq 1 100); do grep -q '^listening ' "$AGNUS_STATE_DIR/standin.out" 2>/dev/null && break; sleep 0.1; done
standin="http://127.0.0.1:$(sed -n 's/^listening //p' "$AGNUS_STATE_DIR/standin.out")"
export AGNUS_STANDIN_URL="$standin" AGNUS_GITHUB_API_URL="$standin" AGNUS_LLM_BASE_URL="$standin/v1"
started=0
if ! [[ -f "$AGNUS_STATE_DIR/dev.pid" ]] || ! kill -0 "$(cat "$AGNUS_STATE_DIR/dev.pid")" 2>/dev/null; then
  "$AGNUS_ROOT/scripts/dev.sh" > "$AGNUS_STATE_DIR/dev-smoke.log" 2>&1 &
  started=1
fi
stop() {
  kill "$standin_pid" 2>/dev/null || true
  if [[ "$started" == 1 ]]; then
    pid="$(cat "$AGNUS_STATE_DIR/dev.pid" 2>/dev/null || true)"
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do [[ -f "$AGNUS_STATE_DIR/dev.pid" ]] || break; sleep 0.1; done
  fi
}
trap stop EXIT
# Any HTTP answer means the router is up (functions compile on their first request).
for i in $(seq 1 600); do
  if curl -s -o /dev/null --max-time 2 "$api/api/auth/me"; then break; fi
  if [[ "$i" == 600 ]]; then echo "smoke: $api did not come up; log:" >&2; tail -50 "$AGNUS_STATE_DIR/dev-smoke.log" >&2; exit 1; fi
  sleep 0.5
done
AGNUS_API_URL="$api" cargo test -p agnus-tests --test smoke -- --ignored
# The post-deploy check (`make deploy-check`), run against this local stack.
python3 "$AGNUS_ROOT/scripts/deploy_check.py" "$api"
