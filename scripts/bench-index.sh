#!/usr/bin/env bash
# The codebase index's benchmark (BENCHMARKS.md, "Codebase index"), part of `make bench`
# (AGNUS_BENCH_INDEX=0 skips it) or alone: `scripts/bench-index.sh [EXTRA_JSONL]`.
#
# Codebases nobody here wrote, pinned: Django 5.2.8 (its sdist from PyPI, sha256-checked, the
# `django` package only: 883 files, 158k lines) and CPython 3.11's standard library (pyenv's
# 3.11, without tests); and a ~1M-line input: the whole standard library (tests included)
# plus Django. Downloads and tools are cached under AGNUS_BENCH_CACHE (~/.cache/agnus-bench).
#
# 1. `index_bench` (bench/src/bin, release profile = what ships) on one core (taskset -c 0):
#    parse + extract + resolve + encode, peak RSS, Graph::update of 20 changed files.
# 2. The Node peer (bench/node: web-tree-sitter + tree-sitter-python's wasm, `npm ci` into
#    the cache) on exactly the same files, same core, both tree walks and parse-only.
# 3. Caller accuracy against jedi (bench/accuracy, own venv in the cache) on a 60-function
#    sample of Django (~15 minutes; AGNUS_BENCH_INDEX_ACCURACY=0 skips it).
# Appends JSON lines to EXTRA_JSONL (default <target>/bench/index.jsonl) and prints the tables.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
extra="${1:-$target/bench/index.jsonl}"
mkdir -p "$(dirname "$extra")"
[[ $# -ge 1 ]] || : > "$extra"
# One core: the figures are per core (and the Node peer's helper threads share it).
if command -v taskset >/dev/null; then pin() { taskset -c 0 "$@"; }; else pin() { "$@"; }; fi

source "$root/scripts/bench-sources.sh"

echo "==> index: build index_bench, index_callers (release profile)" >&2
cargo build -q --release -p agnus-bench --bin index_bench --bin index_callers
bin="$target/release"

echo "==> index: throughput, peak RSS, incremental update (one core)" >&2
corpus_django=("$django_pkg/django=django" --ext py)
corpus_stdlib=("$stdlib" --exclude test --exclude tests --exclude idle_test --ext py)
corpus_1m=("$stdlib" "$django_pkg/django=django" --ext py)
run_index() { # label corpus...
  local label="$1"; shift
  pin "$bin/index_bench" --label "$label" --list-out "$cache/lists/$label.list" "$@" | tee -a "$extra" >&2
}
run_index "django-$django_version" "${corpus_django[@]}"
run_index "stdlib-$stdlib_version" "${corpus_stdlib[@]}"
run_index "stdlib-$stdlib_version+tests+django" "${corpus_1m[@]}"

echo "==> index: Node peer (web-tree-sitter, bench/node) on the same files" >&2
if command -v node >/dev/null && command -v npm >/dev/null; then
  peer="$cache/node"
  mkdir -p "$peer"
  cp bench/node/package.json bench/node/package-lock.json bench/node/index.mjs "$peer/"
  (cd "$peer" && npm ci --ignore-scripts --no-audit --no-fund --cache "$cache/npm" >/dev/null)
  for label in "django-$django_version" "stdlib-$stdlib_version" "stdlib-$stdlib_version+tests+django"; do
    for walk in children cursor none; do
      pin node "$peer/index.mjs" --files "$cache/lists/$label.list" --label "$label" --walk "$walk" --passes 2 \
        | tee -a "$extra" >&2
    done
  done
else
  echo "bench: node/npm not found; skipping the index peer" >&2
fi

if [[ "${AGNUS_BENCH_INDEX_ACCURACY:-1}" == 1 ]]; then
  echo "==> index: caller accuracy vs jedi (bench/accuracy, ~15 minutes)" >&2
  venv="$cache/venv-accuracy"
  [[ -x "$venv/bin/python" ]] || "$python311" -m venv "$venv"
  "$venv/bin/pip" install -q -r bench/accuracy/requirements.txt
  "$venv/bin/python" bench/accuracy/accuracy.py --callers-bin "$bin/index_callers" --package "$django_pkg" \
    --name django --sample 60 --seed 30 --label "django-$django_version" \
    --details "$(dirname "$extra")/index-accuracy-details.json" | tee -a "$extra" >&2
fi

[[ $# -ge 1 ]] || python3 bench/summarize.py --index "$extra"
