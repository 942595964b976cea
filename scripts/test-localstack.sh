#!/usr/bin/env bash
# `make test-localstack` (and a stage of `make test`): the infra checks and the intake, pipeline, review and mail
# black-box suites against LocalStack in the host process (localstack/start.sh with
# AGNUS_EMULATOR=localstack): infra/stateful.yaml through LocalStack's CloudFormation, its
# own SQS, KMS, S3, IAM/STS and SES, DynamoDB and SESv2 from the project's providers
# (localstack/providers). Its own port, state directory and prefix, so it runs beside a moto
# emulator on 4566; stops the LocalStack it started. Time-boxed by AGNUS_LOCALSTACK_SECONDS.
set -euo pipefail
export AGNUS_EMULATOR=localstack
export AGNUS_EMULATOR_PORT="${AGNUS_LOCALSTACK_PORT:-4567}"
export AGNUS_PREFIX="${AGNUS_LOCALSTACK_PREFIX:-agnus-ls}"
root="$(cd "$(dirname "$0")/.." && pwd)"
export AGNUS_STATE_DIR="${AGNUS_LOCALSTACK_STATE_DIR:-$root/.local/localstack}"
unset AWS_ENDPOINT_URL
source "$root/localstack/config.sh"
cd "$AGNUS_ROOT"
limit="${AGNUS_LOCALSTACK_SECONDS:-1500}"

localstack/venv.sh
localstack/venv.sh localstack
url="http://$AGNUS_EMULATOR_HOST:$AGNUS_EMULATOR_PORT"
started=0
if ! emulator_answers "$url"; then
  localstack/start.sh
  started=1
elif ! curl -fsS -o /dev/null --max-time 2 "$url/_localstack/health"; then
  echo "test-localstack: another emulator answers at $url; set AGNUS_LOCALSTACK_PORT to a free port" >&2
  exit 1
fi
cleanup() { if [[ "$started" == 1 ]]; then localstack/stop.sh || true; fi; }
trap cleanup EXIT
start=$SECONDS
"$AGNUS_VENV/bin/python" localstack/provision.py --env-out "$AGNUS_STATE_DIR/outputs.env" >/dev/null
echo "test-localstack: LocalStack at $url, stack $AGNUS_PREFIX-stateful provisioned in $((SECONDS - start)) s" >&2
# The suites start no emulator of their own: the one above answers at AWS_ENDPOINT_URL.
timeout --foreground -k 30 "$limit" \
  cargo test -p agnus-tests --test infra --test intake --test pipeline --test review --test mail
echo "test-localstack: infra, intake, pipeline, review and mail passed against LocalStack in $((SECONDS - start)) s" >&2
