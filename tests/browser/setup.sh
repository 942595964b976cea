#!/usr/bin/env bash
# Prepares the console's browser tests, idempotently (skips what is present):
#   - Chromium from Debian (`apt-get install -y chromium`) when /usr/bin/chromium is missing
#   - .venv-browser with the pinned Python Playwright (its driver; never `playwright install`)
#   - axe-core from the npm registry tarball, checked against its pinned sha256
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${AGNUS_BROWSER_VENV:-$root/.venv-browser}"
req="$root/tests/browser/requirements.txt"
axe_version=4.14.1
axe_sha256=e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745
axe_dir="$root/.local/axe-core-$axe_version"

if [[ ! -x /usr/bin/chromium ]]; then
  echo "browser: installing Debian's chromium" >&2
  if [[ "$(id -u)" == 0 ]]; then apt-get update -qq && apt-get install -y -qq chromium
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi
fi

stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if ! [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "browser: installing pinned Playwright into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi

if ! [[ -f "$axe_dir/axe.min.js" ]]; then
  echo "browser: fetching axe-core $axe_version" >&2
  mkdir -p "$axe_dir"
  tgz="$axe_dir/axe-core.tgz"
  curl -fsSL -o "$tgz" "https://registry.npmjs.org/axe-core/-/axe-core-$axe_version.tgz"
  echo "$axe_sha256  $tgz" | sha256sum -c --quiet -
  tar -xzf "$tgz" -C "$axe_dir" package/axe.min.js package/LICENSE
  mv "$axe_dir/package/axe.min.js" "$axe_dir/package/LICENSE" "$axe_dir/"
  rmdir "$axe_dir/package"
  rm -f "$tgz"
fi
echo "$axe_dir/axe.min.js"
