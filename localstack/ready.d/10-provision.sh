#!/usr/bin/env bash
# LocalStack init hook (READY: in the container, once LocalStack answers): provisions the
# stateful resources with localstack/provision.py, as the Docker-free path does -- the one
# shared definition infra/stateful.yaml through LocalStack's CloudFormation, then what its
# CloudFormation leaves out (point-in-time recovery, S3 KMS encryption and lifecycle rules)
# and the verified mail sender identity (AGNUS_MAIL_FROM) in SES.
set -euo pipefail
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
  /opt/code/localstack/.venv/bin/python /opt/agnus/localstack/provision.py \
  --endpoint http://localhost:4566 --prefix "${AGNUS_PREFIX:-agnus-local}" \
  --mail-from "${AGNUS_MAIL_FROM:-noreply@agnus.local}"
