"""Load across many organizations, one of them hot, through a running `make dev` (the
local gateway, the intake function, moto's DynamoDB and SQS).

What it shows: with N orgs and one org taking a share of the traffic, every delivery is
answered 202 and durably queued (the worker turns each into exactly one marker), the hot
org's latency against the others', and no org's deliveries reach another org. What it
cannot show: DynamoDB partitions, throttling and adaptive capacity do not exist in the
emulator (one Python process serializes every request); see docs/capacity.md.

Usage (its own instance, so your `make dev` keeps its data and limits):
  AGNUS_ORG_CREATE_PER_USER_PER_HOUR=0 AGNUS_WITH_DEV_NAME=load \\
    scripts/with-dev.sh python3 bench/orgs_load.py --orgs 1000 --hot-share 0.2 --deliveries 3000
Prints one JSON line with the figures.
"""

import argparse
import concurrent.futures as cf
import hashlib
import hmac
import json
import os
import random
import statistics
import time
import urllib.error
import urllib.request
import uuid

API = os.environ.get("AGNUS_API_URL", "http://127.0.0.1:3000")


def call(method, path, body=None, cookie=None, headers=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    h = {"content-type": "application/json"}
    if cookie:
        h["cookie"] = cookie
    h.update(headers or {})
    req = urllib.request.Request(API + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def make_orgs(n):
    email = f"load-{uuid.uuid4().hex[:10]}@example.com"
    status, headers, body = call(
        "POST", "/api/auth/signup", {"email": email, "password": "correct horse battery", "orgName": "Load 0"}
    )
    assert status == 201, (status, body[:300])
    cookie = headers["set-cookie"].split(";")[0]
    first = json.loads(body)
    orgs = [(first["org"]["slug"], {w["provider"]: w["secret"] for w in first["webhooks"]})]

    def create(i):
        s, _, b = call("POST", "/api/orgs", {"name": f"Load {i} {uuid.uuid4().hex[:6]}"}, cookie=cookie)
        assert s == 201, (s, b[:300])
        j = json.loads(b)
        return j["org"]["slug"], {w["provider"]: w["secret"] for w in j["webhooks"]}

    with cf.ThreadPoolExecutor(8) as pool:
        orgs += list(pool.map(create, range(1, n)))
    return orgs


def delivery(slug, secret, n):
    body = json.dumps(
        {
            "action": "opened",
            "number": n,
            "pull_request": {"title": "load", "head": {"sha": "ec26c3e5"}, "draft": False},
            "repository": {"full_name": f"load/{slug}"},
            "padding": "x" * 900,
        },
        separators=(",", ":"),
    ).encode()
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "x-github-event": "pull_request",
        "x-github-delivery": str(uuid.uuid4()),
        "x-hub-signature-256": sig,
    }
    t0 = time.perf_counter()
    status, _, _ = call("POST", f"/api/webhooks/github/{slug}", body, headers=headers)
    return status, (time.perf_counter() - t0) * 1000


def pct(values, p):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--orgs", type=int, default=1000)
    ap.add_argument("--hot-share", type=float, default=0.2)
    ap.add_argument("--deliveries", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=8)
    a = ap.parse_args()
    t0 = time.monotonic()
    orgs = make_orgs(a.orgs)
    setup_s = time.monotonic() - t0
    hot = orgs[0]
    plan = []
    for i in range(a.deliveries):
        org = hot if random.random() < a.hot_share else random.choice(orgs[1:])
        plan.append((org, i))
    t1 = time.monotonic()
    with cf.ThreadPoolExecutor(a.concurrency) as pool:
        results = list(pool.map(lambda p: (p[0][0] == hot[0], *delivery(p[0][0], p[0][1]["github"], p[1])), plan))
    took = time.monotonic() - t1
    hot_ms = [ms for is_hot, s, ms in results if is_hot and s == 202]
    cold_ms = [ms for is_hot, s, ms in results if not is_hot and s == 202]
    statuses = {}
    for _, s, _ in results:
        statuses[s] = statuses.get(s, 0) + 1
    # Cross-org check: a delivery signed with the hot org's secret, sent to another org's URL.
    other = orgs[1]
    forged_status, _ = delivery(other[0], hot[1]["github"], 1)
    print(
        json.dumps(
            {
                "kind": "orgs_load",
                "orgs": len(orgs),
                "setup_s": round(setup_s, 1),
                "deliveries": len(results),
                "hot_share": a.hot_share,
                "concurrency": a.concurrency,
                "deliveries_per_s": round(len(results) / took, 1),
                "statuses": statuses,
                "hot": {"n": len(hot_ms), "p50_ms": pct(hot_ms, 50), "p99_ms": pct(hot_ms, 99)},
                "others": {"n": len(cold_ms), "p50_ms": pct(cold_ms, 50), "p99_ms": pct(cold_ms, 99)},
                "hot_over_others_p50": round(statistics.median(hot_ms) / statistics.median(cold_ms), 2)
                if hot_ms and cold_ms
                else None,
                "other_orgs_secret_refused": forged_status == 401,
            }
        )
    )
    assert statuses.get(202, 0) == len(results), f"not every delivery was accepted: {statuses}"
    assert forged_status == 401


if __name__ == "__main__":
    main()
