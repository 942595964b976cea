#!/usr/bin/env bash
# `make build`: release bootstraps of every function for Lambda (provided.al2023, arm64),
# with cargo-lambda (cross-compiling through zig, installed with cargo-lambda in .venv).
# Output: target/lambda/<function>/bootstrap (under CARGO_TARGET_DIR when set). Set AGNUS_LAMBDA_ARCH=x86-64 for x86_64.
set -euo pipefail
source "$(dirname "$0")/../localstack/config.sh"
cd "$AGNUS_ROOT"
localstack/venv.sh
arch="${AGNUS_LAMBDA_ARCH:-arm64}"
if [[ "$arch" == arm64 ]]; then
  rustup target add aarch64-unknown-linux-gnu >/dev/null
fi
# aws-lc without the jitter entropy source: no ~40 ms stall on the first random number.
export AWS_LC_SYS_NO_JITTER_ENTROPY=1
PATH="$AGNUS_VENV/bin:$PATH" cargo lambda build --release "--$arch" \
  --bin auth --bin orgs --bin invites --bin intake --bin repos --bin worker --bin reviewer --bin indexer --bin purge --bin console
echo "bootstraps (budget: 6 MB each, orgs 6.1 MB, the reviewer 19 MB, the indexer 18 MB):" >&2
over=()
for f in auth orgs invites intake repos worker reviewer indexer purge console; do
  size="$(stat -c %s "${CARGO_TARGET_DIR:-target}/lambda/$f/bootstrap")"
  budget=6000000
  # orgs: rated comments' embeddings, usage and review settings since the 6 MB goal
  # (BENCHMARKS.md, "Bootstrap sizes", 2026-12-07).
  [[ "$f" == orgs ]] && budget=6100000
  # The reviewer parses the changed functions of a pull request's head files with the same
  # seven tree-sitter grammars as the indexer (graph-aware reviews): ~18 MB, 4.4 MB zipped,
  # on no request path (one SQS job per review).
  [[ "$f" == reviewer ]] && budget=19000000
  # The indexer links seven tree-sitter grammars, whose parse tables are data (C# alone
  # ~5.5 MB of static library, TypeScript + TSX ~3.3 MB): 17.7 MB, 4.2 MB gzipped. It is
  # not on a request path: one cold start per index job that runs for seconds to minutes
  # (BENCHMARKS.md, "Bootstrap sizes").
  [[ "$f" == indexer ]] && budget=18000000
  printf '  %-8s %s bytes (%s under)\n' "$f" "$size" "$((budget - size))" >&2
  ((size <= budget)) || over+=("$f")
done
# Each bootstrap is downloaded on every cold start: a size over budget is a regression to
# look at (BENCHMARKS.md, "Bootstrap sizes"), not something to ship unnoticed.
if ((${#over[@]})); then
  echo "build: over budget: ${over[*]} (AGNUS_ALLOW_OVER_BUDGET=1 builds anyway)" >&2
  [[ "${AGNUS_ALLOW_OVER_BUDGET:-0}" == 1 ]] || exit 1
fi
