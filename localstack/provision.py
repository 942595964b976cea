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

Works against both local emulators (localstack/start.sh, AGNUS_EMULATOR=moto|localstack):
the outputs (queue URLs with the emulator's account id, bucket names) always come from the
emulator in use. Properties an emulator's CloudFormation accepts but does not apply are
checked and applied afterwards (reconcile).
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
    """YAML loader for CloudFormation short-form tags: `!Ref X` -> {"Ref": "X"}, `!Sub s`
    -> {"Fn::Sub": s}, ... (the long form CloudFormation itself reads)."""


def _cfn_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def _resolved(value, refs: dict):
    """`value` with each {"Ref": name} that refs knows (parameters, physical ids) replaced."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return refs.get(value["Ref"], value)
        return {k: _resolved(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v, refs) for v in value]
    return value


def _lifecycle_rule(rule: dict) -> dict:
    """An AWS::S3::Bucket LifecycleConfiguration rule as S3's PutBucketLifecycleConfiguration
    takes it."""
    out: dict = {"ID": rule["Id"], "Status": rule["Status"]}
    tags = [{"Key": t["Key"], "Value": t["Value"]} for t in rule.get("TagFilters", [])]
    prefix = rule.get("Prefix")
    if tags and (prefix is not None or len(tags) > 1):
        out["Filter"] = {"And": {"Prefix": prefix or "", "Tags": tags}}
    elif tags:
        out["Filter"] = {"Tag": tags[0]}
    else:
        out["Filter"] = {"Prefix": prefix or ""}
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        out["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
        }
    return out


def reconcile(session, endpoint: str, cfn, name: str, body: str, params: list) -> list[str]:
    """Apply the template properties an emulator's CloudFormation accepts but does not apply,
    after checking what is applied: DynamoDB TTL (moto), point-in-time recovery (LocalStack),
    S3 bucket encryption with the KMS key and lifecycle rules (LocalStack). Read from the same
    template, so the definition stays single. Returns what was applied here."""
    template = yaml.load(body, Loader=_CfnLoader)
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=name)["StackResources"]
    }
    refs = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
    refs.update({p["ParameterKey"]: p["ParameterValue"] for p in params})
    refs.update(physical)
    ddb = session.client("dynamodb", endpoint_url=endpoint)
    s3 = session.client("s3", endpoint_url=endpoint)
    applied = []
    for logical, resource in template["Resources"].items():
        props = _resolved(resource.get("Properties", {}), refs)
        if resource["Type"] == "AWS::DynamoDB::Table":
            table = physical[logical]
            ttl = props.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                status = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
                if status.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                    ddb.update_time_to_live(
                        TableName=table,
                        TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
                    )
                    applied.append(f"{table}: time to live")
            pitr = props.get("PointInTimeRecoverySpecification", {})
            if pitr.get("PointInTimeRecoveryEnabled"):
                backups = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
                status = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
                if status != "ENABLED":
                    ddb.update_continuous_backups(
                        TableName=table,
                        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
                    )
                    applied.append(f"{table}: point-in-time recovery")
        elif resource["Type"] == "AWS::S3::Bucket":
            bucket = physical[logical]
            encryption = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration")
            if encryption:
                want = [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            k: v
                            for k, v in (
                                ("SSEAlgorithm", r["ServerSideEncryptionByDefault"]["SSEAlgorithm"]),
                                ("KMSMasterKeyID", r["ServerSideEncryptionByDefault"].get("KMSMasterKeyID")),
                            )
                            if v
                        },
                        "BucketKeyEnabled": bool(r.get("BucketKeyEnabled", False)),
                    }
                    for r in encryption
                ]
                try:
                    have = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
                except ClientError:
                    have = []
                if [r["ApplyServerSideEncryptionByDefault"].get("SSEAlgorithm") for r in have] != [
                    r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in want
                ]:
                    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": want})
                    applied.append(f"{bucket}: encryption")
            rules = props.get("LifecycleConfiguration", {}).get("Rules")
            if rules:
                want = [_lifecycle_rule(r) for r in rules]
                try:
                    have = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
                except ClientError:
                    have = []
                if sorted(r.get("ID", "") for r in have) != sorted(r["ID"] for r in want):
                    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": want})
                    applied.append(f"{bucket}: lifecycle rules")
    return applied


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

    for what in reconcile(session, args.endpoint, cfn, name, body, params):
        print(f"provision: applied what the emulator's CloudFormation left out: {what}", file=sys.stderr)
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
