#!/usr/bin/env bash
# make test-llm (README, "Run with a real local model"): the review engine against a real
# model. Builds (once, cached outside the clone) and starts llama.cpp's `llama-server` with
# SmolLM2-135M-Instruct (scripts/llm-local.sh), starts the provider stand-in for GitHub only
# (the LLM is the real one), runs `make dev` pointed at both, and sends one pull request
# through the whole pipeline: the job must end `posted`. The run's tokens and time are
# written to $AGNUS_STATE_DIR/real-llm.json and printed.
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
cd "$AGNUS_ROOT"
scripts/llm-local.sh build
mkdir -p "$AGNUS_STATE_DIR"
llm_out="$AGNUS_STATE_DIR/llm-server-$$.out"
scripts/llm-local.sh serve > "$llm_out" 2>&1 &
llm_pid=$!
for _ in $(seq 1 600); do
  grep -q '^listening ' "$llm_out" 2>/dev/null && break
  kill -0 "$llm_pid" 2>/dev/null || { cat "$llm_out" >&2; exit 1; }
  sleep 0.2
done
llm_port="$(sed -n 's/^listening //p' "$llm_out")"
[[ -n "$llm_port" ]] || { echo "llm-test: llama-server did not start" >&2; cat "$llm_out" >&2; exit 1; }
source "$AGNUS_ROOT/scripts/standin.sh"
# standin.sh's trap stops the stand-in; this one stops both.
trap 'kill "$llm_pid" "$standin_pid" 2>/dev/null || true' EXIT
export AGNUS_LLM_PROVIDER=openai AGNUS_LLM_BASE_URL="http://127.0.0.1:$llm_port/v1" \
  AGNUS_LLM_MODEL="${AGNUS_LLM_MODEL:-smollm2-135m-instruct}" \
  AGNUS_LLM_REPORT="$AGNUS_STATE_DIR/real-llm.json"
rm -f "$AGNUS_LLM_REPORT"
AGNUS_WITH_DEV_NAME=llm scripts/with-dev.sh \
  cargo test -p agnus-tests --test smoke -- --ignored --exact a_real_local_model_reviews_a_pull_request
cat "$AGNUS_LLM_REPORT"
