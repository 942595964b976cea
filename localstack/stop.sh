#!/usr/bin/env bash
# Stops the emulator started by start.sh (its whole process group). Idempotent.
set -euo pipefail
source "$(dirname "$0")/config.sh"
pidfile="$AGNUS_STATE_DIR/emulator.pid"
if [[ -f "$pidfile" ]]; then
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    echo "emulator: stopped (pid $pid)" >&2
  fi
  rm -f "$pidfile"
else
  echo "emulator: not started by this project (no pid file); nothing to stop" >&2
fi
