#!/usr/bin/env bash
# Runs the smoke tests through the same local HTTP entry `make dev` serves: starts
# `make dev` in the background (unless one is running), waits for it, runs the
# ignored smoke tests against it, and stops what it started (scripts/with-dev.sh).
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
cd "$AGNUS_ROOT"
# The provider REST + OpenAI-compatible LLM stand-in the functions talk to.
source "$AGNUS_ROOT/scripts/standin.sh"
# Smoke tests, then the post-deploy check (`make deploy-check`), against the local stack.
AGNUS_WITH_DEV_NAME=smoke scripts/with-dev.sh bash -c \
  'cargo test -p agnus-tests --test smoke -- --ignored --skip a_real_local_model && python3 scripts/deploy_check.py "$AGNUS_API_URL"'
