#!/usr/bin/env bash
# `make test`: everything CI checks, on a fresh clone.
#   format, lints (structure check, clippy -D warnings, cfn-lint), unit tests, black-box
#   tests against the emulator (started when needed), the intake, pipeline, review and mail
#   suites again against LocalStack (scripts/test-localstack.sh), smoke tests through the `make dev`
#   gateway, the web console in Chromium (tests/browser, Playwright + axe-core), the contract
#   fuzz of the OpenAPI document (scripts/contract-test.sh, schemathesis, time-boxed by
#   AGNUS_CONTRACT_SECONDS).
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
cd "$AGNUS_ROOT"
step() { printf '\n==> %s\n' "$*" >&2; }

step "tools (.venv)"
localstack/venv.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "structure: no import circle in shared/src nor among the console's modules, no .rs file or console module over 700 lines"
python3 scripts/check-structure.py
python3 scripts/test_check_structure.py

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cfn-lint + checkov infra/"
scripts/lint-infra.sh

step "emulator"
emulator_was_running=0
if emulator_answers; then emulator_was_running=1; fi
cleanup() { if [[ "$emulator_was_running" == 0 ]]; then localstack/stop.sh || true; fi; }
trap cleanup EXIT
localstack/start.sh
"$AGNUS_VENV/bin/python" localstack/provision.py >/dev/null

step "PostgreSQL server (the migration tests' single-tenant database)"
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  sudo_=()
  [[ "$(id -u)" == 0 ]] || sudo_=(sudo)
  "${sudo_[@]}" apt-get update -qq
  "${sudo_[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

step "node (the console's pure helpers are unit-tested under node)"
if ! command -v node >/dev/null; then
  sudo_=()
  [[ "$(id -u)" == 0 ]] || sudo_=(sudo)
  "${sudo_[@]}" apt-get update -qq
  "${sudo_[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs >/dev/null
fi

step "cargo test (unit + black-box)"
cargo test --workspace

step "intake, pipeline, review and mail suites against LocalStack (scripts/test-localstack.sh, time-boxed by AGNUS_LOCALSTACK_SECONDS)"
scripts/test-localstack.sh

step "smoke tests through the local gateway (make dev)"
scripts/smoke.sh

step "console in a real browser (Chromium + axe-core)"
scripts/browser-test.sh

step "contract fuzz of /api/openapi.json (schemathesis, session and API key)"
scripts/contract-test.sh
