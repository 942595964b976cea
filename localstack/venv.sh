#!/usr/bin/env bash
# Creates a project-local virtualenv with pinned tools. Idempotent: reinstalls only when
# the pins (or, for LocalStack, the project's providers) change.
#   venv.sh             .venv: localstack/requirements.txt (moto, cargo-lambda)
#   venv.sh localstack  .venv-localstack: localstack/localstack-requirements.txt
#                       (LocalStack, Python >= 3.13) and localstack/providers
set -euo pipefail
source "$(dirname "$0")/config.sh"

# The first Python >= 3.13 among $AGNUS_LOCALSTACK_PYTHON, python3.13+ on PATH, pyenv's.
localstack_python() {
  local c
  for c in ${AGNUS_LOCALSTACK_PYTHON:-} python3.14 python3.13 python3 \
    "$HOME"/.pyenv/versions/3.14*/bin/python3 "$HOME"/.pyenv/versions/3.13*/bin/python3; do
    if command -v "$c" >/dev/null 2>&1 \
      && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then
      command -v "$c"
      return 0
    fi
  done
  echo "venv: LocalStack needs Python >= 3.13 (set AGNUS_LOCALSTACK_PYTHON=/path/to/python3.13)" >&2
  return 1
}

if [[ "${1:-}" == localstack ]]; then
  venv="$AGNUS_LOCALSTACK_VENV"
  req="$AGNUS_ROOT/localstack/localstack-requirements.txt"
  providers="$AGNUS_ROOT/localstack/providers"
  want="$(cat "$req" "$providers/pyproject.toml" "$providers"/agnus_localstack/*.py | sha256sum | cut -d' ' -f1)"
  python="$(localstack_python)"
else
  venv="$AGNUS_VENV"
  req="$AGNUS_ROOT/localstack/requirements.txt"
  providers=""
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  python=python3
fi
stamp="$venv/.requirements.sha256"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
echo "venv: installing pinned tools into $venv" >&2
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
if [[ -n "$providers" ]]; then
  # No build isolation: built with the pinned setuptools above, nothing else fetched;
  # from a copy, so no build/ or egg-info is left in the checkout.
  build="$(mktemp -d)"
  cp -r "$providers/pyproject.toml" "$providers/agnus_localstack" "$build/"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
    --force-reinstall "$build"
  rm -rf "$build"
fi
echo "$want" > "$stamp"
