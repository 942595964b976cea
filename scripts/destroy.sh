#!/usr/bin/env bash
# `make destroy`: deletes the stack named in samconfig.toml. The DynamoDB table, the KMS
# key, the payload bucket (DeletionPolicy: Retain) and the <stack>/jwt-secret secret are
# kept, so data survives a mistaken destroy; it prints how to remove them.
# `make destroy DELETE_DATA=1` removes them too (bucket emptied, table deleted, key and
# secret scheduled for deletion after 7 days, the shortest window AWS allows).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
config="$root/samconfig.toml"
[[ -f "$config" ]] || { echo "destroy: no samconfig.toml (nothing deployed from this checkout)" >&2; exit 1; }
read -r stack region < <(python3 scripts/deploy.py settings --config "$config")
kept="$(mktemp)"
trap 'rm -f "$kept"' EXIT
scripts/sam.sh --python scripts/deploy.py retained --stack "$stack" --region "$region" > "$kept"
if [[ "${DELETE_DATA:-0}" == 1 ]]; then
  read -r -p "destroy: delete stack $stack in $region AND its data ($(cat "$kept"))? Type the stack name: " answer
  [[ "$answer" == "$stack" ]] || { echo "destroy: cancelled" >&2; exit 1; }
fi
scripts/sam.sh delete --config-file "$config" --stack-name "$stack" --region "$region" --no-prompts
if [[ "${DELETE_DATA:-0}" == 1 ]]; then
  scripts/sam.sh --python scripts/deploy.py delete-data --retained "$kept" --region "$region"
else
  echo "destroy: stack deleted; kept (DeletionPolicy: Retain): $(cat "$kept")" >&2
  echo "destroy: remove them with 'make destroy DELETE_DATA=1' right away, or by hand (docs/operations.md)." >&2
fi
