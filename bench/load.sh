#!/usr/bin/env bash
# Load test of the webhook intake through the local gateway (`make dev`, emulator in the
# loop): signed 25 KiB GitHub deliveries, each with a new delivery id. Prints deliveries
# per second and p50/p90/p99 latency as seen by the client (wrk, from Debian's packages).
# Usage: bench/load.sh [duration_s=20] [connections=4]
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
cd "$AGNUS_ROOT"
duration="${1:-20}"; conns="${2:-4}"
command -v wrk >/dev/null || { echo "load: needs wrk (apt-get install wrk)" >&2; exit 1; }
api="http://${AGNUS_DEV_HOST:-127.0.0.1}:${AGNUS_DEV_PORT:-3000}"
curl -s -o /dev/null --max-time 2 "$api/api/auth/me" || { echo "load: start 'make dev' first ($api)" >&2; exit 1; }
email="load-$(date +%s%N)@example.com"
signup=$(curl -s "$api/api/auth/signup" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"correct horse battery\",\"orgName\":\"Load $(date +%s)\"}")
read -r url secret < <(python3 -c 'import json,sys; w=[x for x in json.load(sys.stdin)["webhooks"] if x["provider"]=="github"][0]; print(w["url"], w["secret"])' <<<"$signup")
body="$AGNUS_STATE_DIR/load-body.json"
python3 - "$body" <<'PY'
import json, sys
head = {"action": "opened", "number": 7, "pull_request": {"title": "load", "head": {"sha": "ec26c3e5"}},
        "repository": {"full_name": "load/test"}, "padding": ""}
text = json.dumps(head, separators=(",", ":"))
pad = 25 * 1024 - len(text)
head["padding"] = "x" * pad
open(sys.argv[1], "w").write(json.dumps(head, separators=(",", ":")))
PY
sig="sha256=$(openssl dgst -sha256 -hmac "$secret" < "$body" | sed 's/^.* //')"
# Warm up (functions compiled and started), then measure.
wrk -t1 -c1 -d3s -s bench/load.lua "$url" -- "$body" "$sig" >/dev/null
wrk -t2 -c"$conns" -d"${duration}s" -s bench/load.lua "$url" -- "$body" "$sig" | grep '^{'
