#!/usr/bin/env bash
# Creates the project-local virtualenv (.venv) with the pinned tools of
# localstack/requirements.txt. Idempotent: reinstalls only when the pins change.
set -euo pipefail
source "$(dirname "$0")/config.sh"
req="$AGNUS_ROOT/localstack/requirements.txt"
stamp="$AGNUS_VENV/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ -x "$AGNUS_VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
echo "venv: installing pinned tools into $AGNUS_VENV" >&2
python3 -m venv "$AGNUS_VENV"
"$AGNUS_VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
"$AGNUS_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
