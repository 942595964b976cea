#!/usr/bin/env bash
# LocalStack init hook (BOOT: in the container, before LocalStack starts): installs the
# project's providers (localstack/providers) into LocalStack's own virtualenv, where its
# plugin manager finds them by their entry points (PROVIDER_OVERRIDE_SESV2=agnus_moto).
# Their build backend (setuptools, pinned in localstack/providers/pyproject.toml's range)
# comes from PyPI, as pip builds any source package.
set -euo pipefail
py=/opt/code/localstack/.venv/bin/python
"$py" -m pip --version >/dev/null 2>&1 || "$py" -m ensurepip --upgrade >/dev/null
build="$(mktemp -d)"
cp -r /opt/agnus/localstack/providers/. "$build/"
"$py" -m pip install --quiet --disable-pip-version-check --no-deps "$build"
rm -rf "$build"
