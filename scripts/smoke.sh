#!/usr/bin/env bash
# Runs the smoke tests through the same local HTTP entry `make dev` serves: starts
# `make dev` in the background (unless one is running), waits for it, runs the
# ignored smoke tests against it, and stops what it started (scripts/with-dev.sh).
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
cd "$AGNUS_ROOT"
# The GitHub REST + OpenAI-compatible LLM stand-in the review engine talks to.
mkdir -p "$AGNUS_STATE_DIR"
python3 "$AGNUS_ROOT/tests/standins/standin.py" --port 0 > "$AGNUS_STATE_DIR/standin.out" 2>&1 &
standin_pid=$!
trap 'kill "$standin_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q '^listening ' "$AGNUS_STATE_DIR/standin.out" 2>/dev/null && break; sleep 0.1; done
standin="http://127.0.0.1:$(sed -n 's/^listening //p' "$AGNUS_STATE_DIR/standin.out")"
export AGNUS_STANDIN_URL="$standin" AGNUS_GITHUB_API_URL="$standin" AGNUS_LLM_BASE_URL="$standin/v1"
# Smoke tests, then the post-deploy check (`make deploy-check`), against the local stack.
AGNUS_WITH_DEV_NAME=smoke scripts/with-dev.sh bash -c \
  'cargo test -p agnus-tests --test smoke -- --ignored && python3 scripts/deploy_check.py "$AGNUS_API_URL"'
