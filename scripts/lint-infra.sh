#!/usr/bin/env bash
# Lints and scans the CloudFormation/SAM templates with pinned cfn-lint and checkov
# (own virtualenv, .venv-lint). Fails on any finding not suppressed with a written reason
# in infra/.checkov.yaml, and on templates checkov cannot parse.
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
cd "$AGNUS_ROOT"
venv="$AGNUS_ROOT/.venv-lint"
req="$AGNUS_ROOT/localstack/lint-requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if ! [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "lint: installing pinned cfn-lint and checkov into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
"$venv/bin/cfn-lint" infra/*.yaml
out="$("$venv/bin/checkov" -d infra --config-file infra/.checkov.yaml 2>&1)" || { echo "$out" >&2; exit 1; }
echo "$out" | grep -E "Passed checks" >&2
if ! echo "$out" | grep -qE "Passed checks: [0-9]+, Failed checks: 0" || echo "$out" | grep -qE "Parsing errors: [1-9]"; then
  echo "$out" >&2
  echo "lint: checkov findings or parsing errors" >&2
  exit 1
fi
