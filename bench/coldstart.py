"""Cold start of the function bootstraps under a minimal Lambda Runtime API emulator.

For each binary: start it with AWS_LAMBDA_RUNTIME_API pointing here, hand it one event on
each of its first `--invocations` /invocation/next calls, and time process start -> its
response to the first event (config read, SDK clients built, first invocation handled),
plus each invocation's own time (event handed over -> response), so the first invocation
can be compared with the second. Also records the init alone (process start -> its first
/invocation/next), the CPU time the process used (all its threads, by the end of the last
invocation: work, apart from waiting on the emulator), the process's peak RSS and the
binary's size. Runs each binary `--runs` times and prints JSON lines (median). A run whose process
dies or never answers is reported on stderr with its exit status and the tail of its log,
counted in `failures`, and makes the script exit 1 after all runs.

`--bin intake-accepted=<intake>` (with `--bin auth=<auth>`) measures the intake on the path
that enqueues: each invocation a signed GitHub delivery for another org (so each one looks
its org up, opens its secret with KMS, claims the delivery in the ledger and sends to SQS,
as a first delivery does); the orgs are signed up beforehand through the auth bootstrap.

The functions get the environment Lambda gives them, not the caller's shell: the Lambda
service's variables, `--env-file`, and `SSL_CERT_FILE` naming this host's one bundle of
root certificates, as `infra/template.yaml` names Amazon Linux 2023's (no `SSL_CERT_DIR`,
which a developer's shell may set). `--shell-env` starts from the caller's environment
instead, to compare.

Usage: coldstart.py --bin intake=target/bench/intake --bin auth=... [--runs 10]
                    [--invocations 2] [--env-file F] [--shell-env]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

EVENTS = {
    # A delivery for an org that does not exist: one DynamoDB lookup, then 401 (each
    # invocation names another org, so each one makes its lookup: see `event_for`).
    "intake": {
        "version": "2.0", "routeKey": "POST /api/webhooks/{provider}/{orgSlug}",
        "rawPath": "/api/webhooks/github/no-such-org", "rawQueryString": "",
        "headers": {"content-type": "application/json", "x-github-event": "pull_request",
                    "x-hub-signature-256": "sha256=" + "0" * 64},
        "requestContext": {"accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d",
                           "http": {"method": "POST", "path": "/api/webhooks/github/no-such-org",
                                    "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "bench"},
                           "requestId": "r", "routeKey": "$default", "stage": "$default",
                           "time": "23/Nov/2026:00:00:00 +0000", "timeEpoch": 0},
        "body": "{\"action\":\"opened\"}", "isBase64Encoded": False,
    },
    # Who am I, with a well-formed API key that does not exist: one DynamoDB lookup, then 401
    # (the key is set per invocation: see `event_for`).
    "auth": {
        "version": "2.0", "routeKey": "GET /api/auth/me", "rawPath": "/api/auth/me", "rawQueryString": "",
        "headers": {}, "requestContext": {"accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d",
                                          "http": {"method": "GET", "path": "/api/auth/me", "protocol": "HTTP/1.1",
                                                   "sourceIp": "192.0.2.1", "userAgent": "bench"},
                                          "requestId": "r", "routeKey": "$default", "stage": "$default",
                                          "time": "23/Nov/2026:00:00:00 +0000", "timeEpoch": 0},
        "isBase64Encoded": False,
    },
    # A console page: the embedded HTML shell (no AWS call, no configuration).
    "console": None,  # set below: http_get_event("/orgs/acme/members")
    # One SQS record without attributes: reported as a batch item failure (no AWS call).
    "worker": {"Records": [{"messageId": "m1", "receiptHandle": "h", "body": "{}", "attributes": {},
                            "messageAttributes": {}, "eventSource": "aws:sqs",
                            "eventSourceARN": "arn:aws:sqs:us-east-1:1:q", "awsRegion": "us-east-1"}]},
}


def http_get_event(path: str) -> dict:
    """An API Gateway HTTP API (v2) event for `GET path`."""
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "", "headers": {},
        "requestContext": {"accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d",
                           "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                                    "sourceIp": "192.0.2.1", "userAgent": "bench"},
                           "requestId": "r", "routeKey": "$default", "stage": "$default",
                           "time": "23/Nov/2026:00:00:00 +0000", "timeEpoch": 0},
        "isBase64Encoded": False,
    }


EVENTS["console"] = http_get_event("/orgs/acme/members")
# The other HTTP functions, each with a request that costs one DynamoDB lookup and is then
# refused: orgs and repos with a well-formed API key no org has (401), invites the preview
# of an invitation token that does not exist (404). Key and token change per invocation.
EVENTS["orgs"] = http_get_event("/api/orgs/me")
EVENTS["repos"] = http_get_event("/api/repos")
EVENTS["invites"] = http_get_event("/api/invites/no-such-invite")
# The review engine: one SQS record whose body is no job (a batch item failure, no AWS call).
EVENTS["reviewer"] = EVENTS["worker"]
# The nightly purge (EventBridge schedule): one pass over the org registry (DynamoDB).
EVENTS["purge"] = {"version": "0", "id": "e", "detail-type": "Scheduled Event", "source": "aws.events",
                   "account": "1", "time": "2026-11-24T00:00:00Z", "region": "us-east-1",
                   "resources": [], "detail": {}}


def api_key(seed: str) -> str:
    """A well-formed API key (prefix, 32 characters, checksum) that no org has."""
    body = "agn_" + hashlib.sha256(seed.encode()).hexdigest()[:32]
    return body + hashlib.sha256(body.encode()).hexdigest()[:8]


def event_for(name: str, invocation: int) -> dict:
    """The event of the `invocation`-th call (0-based): the same request, but one that
    cannot be answered from the previous call's warm cache."""
    event = json.loads(json.dumps(EVENTS[name]))
    if name == "intake":
        path = f"/api/webhooks/github/no-such-org-{invocation}"
        event["rawPath"] = path
        event["requestContext"]["http"]["path"] = path
    elif name in ("auth", "orgs", "repos"):
        event["headers"] = {"authorization": f"Bearer {api_key(f'bench-{invocation}')}"}
    elif name == "invites":
        path = f"/api/invites/no-such-invite-{invocation}"
        event["rawPath"] = path
        event["requestContext"]["http"]["path"] = path
    return event


