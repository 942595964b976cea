#!/usr/bin/env bash
# Starts the Docker-free AWS emulator (moto server) on $AGNUS_EMULATOR_HOST:$AGNUS_EMULATOR_PORT
# and waits until it answers. Idempotent: an emulator already answering there is reused.
set -euo pipefail
source "$(dirname "$0")/config.sh"
url="http://$AGNUS_EMULATOR_HOST:$AGNUS_EMULATOR_PORT"
pidfile="$AGNUS_STATE_DIR/emulator.pid"

answers() { curl -fsS -o /dev/null --max-time 2 "$url/moto-api/" 2>/dev/null || curl -fsS -o /dev/null --max-time 2 "$url/_localstack/health" 2>/dev/null; }

if answers; then
  echo "emulator: already answering at $url" >&2
  exit 0
fi
"$(dirname "$0")/venv.sh"
echo "emulator: starting moto (localstack/emulator.py) at $url (log: $AGNUS_STATE_DIR/emulator.log)" >&2
# setsid: own process group, so stop.sh (and Ctrl-C in make dev) can end it and its children.
setsid "$AGNUS_VENV/bin/python" "$AGNUS_ROOT/localstack/emulator.py" --host "$AGNUS_EMULATOR_HOST" --port "$AGNUS_EMULATOR_PORT" \
  >"$AGNUS_STATE_DIR/emulator.log" 2>&1 < /dev/null &
echo $! > "$pidfile"
for _ in $(seq 1 150); do
  if answers; then
    echo "emulator: ready at $url" >&2
    exit 0
  fi
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "emulator: moto server exited; last log lines:" >&2
    tail -n 20 "$AGNUS_STATE_DIR/emulator.log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "emulator: did not answer within 30 s at $url" >&2
exit 1
