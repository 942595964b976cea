#!/usr/bin/env bash
# `make migrate DATABASE_URL=postgres://… [DRY_RUN=1] [LEGACY_WEBHOOKS_UNTIL=<RFC 3339>]`:
# upgrades a single-tenant AgnusAI database into the running `make dev` environment (its
# emulator, table and KMS key from .local/outputs.env). WEBHOOK_SECRET and
# DEFAULT_ORG_NAME are read from the environment, as in production.
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
cd "$AGNUS_ROOT"
: "${DATABASE_URL:?set DATABASE_URL=postgres://user:password@host:port/database (the single-tenant database)}"
outputs="$AGNUS_STATE_DIR/outputs.env"
if [[ ! -s "$outputs" ]] || ! emulator_answers; then
  echo "migrate: no running local environment; start it with 'make dev' first" >&2
  exit 1
fi
set -a
# shellcheck disable=SC1090
source "$outputs"
set +a
args=(migrate --from-postgres "$DATABASE_URL")
[[ -n "${DRY_RUN:-}" && "${DRY_RUN}" != 0 ]] && args+=(--dry-run)
[[ -n "${LEGACY_WEBHOOKS_UNTIL:-}" ]] && args+=(--legacy-webhooks-until "$LEGACY_WEBHOOKS_UNTIL")
exec cargo run -q -p agnus-cli --bin agnus -- "${args[@]}"
