#!/usr/bin/env bash
# `make bench`: criterion benchmarks (intake hot path per provider and size with its floor
# components; argon2id; JWT; API keys; the review engine's own work per 50-file job) and
# the reviewer's peak memory, the Node peer baseline on the same payloads, and cold starts
# of the function bootstraps. Prints tables; writes target/bench-summary.md
# and the raw results under target/criterion/ and target/bench-extra.jsonl.
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
cd "$AGNUS_ROOT"
extra="$AGNUS_ROOT/target/bench-extra.jsonl"
mkdir -p target && : > "$extra"

echo "==> criterion (cargo bench -p agnus-bench)" >&2
cargo bench -p agnus-bench --bench intake --bench auth --bench review -- --noplot > "$AGNUS_ROOT/target/criterion-run.log" 2>&1 \
  || { tail -30 "$AGNUS_ROOT/target/criterion-run.log" >&2; exit 1; }
grep -E "time:" -B1 "$AGNUS_ROOT/target/criterion-run.log" | grep -v "^--" >&2 || true

echo "==> reviewer peak memory (bench/examples/review_peak_rss.rs: 200 jobs of a 50-file PR, VmHWM)" >&2
cargo run -q --profile bench -p agnus-bench --example review_peak_rss | tee -a "$extra" >&2

echo "==> Node peer baseline (bench/peer, from the npm registry)" >&2
if command -v node >/dev/null && command -v npm >/dev/null; then
  (cd bench/peer && npm ci --silent --no-audit --no-fund >/dev/null 2>&1 || npm install --silent --no-audit --no-fund >/dev/null)
  start=$(date +%s%N)
  node bench/peer/intake.mjs --warmup 300 >> "$extra"
  python3 - "$extra" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
cold = [l for l in lines if l["kind"] == "cold_start"][-1]
mem = [l for l in lines if l["kind"] == "memory"][-1]
print(json.dumps({"kind": "cold_start", "function": "node peer (intake)", "median_ms": cold["ms"], "min_ms": cold["ms"],
                  "max_ms": cold["ms"], "peak_rss_kib": mem["peak_rss_kib"], "binary_bytes": 0}), file=open(sys.argv[1], "a"))
PY
else
  echo "bench: node/npm not found; skipping the peer baseline" >&2
fi

echo "==> cold starts (native bootstraps, bench profile -> target/release, Runtime API emulator)" >&2
cargo build -q --profile bench --bin intake --bin auth --bin worker
localstack/start.sh >/dev/null 2>&1
"$AGNUS_VENV/bin/python" localstack/provision.py --env-out "$AGNUS_STATE_DIR/outputs.env" >/dev/null
{ cat "$AGNUS_STATE_DIR/outputs.env"; echo "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"; echo "AWS_REGION=$AWS_REGION";
  echo "AWS_ACCESS_KEY_ID=test"; echo "AWS_SECRET_ACCESS_KEY=test"; } > "$AGNUS_STATE_DIR/bench.env"
python3 bench/coldstart.py --runs 10 --env-file "$AGNUS_STATE_DIR/bench.env" \
  --bin intake=target/release/intake --bin auth=target/release/auth --bin worker=target/release/worker >> "$extra"

echo "==> console: JS+CSS per page (gzip), CPU per page render, cold start (bench/console.py)" >&2
cargo build -q --profile bench --bin console
python3 bench/console.py --bin target/release/console | tee -a "$extra" >&2
python3 bench/coldstart.py --runs 10 --bin console=target/release/console >> "$extra"

python3 bench/summarize.py "$extra"