def signup_event(n: int) -> dict:
    """`POST /api/auth/signup` of a fresh account and org (each from its own address)."""
    tag = uuid.uuid4().hex[:12]
    body = json.dumps({"email": f"bench-{tag}@example.com", "password": "bench password " + tag,
                       "orgName": f"Bench {tag}", "orgSlug": f"bench-{tag}"})
    event = http_get_event("/api/auth/signup")
    event["routeKey"] = "POST /api/auth/signup"
    event["requestContext"]["http"]["method"] = "POST"
    event["requestContext"]["http"]["sourceIp"] = f"198.51.100.{n % 250 + 1}"
    event["headers"] = {"content-type": "application/json"}
    event["body"] = body
    return event


def sign_up_orgs(auth_path: str, count: int, env: dict) -> list[tuple[str, str]]:
    """(slug, GitHub webhook secret) of `count` new orgs, signed up through the auth
    bootstrap itself (the secret is shown in full only in the signup answer)."""
    run_once(auth_path, [signup_event(n) for n in range(count)], dict(env, AGNUS_SIGNUP_RATE_LIMIT_PER_IP="0"))
    orgs = []
    for raw in Runtime.responses:
        answer = json.loads(raw)
        body = json.loads(answer["body"])
        if answer.get("statusCode") != 201:
            raise SystemExit(f"coldstart: signup refused: {answer.get('statusCode')} {body}")
        github = next(w for w in body["webhooks"] if w["provider"] == "github")
        orgs.append((body["org"]["slug"], github["secret"]))
    return orgs


