#!/usr/bin/env bash
# LocalStack init hook (BOOT: in the container, before LocalStack starts): installs the
# project's providers (localstack/providers) into LocalStack's own virtualenv, where its
# plugin manager finds them by their entry points (PROVIDER_OVERRIDE_SESV2=agnus_moto).
set -euo pipefail
build="$(mktemp -d)"
cp -r /opt/agnus/localstack/providers/. "$build/"
/opt/code/localstack/.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "$build"
rm -rf "$build"
