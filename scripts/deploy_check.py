#!/usr/bin/env python3
"""Post-deploy smoke test of a running AgnusAI control plane (`make deploy-check URL=…`).

Drives the public API only, as a customer would: signup (user + org + webhook secrets)
-> connect a repository -> a GitHub pull_request delivery signed with the org's secret
-> 202 accepted -> the review job is visible through the API. Then it cleans up (removes
the repository and soft-deletes the org, which the hourly purge erases after the grace
period). Standard library only; exits non-zero with the failing step on any mismatch.

Environment: DEPLOY_CHECK_EMAIL_DOMAIN (default example.com: set it to a domain your
access policy admits), DEPLOY_CHECK_TIMEOUT (seconds to wait for the job, default 60),
DEPLOY_CHECK_REQUEST_TIMEOUT (seconds per request, default 120).

Connecting a repository proves the token can write to it at GitHub, so the pipeline steps
need a real one: DEPLOY_CHECK_GITHUB_REPO (owner/name) and DEPLOY_CHECK_GITHUB_TOKEN (a
token with write access to it; use a scratch repository without a pull request #2: the
delivered event names #2, and its review job then ends `failed: pr_not_found`). Against `make dev`
with the stand-in (AGNUS_STANDIN_URL, set by scripts/smoke.sh) a made-up repository and
token are granted there instead. Without either, those steps are skipped (and said so).
"""

import hashlib
import hmac
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "github" / "pull_request.opened.json"
# Per request: generous, because a cold start (or `make dev` compiling a function on its
# first request) can take a while.
REQUEST_TIMEOUT = float(os.environ.get("DEPLOY_CHECK_REQUEST_TIMEOUT", "120"))


class CheckFailed(Exception):
    pass


class Client:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.cookie = None

    def call(self, method, path, body=None, headers=None, raw=None, anonymous=False):
        url = path if path.startswith("http") else self.base + path
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        h = {"accept": "application/json"}
        if data is not None or method != "GET":
            h["content-type"] = "application/json"
        if self.cookie and not anonymous:
            h["cookie"] = self.cookie
        h.update(headers or {})
        req = urllib.request.Request(url, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT) as r:
                status, text, resp_headers = r.status, r.read().decode(), r.headers
        except urllib.error.HTTPError as e:
            status, text, resp_headers = e.code, e.read().decode(), e.headers
        except urllib.error.URLError as e:
            raise CheckFailed(f"{method} {url}: cannot connect ({e.reason})") from e
        except OSError as e:  # timeouts, resets
            raise CheckFailed(f"{method} {url}: {e!r}") from e
        for value in resp_headers.get_all("set-cookie") or []:
            if value.startswith("agnus_session="):
                self.cookie = value.split(";", 1)[0]
        try:
            payload = json.loads(text) if text else {}
        except json.JSONDecodeError:
            payload = {"raw": text[:200]}
        return status, payload


def repository(tag):
    """The repository to connect and a token that can write to it, or (None, None)."""
    repo, token = os.environ.get("DEPLOY_CHECK_GITHUB_REPO"), os.environ.get("DEPLOY_CHECK_GITHUB_TOKEN")
    if repo and token:
        return repo, token
    standin = os.environ.get("AGNUS_STANDIN_URL")
    if not standin:
        return None, None
    repo, token = f"deploy-check/{tag}", f"ghp_deploy_check_{tag}"
    grant = json.dumps({"repo": repo, "token": token, "permission": "write"}).encode()
    req = urllib.request.Request(f"{standin}/_control/access", data=grant, method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT) as r:
        if r.status != 200:
            raise CheckFailed(f"stand-in grant: {r.status}")
    return repo, token


def expect(step, status, payload, wanted):
    if status not in wanted:
        raise CheckFailed(f"{step}: HTTP {status}, expected {wanted}: {json.dumps(payload)[:300]}")
    print(f"ok   {step} ({status})", flush=True)


def run(base):
    api = Client(base)
    tag = secrets.token_hex(5)
    domain = os.environ.get("DEPLOY_CHECK_EMAIL_DOMAIN", "example.com")
    timeout = float(os.environ.get("DEPLOY_CHECK_TIMEOUT", "60"))

    status, body = api.call("POST", "/api/auth/signup", {
        "email": f"deploy-check-{tag}@{domain}",
        "password": secrets.token_urlsafe(18),
        "orgName": f"Deploy Check {tag}",
    })
    expect("signup creates user, org and webhook secrets", status, body, {201})
    if not api.cookie:
        raise CheckFailed("signup: no agnus_session cookie")
    slug = body["org"]["slug"]
    github = next((w for w in body.get("webhooks", []) if w.get("provider") == "github"), None)
    if not github or not github.get("secret"):
        raise CheckFailed("signup: no GitHub webhook secret in the answer")
    org_header = {"x-org-slug": slug}

    repo_name, token = repository(tag)
    if repo_name is None:
        print("skip connect a repository and deliver a webhook: set DEPLOY_CHECK_GITHUB_REPO and "
              "DEPLOY_CHECK_GITHUB_TOKEN (a token with write access to that repository)", flush=True)
        api.call("DELETE", f"/api/orgs/{slug}")
        return
    status, body = api.call("POST", "/api/repos", {"provider": "github", "fullName": repo_name, "token": token},
                            org_header)
    expect("connect a repository (the token proves write access)", status, body, {200, 201})
    repo_id = body["repo"]["id"]

    try:
        payload = json.loads(FIXTURE.read_text())
        payload["repository"]["full_name"] = repo_name
        raw = json.dumps(payload).encode()
        signature = hmac.new(github["secret"].encode(), raw, hashlib.sha256).hexdigest()
        delivery = f"deploy-check-{tag}"
        status, body = api.call("POST", github["url"], anonymous=True, raw=raw, headers={
            "x-github-event": "pull_request",
            "x-github-delivery": delivery,
            "x-hub-signature-256": f"sha256={signature}",
        })
        expect("signed GitHub delivery accepted", status, body, {202})
        if body.get("status") != "accepted":
            raise CheckFailed(f"delivery: status {body.get('status')!r}, expected 'accepted'")

        deadline = time.monotonic() + timeout
        while True:
            status, body = api.call("GET", f"/api/repos/{repo_id}/reviews?limit=10", headers=org_header)
            jobs = body.get("reviews", []) if status == 200 else []
            job = next((j for j in jobs if j.get("deliveryId") == delivery), None)
            if job:
                print(f"ok   review job visible (status {job.get('status')}, PR #{job.get('prNumber')})", flush=True)
                break
            if time.monotonic() > deadline:
                raise CheckFailed(f"no review job for delivery {delivery} within {timeout:.0f} s (last answer {status})")
            time.sleep(1)
    finally:
        api.call("DELETE", f"/api/repos/{repo_id}", headers=org_header)
        status, _ = api.call("DELETE", f"/api/orgs/{slug}")
        print(f"ok   cleanup: repository removed, org {slug} soft-deleted ({status})", flush=True)


def main(argv):
    if len(argv) != 2 or not argv[1].startswith(("http://", "https://")):
        print("usage: deploy_check.py https://<api-id>.execute-api.<region>.amazonaws.com", file=sys.stderr)
        return 2
    try:
        run(argv[1])
    except CheckFailed as e:
        print(f"FAIL {e}", file=sys.stderr)
        return 1
    print("deploy-check: all steps passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