def accepted_delivery(slug: str, secret: str) -> dict:
    """A GitHub `pull_request` delivery for `slug`, signed with its secret (a new delivery id)."""
    body = json.dumps({"action": "opened", "number": 1, "pull_request": {"title": "bench", "head": {"sha": "0" * 40}}})
    path = f"/api/webhooks/github/{slug}"
    event = json.loads(json.dumps(EVENTS["intake"]))
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    event["headers"] = {"content-type": "application/json", "x-github-event": "pull_request",
                        "x-github-delivery": str(uuid.uuid4()),
                        "x-hub-signature-256": "sha256=" + hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()}
    event["body"] = body
    return event


def accepted(raw: bytes) -> bool:
    return json.loads(raw).get("statusCode") == 202


class Runtime(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 with keep-alive and Content-Length, as Lambda's Runtime API speaks it. (The
    # HTTP/1.0 default closes the connection after every answer; the runtime's pooled
    # client then sometimes sends its next request on a connection being closed, gets
    # `IncompleteMessage` and the bootstrap exits: a failure of the probe, not of the code.)
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes
    events: list[bytes] = []

    served_at: list[float] = []
    done_at: list[float] = []
    responses: list[bytes] = []
    errors = 0
    done = threading.Event()

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # /2018-06-01/runtime/invocation/next
        i = len(Runtime.served_at)
        if i >= len(Runtime.events):
            time.sleep(5)  # the process is killed meanwhile
            return
        Runtime.served_at.append(time.perf_counter())
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", f"req-{i + 1}")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:1:function:bench")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(Runtime.events[i])))
        self.end_headers()
        self.wfile.write(Runtime.events[i])

    def do_POST(self):  # .../response, .../error or /runtime/init/error
        length = int(self.headers.get("Content-Length", 0))
        Runtime.responses.append(self.rfile.read(length))
        Runtime.done_at.append(time.perf_counter())
        if self.path.endswith("/error"):
            Runtime.errors += 1
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if len(Runtime.done_at) >= len(Runtime.events) or "/init/" in self.path:
            Runtime.done.set()


class NoResponse(Exception):
    pass


def run_once(path: str, events: list[dict], env: dict) -> tuple[float, list[float], int, float, float]:
    """(process start -> first response in ms, each invocation's own ms, peak RSS KiB,
    process start -> its first /invocation/next in ms (the init alone), CPU ms of the
    process's live threads by the end of the last invocation)."""
    Runtime.events = [json.dumps(e).encode() for e in events]
    Runtime.served_at, Runtime.done_at, Runtime.responses, Runtime.errors = [], [], [], 0
    Runtime.done.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    child_env = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}")
    log = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen([path], env=child_env, stdout=log, stderr=subprocess.STDOUT)
    ok = Runtime.done.wait(20)
    peak_kib, cpu_ns = 0, 0
    try:
        for line in open(f"/proc/{proc.pid}/status"):
            if line.startswith("VmHWM:"):
                peak_kib = int(line.split()[1])
        # CPU time of every live thread (schedstat: ns on a CPU), apart from waiting time.
        for task in os.listdir(f"/proc/{proc.pid}/task"):
            cpu_ns += int(open(f"/proc/{proc.pid}/task/{task}/schedstat").read().split()[0])
    except OSError:
        pass
    status = proc.poll()  # None: still running, as a Lambda function should be
    proc.kill()
    proc.wait()
    server.shutdown()
    if not ok or len(Runtime.done_at) < len(events) or Runtime.errors:
        log.seek(0)
        tail = log.read().decode(errors="replace")[-2000:]
        raise NoResponse(f"{path}: {len(Runtime.done_at)} of {len(events)} invocations answered "
                         f"({Runtime.errors} errors); exit status {status}; log tail:\n{tail}")
    own = [(d - s) * 1000 for s, d in zip(Runtime.served_at, Runtime.done_at)]
    return (Runtime.done_at[0] - start) * 1000, own, peak_kib, (Runtime.served_at[0] - start) * 1000, cpu_ns / 1e6


