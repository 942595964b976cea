#!/usr/bin/env bash
# The contract fuzz (scripts/contract-test.sh runs it against its own `make dev`):
# signs up a person (session cookie) and mints an API key of their org as the console
# does, then runs schemathesis against $AGNUS_API_URL/api/openapi.json twice, time-boxed:
#   1. every operation with the session (state-changing requests as JSON, as the CSRF
#      rule wants: docs/security.md),
#   2. the org's member routes with the API key (`Authorization: Bearer agn_…`).
# Checks: all of schemathesis's, which include not_a_server_error (no 5xx),
# response_schema_conformance / status_code_conformance / content_type_conformance
# (every answer as documented), positive_data_acceptance (a request the document
# allows is never refused as invalid: no 400) and negative_data_rejection (one it
# forbids is refused). Any failure fails the run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${AGNUS_CONTRACT_VENV:?}"
api="${AGNUS_API_URL:?}"
budget="${AGNUS_CONTRACT_SECONDS:-200}"

creds="$(python3 "$here/login.py" "$api")"
export AGNUS_FUZZ_SLUG="$(sed -n 1p <<<"$creds")"
AGNUS_FUZZ_SESSION="$(sed -n 2p <<<"$creds")"
AGNUS_FUZZ_KEY="$(sed -n 3p <<<"$creds")"
export AGNUS_FUZZ_SESSION AGNUS_FUZZ_KEY

# Left out, each for a reason the document cannot express:
#   POST /api/auth/logout, /api/auth/logout-all: they end the run's session (every later
#     request would be a 401; both are covered by tests/tests/auth).
#   DELETE /api/orgs/{slug}: soft-deletes the org the run works in (tests/tests/orgs).
#   /api/feedback: the GET answers an HTML page (the document describes JSON answers) and
#     the POST needs a link signed with the org's key (tests/tests/review/feedback.rs).
# The credentials reach schemathesis through the document's security schemes
# (tests/contract/session.toml, apikey.toml), so its own "missing or broken credentials"
# cases leave them out and expect a refusal.
common=(
  --checks all
  --workers 1
  --request-timeout 120
  --wait-for-schema 120
  # The local stack (the emulator, debug builds, argon2 on a shared machine) is no
  # benchmark: answers may take seconds (BENCHMARKS.md measures speed).
  --max-response-time 120
  --generation-database none
  --suppress-health-check all
  --no-color
  --exclude-path /api/auth/logout
  --exclude-path /api/auth/logout-all
  --exclude-path /api/feedback
  # An operation's name is "METHOD /path" (--exclude-by takes a JSON pointer into the
  # operation's definition, not an expression on method and path).
  --exclude-name 'DELETE /api/orgs/{slug}'
)
st="$venv/bin/schemathesis"
# Schemathesis and Hypothesis keep caches in the working directory (.schemathesis/,
# .hypothesis/). Inside the source tree, a new directory there makes `cargo lambda watch`
# restart every function, and the requests in flight are lost (a fresh clone's first run
# timed out that way): they go to this instance's state directory, which it ignores.
cd "${AGNUS_STATE_DIR:?}"
status=0
echo "contract: session run (${budget}s)" >&2
"$st" --config-file "$here/session.toml" run "$api/api/openapi.json" "${common[@]}" \
  --max-time "$((budget * 2 / 3))" || status=1
echo "contract: API key run ($((budget / 3))s)" >&2
"$st" --config-file "$here/apikey.toml" run "$api/api/openapi.json" "${common[@]}" \
  --max-time "$((budget / 3))" \
  --include-path-regex '^/api/(repos|orgs/\{slug\}(/(rules|review-settings|feedback|webhooks|audit|members$|invites$)|$))' \
  || status=1
exit "$status"
