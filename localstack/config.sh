# Shared settings for the local emulator scripts. Sourced, not executed.
# shellcheck shell=bash
AGNUS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AGNUS_ROOT
export AGNUS_EMULATOR_HOST="${AGNUS_EMULATOR_HOST:-127.0.0.1}"
export AGNUS_EMULATOR_PORT="${AGNUS_EMULATOR_PORT:-4566}"
export AGNUS_PREFIX="${AGNUS_PREFIX:-agnus-local}"
export AGNUS_VENV="${AGNUS_VENV:-$AGNUS_ROOT/.venv}"
# Which emulator start.sh runs: moto (default: localstack/emulator.py) or localstack
# (LocalStack in the host process, its own venv; see docs/operations.md).
export AGNUS_EMULATOR="${AGNUS_EMULATOR:-moto}"
export AGNUS_LOCALSTACK_VENV="${AGNUS_LOCALSTACK_VENV:-$AGNUS_ROOT/.venv-localstack}"
export AGNUS_STATE_DIR="${AGNUS_STATE_DIR:-$AGNUS_ROOT/.local}"
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://$AGNUS_EMULATOR_HOST:$AGNUS_EMULATOR_PORT}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"
# The local scripts only ever talk to the emulator, which accepts any credentials: use its
# dummy pair, so real AWS credentials in your shell never reach the emulator or .local/.
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
unset AWS_SESSION_TOKEN AWS_PROFILE
mkdir -p "$AGNUS_STATE_DIR"

# Answers if an emulator (moto or LocalStack) listens at $1 (default: $AWS_ENDPOINT_URL).
# LocalStack answers once its init stage READY completed (every service loaded).
emulator_answers() {
  local url="${1:-$AWS_ENDPOINT_URL}"
  curl -fsS --max-time 2 "$url/_localstack/init/ready" 2>/dev/null | grep -q '"completed": *true' \
    || curl -fsS -o /dev/null --max-time 2 "$url/moto-api/" 2>/dev/null
}
