#!/usr/bin/env bash
# Stops a PostgreSQL started by tests/pg/start.sh and removes its data: tests/pg/stop.sh <PG_DATA>
set -euo pipefail
data="${1:?usage: tests/pg/stop.sh <PG_DATA>}"
[[ -f "$data/PG_VERSION" ]] || { echo "$data is not a PostgreSQL data directory" >&2; exit 1; }
bin=""
for dir in /usr/lib/postgresql/*/bin; do [[ -x "$dir/pg_ctl" ]] && bin="$dir"; done
as_db=()
[[ "$(id -u)" == 0 ]] && as_db=(runuser -u postgres --)
"${as_db[@]}" "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
rm -rf "$data"
