#!/usr/bin/env bash
# Contract fuzz of the OpenAPI document (`make test`, after the smoke tests): schemathesis
# (pinned in tests/contract/requirements.txt, own virtualenv .venv-contract) against
# GET /api/openapi.json of an own `make dev` instance (scripts/with-dev.sh), with a
# session and an API key: no 5xx, every answer as documented, every request the document
# allows accepted, every one it forbids refused. tests/contract/run.sh says what runs and
# what is left out. AGNUS_CONTRACT_SECONDS (default 200) bounds the fuzzing time.
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
cd "$AGNUS_ROOT"
venv="$AGNUS_ROOT/.venv-contract"
req="$AGNUS_ROOT/tests/contract/requirements.txt"
stamp="$venv/.requirements.sha256"
# Python 3.13 when the machine has it (pyenv holds it here): 3.11's ast module is not
# thread-safe (CPython gh-106905, "AST constructor recursion depth mismatch"), which
# Hypothesis's source inspection ran into in a run; 3.13 carries the fix.
py=python3
for candidate in python3.13 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3; do
  if "$candidate" --version >/dev/null 2>&1; then py="$candidate"; break; fi
done
want="$( (sha256sum "$req" | cut -d' ' -f1; "$py" --version) | sha256sum | cut -d' ' -f1)"
if ! [[ -x "$venv/bin/schemathesis" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "contract: installing pinned schemathesis into $venv ($("$py" --version))" >&2
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
export AGNUS_CONTRACT_VENV="$venv"
# Connecting a repository asks the provider: the local stand-in answers.
source "$AGNUS_ROOT/scripts/standin.sh"
AGNUS_WITH_DEV_NAME="${AGNUS_CONTRACT_NAME:-contract}" scripts/with-dev.sh tests/contract/run.sh
