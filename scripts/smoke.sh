#!/usr/bin/env bash
# Runs the smoke tests through the same local HTTP entry `make dev` serves: starts
# `make dev` in the background (unless one is running), waits for it, runs the
# ignored smoke tests against it, and stops what it started (scripts/with-dev.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
AGNUS_WITH_DEV_NAME=smoke exec scripts/with-dev.sh cargo test -p agnus-tests --test smoke -- --ignored
