"""Cold start of the function bootstraps under a minimal Lambda Runtime API emulator.

For each binary: start it with AWS_LAMBDA_RUNTIME_API pointing here, hand it one event on
its first /invocation/next, and time process start -> its response to that event (config
read, SDK clients built, first invocation handled). Also records the process's peak RSS
and the binary's size. Runs each binary `--runs` times and prints JSON lines (median).

Usage: coldstart.py --bin intake=target/bench/intake --bin auth=... [--runs 10] [--env-file F]
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
import time

EVENTS = {
    # A delivery for an org that does not exist: one DynamoDB lookup, then 401.
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
    # Who am I, without a session: 401 (no AWS call).
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


class Runtime(http.server.BaseHTTPRequestHandler):
    event: bytes = b"{}"
    served = False
    done_at: float | None = None
    done = threading.Event()

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # /2018-06-01/runtime/invocation/next
        if Runtime.served:
            time.sleep(5)  # the process is killed meanwhile
            return
        Runtime.served = True
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", "req-1")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:1:function:bench")
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(Runtime.event)

    def do_POST(self):  # .../response or .../error
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        Runtime.done_at = time.perf_counter()
        self.send_response(202)
        self.end_headers()
        Runtime.done.set()


def run_once(path: str, event: dict, env: dict) -> tuple[float, int]:
    Runtime.event = json.dumps(event).encode()
    Runtime.served = False
    Runtime.done_at = None
    Runtime.done.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    child_env = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}")
    start = time.perf_counter()
    proc = subprocess.Popen([path], env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = Runtime.done.wait(20)
    peak_kib = 0
    try:
        for line in open(f"/proc/{proc.pid}/status"):
            if line.startswith("VmHWM:"):
                peak_kib = int(line.split()[1])
    except OSError:
        pass
    proc.kill()
    proc.wait()
    server.shutdown()
    if not ok or Runtime.done_at is None:
        raise SystemExit(f"{path}: no response to the first invocation")
    return (Runtime.done_at - start) * 1000, peak_kib


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--bin", action="append", required=True, help="name=path")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--env-file")
    args = p.parse_args()
    env = dict(os.environ)
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
    for spec in args.bin:
        name, path = spec.split("=", 1)
        times, rss = [], []
        for _ in range(args.runs):
            ms, kib = run_once(path, EVENTS[name], env)
            times.append(ms)
            rss.append(kib)
        print(json.dumps({"kind": "cold_start", "function": name, "median_ms": round(statistics.median(times), 2),
                          "min_ms": round(min(times), 2), "max_ms": round(max(times), 2),
                          "peak_rss_kib": max(rss), "binary_bytes": os.path.getsize(path)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
