#!/usr/bin/env bash
# Runs the pinned AWS SAM CLI from its own virtualenv (.venv-sam), installing it on first
# use (about 2 minutes, ~350 MB) and again only when localstack/sam-requirements.txt
# changes. Telemetry off. Usage: scripts/sam.sh <sam arguments…>
# Never sources localstack/config.sh: deploys use your own AWS credentials, not the
# emulator's.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv-sam"
req="$root/localstack/sam-requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if ! [[ -x "$venv/bin/sam" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "sam: installing the pinned AWS SAM CLI into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
export SAM_CLI_TELEMETRY=0
[[ "${1:-}" == "--python" ]] && { shift; exec "$venv/bin/python" "$@"; }
exec "$venv/bin/sam" "$@"
