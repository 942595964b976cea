#!/usr/bin/env bash
# LocalStack init hook (runs inside the container when LocalStack is ready): deploys the
# stateful resources from the one shared definition, infra/stateful.yaml.
set -euo pipefail
prefix="${AGNUS_PREFIX:-agnus-local}"
awslocal cloudformation deploy \
  --stack-name "${prefix}-stateful" \
  --template-file /opt/agnus/infra/stateful.yaml \
  --parameter-overrides "Prefix=${prefix}" \
  --no-fail-on-empty-changeset
awslocal cloudformation describe-stacks --stack-name "${prefix}-stateful" \
  --query 'Stacks[0].Outputs' --output table
# The mail sender identity (AGNUS_MAIL_FROM); LocalStack's SES sends only from verified ones.
awslocal sesv2 create-email-identity --email-identity "${AGNUS_MAIL_FROM:-noreply@agnus.local}" >/dev/null 2>&1 || true
