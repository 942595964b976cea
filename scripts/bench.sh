#!/usr/bin/env bash
# `make bench`: criterion benchmarks (intake hot path per provider and size, its floor and
# floor components; argon2id; JWT; API keys), the Node peer baseline on the same payloads,
# cold starts and peak memory of the function bootstraps, the console budgets. Everything is
# built with the settings that ship (`[profile.release]`: the bench profile inherits it
# unchanged), so the figures describe the deployed code (native architecture).
# AGNUS_BENCH_COMPARE=1 also builds the intake benches with opt-level 3 (`bench-o3` profile)
# and reports shipped / opt-level-3 ratios from the same run (a second optimized build).
# The graph context's cost per review (benches/graph.rs, examples/graph_tokens.rs) reads
# Django and CPython's stdlib (scripts/bench-sources.sh: downloaded once, cached).
# Then the codebase index (scripts/bench-index.sh: Django and CPython's stdlib, one core, vs a
# Node web-tree-sitter peer, caller accuracy vs jedi); AGNUS_BENCH_INDEX=0 skips it,
# AGNUS_BENCH_INDEX_ACCURACY=0 only its ~15-minute accuracy check.
# Prints tables; writes <target>/bench/summary.md, the raw results under
# <target>/bench/criterion*/ and <target>/bench/extra.jsonl (<target>: CARGO_TARGET_DIR or target).
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
cd "$AGNUS_ROOT"
target="${CARGO_TARGET_DIR:-$AGNUS_ROOT/target}"
out="$target/bench"
extra="$out/extra.jsonl"
mkdir -p "$out" && : > "$extra"
# aws-lc without the jitter entropy source, as `make build` ships it (no stall on the first
# random number in a cold start).
export AWS_LC_SYS_NO_JITTER_ENTROPY=1

# The criterion executable of bench target $2 built with profile $1 (builds it).
bench_exe() {
  cargo bench --profile "$1" -p agnus-bench --bench "$2" --no-run --message-format=json 2>"$out/build-$1.log" \
    | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[1] and m.get("executable"):
        print(m["executable"])' "$2" | tail -1
}

source scripts/bench-sources.sh

echo "==> build: criterion benches (shipped settings: opt-level z, fat LTO; several minutes)" >&2
for b in intake auth review graph; do
  exe=$(bench_exe bench "$b" || true)
  [[ -x "$exe" ]] || { tail -30 "$out/build-bench.log" >&2; exit 1; }
  printf -v "${b}_exe" '%s' "$exe"
done
o3_exe=
if [[ "${AGNUS_BENCH_COMPARE:-0}" == 1 ]]; then
  echo "==> build: intake bench with opt-level 3 (bench-o3 profile, for the ratio)" >&2
  o3_exe=$(bench_exe bench-o3 intake || true)
  [[ -x "$o3_exe" ]] || { tail -30 "$out/build-bench-o3.log" >&2; exit 1; }
fi
echo "==> build: bootstraps (release profile, native)" >&2
cargo build -q --release --bin intake --bin auth --bin worker --bin console \
  --bin orgs --bin invites --bin repos --bin reviewer --bin purge

echo "==> criterion" >&2
run_criterion() { # criterion-home executable
  CRITERION_HOME="$1" "$2" --bench --noplot >> "$out/criterion-run.log" 2>&1 || { tail -30 "$out/criterion-run.log" >&2; exit 1; }
}
: > "$out/criterion-run.log"
run_criterion "$out/criterion" "$intake_exe"
if [[ -n "$o3_exe" ]]; then run_criterion "$out/criterion-o3" "$o3_exe"; fi
run_criterion "$out/criterion" "$auth_exe"
run_criterion "$out/criterion" "$review_exe"
run_criterion "$out/criterion" "$graph_exe"

echo "==> reviewer peak memory (bench/examples/review_peak_rss.rs: 200 jobs of a 50-file PR, VmHWM)" >&2
cargo run -q --profile bench -p agnus-bench --example review_peak_rss | tee -a "$extra" >&2
echo "==> reviewer peak memory reading a 150 MB Bitbucket diff under the download caps (bench/examples/review_download_peak.rs)" >&2
cargo run -q --profile bench -p agnus-bench --example review_download_peak | tee -a "$extra" >&2

echo "==> graph context: prompt tokens per depth and budget (bench/examples/graph_tokens.rs, Django $django_version)" >&2
cargo run -q --profile bench -p agnus-bench --example graph_tokens | tee -a "$extra" >&2

echo "==> Node peer baseline (bench/peer, from the npm registry)" >&2
if command -v node >/dev/null && command -v npm >/dev/null; then
  (cd bench/peer && npm ci --silent --no-audit --no-fund >/dev/null 2>&1 || npm install --silent --no-audit --no-fund >/dev/null)
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

echo "==> cold starts (release bootstraps, Runtime API emulator, first and second invocation)" >&2
localstack/start.sh >/dev/null 2>&1
"$AGNUS_VENV/bin/python" localstack/provision.py --env-out "$AGNUS_STATE_DIR/outputs.env" >/dev/null
{ cat "$AGNUS_STATE_DIR/outputs.env"; echo "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"; echo "AWS_REGION=$AWS_REGION";
  echo "AWS_ACCESS_KEY_ID=test"; echo "AWS_SECRET_ACCESS_KEY=test"; } > "$AGNUS_STATE_DIR/bench.env"
python3 bench/coldstart.py --runs 20 --env-file "$AGNUS_STATE_DIR/bench.env" \
  --bin intake="$target/release/intake" --bin auth="$target/release/auth" --bin worker="$target/release/worker" \
  --bin console="$target/release/console" --bin orgs="$target/release/orgs" --bin invites="$target/release/invites" \
  --bin repos="$target/release/repos" --bin reviewer="$target/release/reviewer" --bin purge="$target/release/purge" \
  --bin intake-accepted="$target/release/intake" >> "$extra"

echo "==> console: JS+CSS per page (gzip), CPU per page render (bench/console.py)" >&2
python3 bench/console.py --bin "$target/release/console" | tee -a "$extra" >&2

if [[ "${AGNUS_BENCH_INDEX:-1}" == 1 ]]; then
  echo "==> codebase index (scripts/bench-index.sh)" >&2
  scripts/bench-index.sh "$extra"
fi

python3 bench/summarize.py "$extra" "$out/criterion" "$out/criterion-o3"