# Where distributions keep their one bundle of root certificates (the order of the
# openssl-probe crate, which the functions' HTTPS client uses when SSL_CERT_FILE is unset).
CERT_BUNDLES = [
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # Amazon Linux 2023, Fedora, RHEL
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/ssl/cert.pem",  # Alpine
]


def lambda_environment() -> dict[str, str]:
    """What a function sees in Lambda before its own variables: no HOME, no shell settings."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "en_US.UTF-8", "TZ": ":UTC"}
    bundle = next((b for b in CERT_BUNDLES if os.path.isfile(b)), None)
    if bundle is None:
        raise SystemExit(f"coldstart: no root-certificate bundle in {CERT_BUNDLES}")
    env["SSL_CERT_FILE"] = bundle
    return env


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--bin", action="append", required=True, help="name=path")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--invocations", type=int, default=2, help="events per process (first, second, ...)")
    p.add_argument("--env-file")
    p.add_argument("--shell-env", action="store_true", help="start from the caller's environment")
    args = p.parse_args()
    env = dict(os.environ) if args.shell_env else lambda_environment()
    if args.env_file:
        for line in open(args.env_file):
            if "=" in line:
                k, v = line.strip().split("=", 1)
                env[k] = v
    env.setdefault("AGNUS_JWT_SECRET", "bench-key-0123456789abcdef0123456789abcdef")
    env.setdefault("AGNUS_KMS_KEY_ID", "alias/agnus-local")
    env["RUST_LOG"] = "warn"
    # What the Lambda service sets for every function.
    env.update({"AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
                "AWS_LAMBDA_LOG_STREAM_NAME": "bench"})
    failed = 0
    bins = dict(spec.split("=", 1) for spec in args.bin)
    for name, path in bins.items():
        orgs = []
        if name == "intake-accepted":
            if "auth" not in bins:
                raise SystemExit("coldstart: intake-accepted needs --bin auth=<auth> to sign its orgs up")
            orgs = sign_up_orgs(bins["auth"], args.runs * args.invocations, env)
        times, rss, own, inits, cpus, failures = [], [], [], [], [], 0
        for run in range(args.runs):
            if orgs:
                events = [accepted_delivery(*orgs[run * args.invocations + i]) for i in range(args.invocations)]
            else:
                events = [event_for(name, i) for i in range(args.invocations)]
            try:
                ms, each, kib, init, cpu = run_once(path, events, env)
                if orgs and not all(accepted(r) for r in Runtime.responses):
                    raise NoResponse(f"{path}: a delivery was not accepted: {Runtime.responses[:1]}")
            except NoResponse as e:
                print(f"coldstart: {e}", file=sys.stderr)
                failures += 1
                continue
            times.append(ms)
            own.append(each)
            rss.append(kib)
            inits.append(init)
            cpus.append(cpu)
        failed += failures
        if not times:
            print(json.dumps({"kind": "cold_start", "function": name, "failures": failures}))
            continue
        line = {"kind": "cold_start", "function": name, "median_ms": round(statistics.median(times), 2),
                "min_ms": round(min(times), 2), "max_ms": round(max(times), 2),
                "init_median_ms": round(statistics.median(inits), 2),
                "cpu_median_ms": round(statistics.median(cpus), 2),
                "peak_rss_kib": max(rss), "binary_bytes": os.path.getsize(path), "runs": len(times),
                "failures": failures}
        for i in range(args.invocations):
            line[f"invocation_{i + 1}_median_ms"] = round(statistics.median(o[i] for o in own), 2)
        print(json.dumps(line))
    if failed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
