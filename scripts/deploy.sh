#!/usr/bin/env bash
# `make deploy`: builds every function with cargo-lambda (arm64) through `sam build` and
# deploys infra/template.yaml with SAM, using your AWS credentials (profile or env).
# First run: asks stack name, region and settings and writes samconfig.toml
# (scripts/deploy.py configure); later runs repeat from it. `make deploy GUIDED=1` asks again.
# Creates the stack's session-signing secret (<stack>/jwt-secret) if it does not exist.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
config="$root/samconfig.toml"
if [[ ! -f "$config" || "${GUIDED:-0}" == 1 ]]; then
  python3 scripts/deploy.py configure --out "$config"
fi
read -r stack region < <(python3 scripts/deploy.py settings --config "$config")
echo "deploy: stack $stack in $region" >&2
# cargo-lambda and zig (for the arm64 cross build) live in the emulator tools' venv.
localstack/venv.sh
export PATH="$root/.venv/bin:$PATH"
# aws-lc without the jitter entropy source (as `make build`): no stall on the first random number.
export AWS_LC_SYS_NO_JITTER_ENTROPY=1
rustup target add aarch64-unknown-linux-gnu >/dev/null
scripts/sam.sh --python scripts/deploy.py ensure-jwt --name "$stack/jwt-secret" --region "$region"
scripts/sam.sh build --config-file "$config"
scripts/sam.sh deploy --config-file "$config"
scripts/sam.sh --python scripts/deploy.py outputs --stack "$stack" --region "$region"
echo "deploy: done. Check it: make deploy-check URL=<ApiUrl above>" >&2
