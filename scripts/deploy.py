#!/usr/bin/env python3
"""Helpers behind `make deploy` / `make destroy` (scripts/deploy.sh, scripts/destroy.sh).

  configure   first-time guided setup: asks (or reads from the environment) the stack
              name, region and settings, and writes samconfig.toml. Standard library only.
  settings    prints `stack region` from samconfig.toml (for the shell scripts).
  ensure-jwt  creates the stack's session-signing secret in Secrets Manager if missing.
  outputs     prints the stack's outputs (ApiUrl, DashboardUrl, ...).
  retained    prints the resources `make destroy` keeps (table, key, bucket) as JSON.
  delete-data deletes the retained resources listed by `retained` (DELETE_DATA=1).

The AWS subcommands use boto3 from the SAM CLI's virtualenv (.venv-sam) and the
caller's own AWS credentials; nothing here talks to the local emulator.
"""

import argparse
import json
import os
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "template.yaml"
STACK_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,30}$")

# (template parameter, environment variable, question). A question is asked only when
# the template declares its parameter, so settings other features add (mail, LLM) are
# offered as soon as their parameter exists under one of these names.
QUESTIONS = [
    ("PublicBaseUrl", "AGNUS_PUBLIC_BASE_URL",
     "Public base URL of the API (custom domain; empty: the execute-api URL)"),
    ("AppBaseUrl", "AGNUS_APP_BASE_URL", "Base URL of the web console (empty: the public base URL)"),
    ("MailFrom", "AGNUS_MAIL_FROM", "Mail sender (an SES-verified address or domain identity)"),
    ("LlmProvider", "AGNUS_LLM_PROVIDER", "LLM provider"),
    ("LlmModel", "AGNUS_LLM_MODEL", "LLM model id"),
    ("LlmApiKeySecretName", "AGNUS_LLM_API_KEY_SECRET_NAME",
     "Secrets Manager secret holding the LLM API key"),
    ("AlarmTopicArn", "AGNUS_ALARM_TOPIC_ARN", "SNS topic ARN notified by the alarms (empty: none)"),
    ("AdminSecretName", "AGNUS_ADMIN_SECRET_NAME",
     "Secrets Manager secret with the system admin's {email, password} (empty: none)"),
    ("AccessAllowedOwnerEmails", "AGNUS_ACCESS_ALLOWED_OWNER_EMAILS",
     "Emails allowed to create organizations (comma list; empty: anyone)"),
]


def template_parameters(template=TEMPLATE):
    """The names under `Parameters:` of the template (a plain scan: no YAML library)."""
    names, inside = [], False
    for line in Path(template).read_text().splitlines():
        if line.startswith("Parameters:"):
            inside = True
            continue
        if inside:
            if line and not line.startswith((" ", "#")):
                break
            m = re.match(r"^  ([A-Za-z0-9]+):\s*$", line)
            if m:
                names.append(m.group(1))
    return names


def ask(question, default, interactive):
    if not interactive:
        return default
    shown = f" [{default}]" if default else ""
    answer = input(f"{question}{shown}: ").strip()
    return answer or default


def toml_string(value):
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def render(stack, region, overrides):
    """samconfig.toml for `sam build` / `sam deploy` / `sam delete`."""
    pairs = " ".join(f"{k}={json.dumps(v)}" for k, v in overrides.items())
    return "\n".join([
        "# Written by `make deploy` (scripts/deploy.py configure); edit freely, or delete it",
        "# to be asked again. Secrets never go here: only the names of Secrets Manager secrets.",
        "version = 0.1",
        "",
        "[default.global.parameters]",
        f"stack_name = {toml_string(stack)}",
        f"region = {toml_string(region)}",
        "",
        "[default.build.parameters]",
        'template_file = "infra/template.yaml"',
        "beta_features = true",
        "cached = true",
        "",
        "[default.deploy.parameters]",
        'capabilities = "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND"',
        "resolve_s3 = true",
        f"s3_prefix = {toml_string(stack)}",
        "confirm_changeset = false",
        "fail_on_empty_changeset = false",
        f"parameter_overrides = {toml_string(pairs)}",
        "",
        "[default.delete.parameters]",
        "no_prompts = true",
        "",
    ])


def configure(args):
    interactive = not args.non_interactive and sys.stdin.isatty()
    env = os.environ
    stack = ask("Stack name (also the resource prefix)", env.get("AGNUS_STACK_NAME", "agnus"), interactive)
    if not STACK_PATTERN.match(stack):
        sys.exit(f"deploy: stack name {stack!r} must match {STACK_PATTERN.pattern}")
    region = ask("AWS region", env.get("AGNUS_DEPLOY_REGION") or env.get("AWS_REGION") or "us-east-1",
                 interactive)
    if not re.match(r"^[a-z]{2}(-[a-z]+)+-\d$", region):
        sys.exit(f"deploy: {region!r} is not an AWS region name")
    declared = set(template_parameters(args.template))
    overrides = {"Prefix": stack, "JwtSecretName": f"{stack}/jwt-secret"}
    for parameter, variable, question in QUESTIONS:
        if parameter not in declared:
            continue
        value = ask(question, env.get(variable, ""), interactive)
        if value:
            overrides[parameter] = value
    unknown = sorted(set(overrides) - declared)
    if unknown:
        sys.exit(f"deploy: the template has no parameter(s) {', '.join(unknown)}")
    Path(args.out).write_text(render(stack, region, overrides))
    print(f"deploy: wrote {args.out} (stack {stack}, region {region})", file=sys.stderr)


