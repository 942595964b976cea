#!/usr/bin/env bash
# Browser tests of the web console (tests/browser/console_test.py) in Debian's Chromium,
# through the same local HTTP entry `make dev` serves (scripts/with-dev.sh), on
# http://localhost:$AGNUS_DEV_PORT (browsers keep `Secure` cookies on localhost).
# Screenshots: target/console-screens/.
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
cd "$AGNUS_ROOT"
# Connecting a repository asks the provider: the local stand-in answers (and the LLM).
source "$AGNUS_ROOT/scripts/standin.sh"
axe="$(tests/browser/setup.sh | tail -1)"
export AGNUS_AXE_JS="$axe"
# The system admin the console tests log in as: make dev seeds it (auth's ADMIN_EMAIL /
# ADMIN_PASSWORD) on the local emulator only.
export ADMIN_EMAIL="${ADMIN_EMAIL:-console-admin@example.com}"
export ADMIN_PASSWORD="${ADMIN_PASSWORD:-console-admin-password-local-emulator-only}"
AGNUS_WITH_DEV_NAME=browser scripts/with-dev.sh tests/browser/run.sh
