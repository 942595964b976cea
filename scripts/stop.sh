#!/usr/bin/env bash
# `make stop`: stops a running `make dev` (router, functions, and the emulator it
# started) and any emulator left by tests. Idempotent.
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
devpid="$AGNUS_STATE_DIR/dev.pid"
if [[ -f "$devpid" ]] && kill -0 "$(cat "$devpid")" 2>/dev/null; then
  pid="$(cat "$devpid")"
  kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
rm -f "$devpid"
"$AGNUS_ROOT/localstack/stop.sh"