def settings(args):
    config = tomllib.loads(Path(args.config).read_text())
    g = config["default"]["global"]["parameters"]
    print(g["stack_name"], g["region"])


def boto(service, region):
    import boto3  # from .venv-sam (a dependency of the SAM CLI)

    return boto3.client(service, region_name=region)


def ensure_jwt(args):
    import base64
    import secrets

    sm = boto("secretsmanager", args.region)
    try:
        sm.describe_secret(SecretId=args.name)
        print(f"deploy: secret {args.name} exists", file=sys.stderr)
    except sm.exceptions.ResourceNotFoundException:
        value = base64.urlsafe_b64encode(secrets.token_bytes(48)).decode().rstrip("=")
        sm.create_secret(Name=args.name, SecretString=value,
                         Description="AgnusAI session signing key (HS256, 48 random bytes)")
        print(f"deploy: created secret {args.name}", file=sys.stderr)


def stack_outputs(cf, name):
    stacks = cf.describe_stacks(StackName=name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def outputs(args):
    for key, value in sorted(stack_outputs(boto("cloudformation", args.region), args.stack).items()):
        print(f"{key:20} {value}")


def retained(args):
    cf = boto("cloudformation", args.region)
    nested = cf.describe_stack_resource(StackName=args.stack, LogicalResourceId="Stateful")
    inner = stack_outputs(cf, nested["StackResourceDetail"]["PhysicalResourceId"])
    print(json.dumps({
        "table": inner.get("TableName"),
        "bucket": inner.get("BucketName"),
        "keyArn": inner.get("KeyArn"),
        "keyAlias": inner.get("KeyAlias"),
        "jwtSecret": f"{args.stack}/jwt-secret",
    }))


def delete_data(args):
    kept = json.loads(Path(args.retained).read_text())
    region = args.region
    if kept.get("bucket"):
        s3 = boto("s3", region)
        try:
            paginator = s3.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=kept["bucket"]):
                objects = [{"Key": o["Key"], "VersionId": o["VersionId"]}
                           for o in page.get("Versions", []) + page.get("DeleteMarkers", [])]
                if objects:
                    s3.delete_objects(Bucket=kept["bucket"], Delete={"Objects": objects, "Quiet": True})
            s3.delete_bucket(Bucket=kept["bucket"])
            print(f"destroy: deleted bucket {kept['bucket']}", file=sys.stderr)
        except s3.exceptions.NoSuchBucket:
            pass
    if kept.get("table"):
        ddb = boto("dynamodb", region)
        try:
            ddb.update_table(TableName=kept["table"], DeletionProtectionEnabled=False)
            ddb.get_waiter("table_exists").wait(TableName=kept["table"])
            ddb.delete_table(TableName=kept["table"])
            print(f"destroy: deleted table {kept['table']}", file=sys.stderr)
        except ddb.exceptions.ResourceNotFoundException:
            pass
    if kept.get("keyArn"):
        kms = boto("kms", region)
        if kept.get("keyAlias"):
            try:
                kms.delete_alias(AliasName=kept["keyAlias"])
            except kms.exceptions.NotFoundException:
                pass
        kms.schedule_key_deletion(KeyId=kept["keyArn"], PendingWindowInDays=7)
        print(f"destroy: KMS key {kept['keyArn']} scheduled for deletion in 7 days", file=sys.stderr)
    if kept.get("jwtSecret"):
        sm = boto("secretsmanager", region)
        try:
            sm.delete_secret(SecretId=kept["jwtSecret"], RecoveryWindowInDays=7)
            print(f"destroy: secret {kept['jwtSecret']} scheduled for deletion in 7 days", file=sys.stderr)
        except sm.exceptions.ResourceNotFoundException:
            pass


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("configure")
    c.add_argument("--out", default=str(ROOT / "samconfig.toml"))
    c.add_argument("--template", default=str(TEMPLATE))
    c.add_argument("--non-interactive", action="store_true", help="answers from the environment only")
    c.set_defaults(run=configure)
    s = sub.add_parser("settings")
    s.add_argument("--config", default=str(ROOT / "samconfig.toml"))
    s.set_defaults(run=settings)
    for name, fn in (("outputs", outputs), ("retained", retained)):
        x = sub.add_parser(name)
        x.add_argument("--stack", required=True)
        x.add_argument("--region", required=True)
        x.set_defaults(run=fn)
    j = sub.add_parser("ensure-jwt")
    j.add_argument("--name", required=True)
    j.add_argument("--region", required=True)
    j.set_defaults(run=ensure_jwt)
    d = sub.add_parser("delete-data")
    d.add_argument("--retained", required=True)
    d.add_argument("--region", required=True)
    d.set_defaults(run=delete_data)
    args = p.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
