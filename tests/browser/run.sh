#!/usr/bin/env bash
# Runs console_test.py against a running `make dev` (AGNUS_API_URL, from scripts/with-dev.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# Warm the functions the flows use (cargo lambda starts each on its first request).
for p in / /assets/app.js /api/orgs/me /api/repos /api/invites/x; do
  curl -s -o /dev/null --max-time 180 "$AGNUS_API_URL$p" || true
done
curl -s -o /dev/null --max-time 180 "$AGNUS_API_URL/api/auth/login" -H 'content-type: application/json' -d '{}' || true
AGNUS_CONSOLE_URL="http://localhost:${AGNUS_DEV_PORT:-3000}" \
  exec "${AGNUS_BROWSER_VENV:-$root/.venv-browser}/bin/python" "$root/tests/browser/console_test.py"
