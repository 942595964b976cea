#!/usr/bin/env bash
# Starts the Docker-free AWS emulator on $AGNUS_EMULATOR_HOST:$AGNUS_EMULATOR_PORT and waits
# until it answers. Idempotent: an emulator already answering there is reused.
#   AGNUS_EMULATOR=moto (default)  moto server (localstack/emulator.py), venv .venv
#   AGNUS_EMULATOR=localstack      LocalStack in the host process (.venv-localstack), with
#                                  the project's providers for DynamoDB and SESv2
#                                  (localstack/providers; docs/operations.md says why)
set -euo pipefail
source "$(dirname "$0")/config.sh"
url="http://$AGNUS_EMULATOR_HOST:$AGNUS_EMULATOR_PORT"
pidfile="$AGNUS_STATE_DIR/emulator.pid"

if emulator_answers "$url"; then
  echo "emulator: already answering at $url" >&2
  exit 0
fi
case "$AGNUS_EMULATOR" in
  moto)
    "$(dirname "$0")/venv.sh"
    echo "emulator: starting moto (localstack/emulator.py) at $url (log: $AGNUS_STATE_DIR/emulator.log)" >&2
    cmd=("$AGNUS_VENV/bin/python" "$AGNUS_ROOT/localstack/emulator.py" --host "$AGNUS_EMULATOR_HOST" --port "$AGNUS_EMULATOR_PORT")
    ;;
  localstack)
    "$(dirname "$0")/venv.sh" localstack
    echo "emulator: starting LocalStack (host mode) at $url (log: $AGNUS_STATE_DIR/emulator.log)" >&2
    # Host mode, loopback only (agnus_localstack/run.py), state under $AGNUS_STATE_DIR, no
    # DNS server, nothing fetched at run time; DynamoDB and SESv2 from the project's providers.
    # Queue URLs as http://<host>:<port>/<account>/<name> (SQS_ENDPOINT_STRATEGY=off): the
    # default names *.localhost.localstack.cloud, which needs a public DNS answer.
    export OVERRIDE_IN_DOCKER=0 GATEWAY_LISTEN="$AGNUS_EMULATOR_HOST:$AGNUS_EMULATOR_PORT" \
      FILESYSTEM_ROOT="$AGNUS_STATE_DIR/localstack" DNS_ADDRESS=0 SKIP_SSL_CERT_DOWNLOAD=1 \
      DISABLE_EVENTS=1 LOCALSTACK_TELEMETRY_DISABLED=1 \
      LOCALSTACK_HOST="$AGNUS_EMULATOR_HOST:$AGNUS_EMULATOR_PORT" SQS_ENDPOINT_STRATEGY=off \
      SERVICES="${AGNUS_LOCALSTACK_SERVICES:-cloudformation,dynamodb,sqs,kms,s3,sts,iam,ses,sesv2}" \
      PROVIDER_OVERRIDE_DYNAMODB=agnus_moto PROVIDER_OVERRIDE_SESV2=agnus_moto \
      EAGER_SERVICE_LOADING="${EAGER_SERVICE_LOADING:-1}"
    cmd=("$AGNUS_LOCALSTACK_VENV/bin/python" -m agnus_localstack.run)
    ;;
  *)
    echo "emulator: AGNUS_EMULATOR must be moto or localstack (got '$AGNUS_EMULATOR')" >&2
    exit 2
    ;;
esac
# setsid: own process group, so stop.sh (and Ctrl-C in make dev) can end it and its children.
setsid "${cmd[@]}" >"$AGNUS_STATE_DIR/emulator.log" 2>&1 < /dev/null &
echo $! > "$pidfile"
for _ in $(seq 1 600); do
  if emulator_answers "$url"; then
    echo "emulator: ready at $url" >&2
    exit 0
  fi
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "emulator: $AGNUS_EMULATOR exited; last log lines:" >&2
    tail -n 20 "$AGNUS_STATE_DIR/emulator.log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "emulator: did not answer within 120 s at $url" >&2
exit 1
