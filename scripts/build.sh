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
  --bin auth --bin orgs --bin invites --bin intake --bin repos --bin worker --bin reviewer --bin purge --bin console
echo "bootstraps (budget: 6 MB each, the reviewer 7 MB):" >&2
for f in auth orgs invites intake repos worker reviewer purge console; do
  printf '  %-8s %s bytes\n' "$f" "$(stat -c %s "${CARGO_TARGET_DIR:-target}/lambda/$f/bootstrap")" >&2
done
