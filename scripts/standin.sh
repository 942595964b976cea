# Sourced by scripts/smoke.sh and scripts/browser-test.sh: starts the local provider + LLM
# stand-in (tests/standins/standin.py) on a free port, points the functions at it
# (every provider URL and AGNUS_LLM_BASE_URL; make dev forwards AGNUS_* to them) and stops it
# when the calling script exits.
# shellcheck shell=bash
mkdir -p "$AGNUS_STATE_DIR"
standin_out="$AGNUS_STATE_DIR/standin-$$.out"
python3 "$AGNUS_ROOT/tests/standins/standin.py" --port 0 > "$standin_out" 2>&1 &
standin_pid=$!
trap 'kill "$standin_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q '^listening ' "$standin_out" 2>/dev/null && break; sleep 0.1; done
AGNUS_STANDIN_URL="http://127.0.0.1:$(sed -n 's/^listening //p' "$standin_out")"
export AGNUS_STANDIN_URL AGNUS_GITHUB_API_URL="$AGNUS_STANDIN_URL" AGNUS_LLM_BASE_URL="$AGNUS_STANDIN_URL/v1" \
  AGNUS_GITLAB_URL="$AGNUS_STANDIN_URL" AGNUS_AZURE_DEVOPS_URL="$AGNUS_STANDIN_URL" \
  AGNUS_BITBUCKET_API_URL="$AGNUS_STANDIN_URL/2.0" AGNUS_BITBUCKET_WEB_URL="$AGNUS_STANDIN_URL"
