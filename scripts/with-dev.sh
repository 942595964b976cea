#!/usr/bin/env bash
# Runs a command against its own `make dev`: a separate instance (own port, own state
# directory, own table/queue prefix on the shared emulator), so the tests pass while your
# own `make dev` runs in another terminal and never spend its rate limits or see its data.
# Waits until that instance says it is ready (every function answered once), runs "$@"
# with AGNUS_API_URL / AGNUS_DEV_PORT set, and stops it. Used by scripts/smoke.sh and
# scripts/browser-test.sh.
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
name="${AGNUS_WITH_DEV_NAME:-with-dev}"
export AGNUS_STATE_DIR="$AGNUS_ROOT/.local/$name"
export AGNUS_PREFIX="agnus-$name"
export AGNUS_DEV_HOST=127.0.0.1
AGNUS_DEV_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export AGNUS_DEV_PORT
export AGNUS_API_URL="http://$AGNUS_DEV_HOST:$AGNUS_DEV_PORT"
mkdir -p "$AGNUS_STATE_DIR"
# A test instance never reloads: a change in the tree while tests run (a commit in .git, a
# tool's cache directory) would restart every function and lose the requests in flight.
export AGNUS_DEV_WATCH_ARGS="${AGNUS_DEV_WATCH_ARGS:-} --ignore-changes"
log="$AGNUS_STATE_DIR/dev.log"
rm -f "$AGNUS_STATE_DIR/dev.ready"
"$AGNUS_ROOT/scripts/dev.sh" > "$log" 2>&1 &
dev_pid=$!
stop() {
  kill -TERM "$dev_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$dev_pid" 2>/dev/null || break; sleep 0.1; done
}
trap stop EXIT
for i in $(seq 1 2400); do
  [[ -f "$AGNUS_STATE_DIR/dev.ready" ]] && break
  if ! kill -0 "$dev_pid" 2>/dev/null || [[ "$i" == 2400 ]]; then
    echo "dev ($name): did not become ready; log:" >&2; tail -50 "$log" >&2; exit 1
  fi
  sleep 0.5
done
"$@"
