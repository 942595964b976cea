#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for the migration tests (the single-tenant AgnusAI's
# database): initdb + postgres on a free loopback port, data under target/pg-<port>.
# initdb refuses to run as root, so as root the server runs as the `postgres` user.
#
#   tests/pg/start.sh [--owner-pid PID]
#
# Prints `PG_PORT=…`, `PG_DATA=…` and `DATABASE_URL=…` lines. With --owner-pid, a watchdog
# stops the server and removes its data when that process exits (the test harness passes
# its own pid, so every test binary cleans up after itself); otherwise use tests/pg/stop.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
owner=""
[[ "${1:-}" == "--owner-pid" ]] && owner="${2:?--owner-pid needs a pid}"

bin="${PG_BIN:-}"
if [[ -z "$bin" ]]; then
    for dir in /usr/lib/postgresql/*/bin; do [[ -x "$dir/initdb" ]] && bin="$dir"; done
fi
if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
    echo "PostgreSQL server binaries not found (install Debian's postgresql package; scripts/test.sh does)" >&2
    exit 1
fi

as_db=()
if [[ "$(id -u)" == 0 ]]; then
    id postgres >/dev/null 2>&1 || { echo "no postgres user (install the postgresql package)" >&2; exit 1; }
    as_db=(runuser -u postgres --)
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$root/target"
data="$root/target/pg-$port"
rm -rf "$data"
mkdir -p "$data"
[[ ${#as_db[@]} -gt 0 ]] && chown postgres: "$data"
chmod 700 "$data"

"${as_db[@]}" "$bin/initdb" -D "$data" -U postgres -A trust --no-sync -E UTF8 >"$data.initdb.log" 2>&1 \
    || { cat "$data.initdb.log" >&2; exit 1; }
rm -f "$data.initdb.log"
# Loopback only; the socket lives in the data directory; durability off (test data).
"${as_db[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $data -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null

if [[ -n "$owner" ]]; then
    setsid nohup bash -c "
        while kill -0 $owner 2>/dev/null; do sleep 1; done
        $(printf '%q ' "${as_db[@]}") '$bin/pg_ctl' -D '$data' -m immediate stop >/dev/null 2>&1
        rm -rf '$data'
    " >/dev/null 2>&1 &
fi

echo "PG_PORT=$port"
echo "PG_DATA=$data"
echo "DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
