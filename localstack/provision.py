"""Provision the AgnusAI stateful resources on the local emulator.

The resources come from infra/stateful.yaml -- the same template the cloud stack nests --
deployed through the emulator's CloudFormation API, so local and cloud cannot drift.
Idempotent: an existing, complete stack is reused (and updated when the template changed).

Usage: provision.py [--prefix agnus-local] [--endpoint http://127.0.0.1:4566] [--env-out FILE]
                    [--mail-from noreply@agnus.local]
Prints the stack outputs as JSON; --env-out writes them as KEY=VALUE lines for the functions.

The mail sender identity (AGNUS_MAIL_FROM) is created and verified in the emulator's SES
here: moto's CloudFormation has no AWS::SES::EmailIdentity (the cloud template declares it),
and its SES refuses to send from an unverified identity, as SES does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import sys
import time

import boto3
import yaml
from botocore.exceptions import ClientError

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "stateful.yaml"

# Stack output -> environment variable the functions read (shared/src/config.rs).
ENV_FROM_OUTPUT = {
    "TableName": "AGNUS_TABLE_NAME",
    "QueueUrl": "AGNUS_REVIEW_QUEUE_URL",
    "DeadLetterQueueUrl": "AGNUS_REVIEW_DLQ_URL",
    "ReviewJobsQueueUrl": "AGNUS_REVIEW_JOBS_QUEUE_URL",
    "ReviewJobsDeadLetterQueueUrl": "AGNUS_REVIEW_JOBS_DLQ_URL",
    "IndexJobsQueueUrl": "AGNUS_INDEX_JOBS_QUEUE_URL",
    "IndexJobsDeadLetterQueueUrl": "AGNUS_INDEX_JOBS_DLQ_URL",
    "IndexBucketName": "AGNUS_INDEX_BUCKET",
    "KeyArn": "AGNUS_KMS_KEY_ID",
    "BucketName": "AGNUS_PAYLOAD_BUCKET",
}


def wait(cfn, name: str) -> dict:
    for _ in range(300):
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return stack
        if status.endswith("_FAILED") or "ROLLBACK" in status:
            events = cfn.describe_stack_events(StackName=name)["StackEvents"]
            reasons = [e.get("ResourceStatusReason", "") for e in events if "FAILED" in e["ResourceStatus"]]
            raise SystemExit(f"provision: stack {name} ended in {status}: {reasons[:5]}")
        time.sleep(0.2)
    raise SystemExit(f"provision: stack {name} did not finish in time")


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that tolerates CloudFormation short-form tags (!Ref, !Sub ...)."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: {f"Fn::{suffix}": None})


def reconcile(session, endpoint: str, cfn, name: str, body: str) -> None:
    """Apply template properties some emulators accept but ignore (moto: DynamoDB TTL).

    Reads them from the same template, so the definition stays single."""
    template = yaml.load(body, Loader=_CfnLoader)
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=name)["StackResources"]
    }
    ddb = session.client("dynamodb", endpoint_url=endpoint)
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        ttl = resource["Properties"].get("TimeToLiveSpecification")
        if not ttl or not ttl.get("Enabled"):
            continue
        table = physical[logical]
        status = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if status.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            ddb.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )


def recreate(session, endpoint: str, cfn, name: str, prefix: str) -> None:
    """Deletes the local stack and anything it left behind (Retain policies)."""
    cfn.delete_stack(StackName=name)
    for _ in range(150):
        try:
            status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        except ClientError:
            break
        if status == "DELETE_COMPLETE":
            break
        time.sleep(0.2)
    ddb = session.client("dynamodb", endpoint_url=endpoint)
    for table in ddb.list_tables()["TableNames"]:
        if table.startswith(f"{prefix}-"):
            ddb.delete_table(TableName=table)
    sqs = session.client("sqs", endpoint_url=endpoint)
    for url in sqs.list_queues(QueueNamePrefix=f"{prefix}-").get("QueueUrls", []):
        sqs.delete_queue(QueueUrl=url)
    s3 = session.client("s3", endpoint_url=endpoint)
    for bucket in s3.list_buckets().get("Buckets", []):
        if bucket["Name"].startswith(f"{prefix}-"):
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket["Name"]):
                for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                    s3.delete_object(Bucket=bucket["Name"], Key=v["Key"], VersionId=v["VersionId"])
            s3.delete_bucket(Bucket=bucket["Name"])
    kms = session.client("kms", endpoint_url=endpoint)
    for alias in kms.list_aliases().get("Aliases", []):
        if alias["AliasName"] == f"alias/{prefix}":
            kms.delete_alias(AliasName=alias["AliasName"])


def ensure_mail_identity(session, endpoint: str, address: str) -> None:
    """The emulator's SES sends only from verified identities; moto verifies on creation."""
    ses = session.client("sesv2", endpoint_url=endpoint)
    try:
        ses.get_email_identity(EmailIdentity=address)
    except ClientError:
        ses.create_email_identity(EmailIdentity=address)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default=os.environ.get("AGNUS_PREFIX", "agnus-local"))
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"))
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    parser.add_argument("--env-out")
    parser.add_argument("--mail-from", default=os.environ.get("AGNUS_MAIL_FROM", "noreply@agnus.local"))
    args = parser.parse_args()

    body = TEMPLATE.read_text()
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    session = boto3.session.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        region_name=args.region,
    )
    cfn = session.client("cloudformation", endpoint_url=args.endpoint)
    name = f"{args.prefix}-stateful"
    params = [{"ParameterKey": "Prefix", "ParameterValue": args.prefix}]
    tags = [{"Key": "agnus:template-sha256", "Value": digest}]

    try:
        existing = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError:
        existing = None

    if existing is None:
        print(f"provision: creating stack {name} from {TEMPLATE.relative_to(ROOT)}", file=sys.stderr)
        cfn.create_stack(StackName=name, TemplateBody=body, Parameters=params, Tags=tags)
        stack = wait(cfn, name)
    else:
        current = {t["Key"]: t["Value"] for t in existing.get("Tags", [])}
        if current.get("agnus:template-sha256") == digest and existing["StackStatus"].endswith("_COMPLETE"):
            print(f"provision: stack {name} is up to date", file=sys.stderr)
            stack = existing
        else:
            # The emulator's stack updates are unreliable, so a changed template means a
            # fresh set of local resources (local data is reset; the cloud stack updates
            # in place).
            print(f"provision: {TEMPLATE.name} changed; recreating local stack {name} (local data reset)", file=sys.stderr)
            recreate(session, args.endpoint, cfn, name, args.prefix)
            cfn.create_stack(StackName=name, TemplateBody=body, Parameters=params, Tags=tags)
            stack = wait(cfn, name)

    reconcile(session, args.endpoint, cfn, name, body)
    ensure_mail_identity(session, args.endpoint, args.mail_from)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    print(json.dumps(outputs, indent=2, sort_keys=True))
    if args.env_out:
        lines = [f"{env}={outputs[key]}" for key, env in ENV_FROM_OUTPUT.items() if key in outputs]
        lines.append(f"AGNUS_MAIL_FROM={args.mail_from}")
        pathlib.Path(args.env_out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
