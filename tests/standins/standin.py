#!/usr/bin/env python3
"""Local stand-ins for the review engine's outside world (Python stdlib only).

One HTTP server plays:
  * the GitHub REST API (github.com or GHES `/api/v3`), serving the response shapes of
    tests/fixtures/github/*.rest.json (see tests/fixtures/README.md):
      GET  /repos/{owner}/{repo}/pulls/{n}
      GET  /repos/{owner}/{repo}/pulls/{n}/files?per_page&page
      GET  /repos/{owner}/{repo}/pulls/{n}/reviews?per_page&page
      POST /repos/{owner}/{repo}/pulls/{n}/reviews
      GET  /repos/{owner}/{repo}/compare/{base}...{head}
  * an OpenAI-compatible Chat Completions endpoint: POST /v1/chat/completions, whose
    answers the test scripts.
  * Amazon Bedrock Runtime's Converse (tests/fixtures/bedrock/converse.rest.json):
      POST /model/{modelId}/converse   SigV4-signed for the `bedrock` service (else 403);
    the same scripted answers, a JSON answer as the forced tool call's `input`.
  * embeddings, deterministic (each word hashed to a dimension, counted, normalized: texts
    sharing words are close, texts sharing none are orthogonal):
      POST /v1/embeddings   OpenAI-compatible: {model, input: [..], dimensions?} → data[].embedding
                            (64 dimensions unless `dimensions` is given), index order
      POST /model/amazon.titan-embed-text-v2%3A0/invoke   Titan Text Embeddings V2:
                            {inputText, dimensions (256|512|1024), normalize} → {embedding,
                            inputTextTokenCount}; SigV4-signed for `bedrock` (else 403)
  * the GitLab REST API v4 (tests/fixtures/gitlab/*.rest.json):
      GET  /api/v4/projects/{url-encoded path}/merge_requests/{iid}
      GET  /api/v4/projects/{url-encoded path}/repository/merge_base?refs[]&refs[]
      GET  /api/v4/projects/{url-encoded path}/repository/compare?from&to&straight
      GET  …/merge_requests/{iid}/diffs?per_page&page
      GET  …/merge_requests/{iid}/notes?per_page&page
      POST …/merge_requests/{iid}/notes, POST …/merge_requests/{iid}/discussions
  * the Azure DevOps REST API 7.1 (tests/fixtures/azure/*.rest.json):
      GET  /{org}/{project}/_apis/git/repositories/{repo}/pullRequests/{id}
      GET  …/pullRequests/{id}/iterations, …/pullRequests/{id}/iterations/{n}/changes[?$compareTo=m]
      GET  /{org}/{project}/_apis/git/repositories/{repo}/items?path&includeContent&versionDescriptor.version
      GET  …/pullRequests/{id}/threads, POST …/pullRequests/{id}/threads
  * the Bitbucket Cloud REST API 2.0 (tests/fixtures/bitbucket/):
      GET  /2.0/repositories/{workspace}/{repo}/pullrequests/{id}
      GET  …/pullrequests/{id}/diff  (302 to /2.0/repositories/{workspace}/{repo}/diff/{spec}, as Bitbucket does)
      GET  /2.0/repositories/{workspace}/{repo}/merge-base/{head}..{since}
      GET  /2.0/repositories/{workspace}/{repo}/diff/{head}..{since}?topic=true
      GET  …/pullrequests/{id}/comments, POST …/pullrequests/{id}/comments
  * the providers' "may this token write to this repository?" answers (the repos function
    asks before a repository is connected), for the tokens a test granted:
      GET  /repos/{owner}/{repo}                                  (GitHub: permissions.push)
      GET  /api/v4/projects/{url-encoded path}                    (GitLab: permissions.*_access.access_level)
      GET  /2.0/user/permissions/repositories?q=repository.full_name="ws/repo"  (Bitbucket)
      GET  /{org}/{project}/_apis/git/repositories/{repo}         (Azure DevOps: answered or not)
    A token granted nothing anywhere is refused (401); one without a grant for the
    repository does not see it (404; Bitbucket: no permission listed).
  * who a token is (the repos function learns it on connect; its comments never ask for a
    review), in the providers' documented shapes (the fields the engine reads):
      GET  /user                               (GitHub "Get the authenticated user": login, id, type)
      GET  /api/v4/user                        (GitLab "Get the current user": id, username)
      GET  /2.0/user                           (Bitbucket "Get current user": uuid, account_id, nickname, type)
      GET  /{org}/_apis/connectionData         (Azure DevOps connection data: authenticatedUser.id)
    A granted token is `owner-<first 6 characters of the token>` with a stable id, unless
    its grant named `login`/`userId`.
  * GitHub Apps (tests/standins/apps.py): installations and installation access tokens,
    the app's RS256 JWT checked with the public key a test registers; installation tokens
    checked on every GitHub request (scoped to their repositories),
  * the providers' commit-status APIs (tests/standins/statuses.py: the documented paths,
    bodies validated as each provider does),
and records every request it receives.

Control (used by the tests and scripts/smoke.sh):
  POST /_control/pr      {"provider" (default github), "repo", "number", "pr": {field overrides},
                          "files": [...], "compare": {...}, "since": {...}, "rewritten": [...]}
                         files: {"filename", "status", "patch"}; Azure DevOps files carry
                         "old"/"new" contents instead of a patch (it serves contents, not diffs)
                         compare (GitHub): the compare answer's overrides ("status", "files")
                         since (GitLab, Azure DevOps, Bitbucket): {"from": sha, "files": [...]}:
                         the head descends from `from` and `files` changed since
                         rewritten: commits that exist but the head no longer descends from
                         (a force push); any other commit is unknown to the repository
  POST /_control/access  {"provider" (default github), "repo", "token", "permission": "read"|"write"|"admin",
                          "login", "userId" (optional: who the token is)}
  POST /_control/fail    {"method", "contains", "status", "headers": {}, "body": {}, "times"}  next matching requests fail
  POST /_control/llm     {"answers": [<message content string>, …], "verifications": [...]}  queued answers
                         (then the default); `verifications` answer the reviewer's verification
                         requests (json_schema / tool `comment_verification`; default: no verdict).
                         An answer may be {"content": …, "finish_reason": "length"}: a reply cut
                         at max_tokens, as llama.cpp / OpenAI report it (default "stop")
  GET  /_requests        every request so far: [{"method", "path", "headers", "body"}]
  POST /_control/app, /_control/app/remove, GET /_control/app/tokens   GitHub Apps (tests/standins/apps.py)
  GET  /_control/statuses the commit statuses posted, per provider/repo/sha (tests/standins/statuses.py)

Usage: standin.py [--port 0] [--exit-with-stdin]   prints "listening <port>" on stdout once
ready; with --exit-with-stdin it stops when its standard input closes (its parent is gone).
"""

import argparse
import base64
import copy
import hashlib
import os
import json
import pathlib
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sources  # noqa: E402  (the indexer's source APIs)
import statuses  # noqa: E402  (the providers' commit-status APIs)
import apps  # noqa: E402  (GitHub Apps: the app JWT, installations, installation tokens)

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures"


def load(name, provider="github"):
    return json.loads((FIXTURES / provider / name).read_text())


PULL = load("pulls.get.rest.json")
FILE = load("pulls.files.rest.json")[0]
REVIEW = load("pulls.reviews.create.rest.json")
COMPARE = load("compare.rest.json")
GL_MR = load("merge_request.get.rest.json", "gitlab")
GL_DIFF = load("merge_request.diffs.rest.json", "gitlab")[0]
GL_NOTE = load("notes.create.rest.json", "gitlab")
GL_DISCUSSION = load("discussions.create.rest.json", "gitlab")
AZ_PULL = load("pullrequest.get.rest.json", "azure")
AZ_ITERATIONS = load("iterations.list.rest.json", "azure")
AZ_CHANGE = load("iteration.changes.rest.json", "azure")["changeEntries"][0]
AZ_THREAD = load("threads.create.rest.json", "azure")
AZ_ITEM = load("items.get.rest.json", "azure")["value"][0]
BB_PULL = load("pullrequest.created.json", "bitbucket")["pullrequest"]
BB_COMMENT = load("comment.rest.json", "bitbucket")
CONVERSE = load("converse.rest.json", "bedrock")
GL_COMPARE = load("repository.compare.rest.json", "gitlab")
GL_MERGE_BASE = load("repository.merge_base.rest.json", "gitlab")
BB_MERGE_BASE = load("merge-base.rest.json", "bitbucket")
# What a SigV4 `Authorization` header for Bedrock looks like (credential scope
# `<key id>/<yyyymmdd>/<region>/bedrock/aws4_request`).
SIGV4_BEDROCK = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=[^/\s]+/\d{8}/[a-z0-9-]+/bedrock/aws4_request, "
    r"SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$"
)

DEFAULT_ANSWER = json.dumps({"summary": "No issues found.", "walkthrough": [], "comments": []})
VERIFICATION = "comment_verification"
DEFAULT_VERIFICATION = json.dumps({"verdicts": []})

LOCK = threading.Lock()
STATE = {"prs": {}, "reviews": {}, "fail": [], "llm": [], "verify": [], "requests": [], "next_id": 1000, "access": {},
         "identities": {}}
GH_REPO = load("repos.get.rest.json")
GL_PROJECT = load("projects.get.rest.json", "gitlab")
AZ_REPOSITORY = load("repositories.get.rest.json", "azure")
BB_PERMISSION = load("user.permissions.repositories.rest.json", "bitbucket")


def pr_key(provider, repo, number):
    return f"{provider}:{repo.lower()}#{number}"


def pr_state(repo, number, provider="github"):
    return STATE["prs"].get(pr_key(provider, repo, number))


def same(a, b):
    """Same commit (Bitbucket abbreviates hashes to 12 characters)."""
    a, b = (a or "").lower(), (b or "").lower()
    return bool(a) and bool(b) and (a.startswith(b) or b.startswith(a)) and min(len(a), len(b)) >= 7


def merge_base(state, a, b):
    """The merge base of commits `a` and `b` for a PR's history: (sha or None if a commit
    is unknown). The head descends from since.from and from the PR's base; a rewritten
    commit shares only the base with the head."""
    pr = state.get("pr", {})
    head, base = pr.get("head_sha"), pr.get("base_sha")
    since = (state.get("since") or {}).get("from")
    rewritten = state.get("rewritten", [])
    known = lambda c: same(c, head) or same(c, base) or same(c, since) or any(same(c, r) for r in rewritten)
    if not (known(a) and known(b)):
        return None
    if same(a, b):
        return a
    for x, y in ((a, b), (b, a)):
        if same(x, head) and (same(y, since) or same(y, base)):
            return y
    return base


def page_of(items, query, size_name="per_page", default=100):
    q = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    page, size = int(q.get("page", "1")), int(q.get(size_name, str(default)))
    return items[(page - 1) * size : page * size]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        headers = dict(headers or {})
        self.send_response(status)
        self.send_header("content-type", headers.pop("content-type", "application/json; charset=utf-8"))
        self.send_header("content-length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)
        # Answered: the routing in handle_any stops here (a handler that returned None
        # would fall through to the next one and write a second answer on the same
        # keep-alive connection — read by the client as the answer to its next request).
        return True

    def body(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode("utf-8", "replace")

    def handle_any(self, method):
        url = urlsplit(self.path)
        path = url.path
        body = self.body()
        if path.startswith("/_") and not path.startswith("/_download/"):
            return self.control(method, path, body)
        with LOCK:
            STATE["requests"].append(
                {
                    "method": method,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
            )
            for rule in STATE["fail"]:
                if rule["times"] > 0 and rule["method"] == method and rule["contains"] in self.path:
                    rule["times"] -= 1
                    return self.reply(rule["status"], rule.get("body") or {"message": "stand-in failure"},
                                      rule.get("headers"))
        app = apps.handle(self, method, path, url.query, body, LOCK)
        if app is not None:
            return app
        refused = apps.guard(self, path, LOCK)
        if refused is not None:
            return refused
        status = statuses.handle(self, method, path, body, LOCK)
        if status is not None:
            return status
        if path.endswith("/chat/completions") and method == "POST":
            return self.chat(body)
        if method == "POST" and re.match(r"^/model/[^/]+/converse$", path):
            return self.converse(body)
        if method == "POST" and path.endswith("/embeddings"):
            return self.embeddings(body)
        if method == "POST" and re.match(r"^/model/[^/]+/invoke$", path):
            return self.titan(unquote(path.split("/")[2]), body)
        source = sources.handle(self, method, path, url.query)
        if source is not None:
            return source
        access = self.access(method, path, url.query)
        if access is not None:
            return access
        who = self.identity(method, path)
        if who is not None:
            return who
        if path.startswith("/api/v4/"):
            return self.gitlab(method, path, url.query, body)
        if "/_apis/git/" in path:
            return self.azure(method, path, url.query, body)
        if path.startswith("/2.0/"):
            return self.bitbucket(method, path, url.query, body)
        return self.github(method, path, url.query, body)

    def control(self, method, path, body):
        with LOCK:
            if path == "/_requests":
                return self.reply(200, STATE["requests"])
            if path == "/_control/statuses":
                return self.reply(200, statuses.recorded())
            app = apps.control(self, path, body)
            if app is not None:
                return app
            if path == "/_control/pr":
                key = pr_key(body.get("provider", "github"), body["repo"], body["number"])
                STATE["prs"][key] = body
                STATE["reviews"].setdefault(key, [])
                return self.reply(200, {"ok": True})
            if path == "/_control/access":
                key = f"{body.get('provider', 'github')}:{body['repo'].lower()}"
                STATE["access"].setdefault(key, {})[body["token"]] = body["permission"]
                if body.get("login") or body.get("userId"):
                    STATE["identities"][body["token"]] = {"login": body.get("login"), "id": body.get("userId")}
                return self.reply(200, {"ok": True})
            if path == "/_control/source":
                return self.reply(200, {"sha": sources.register(body)})
            if path == "/_control/fail":
                STATE["fail"].append(dict(body))
                return self.reply(200, {"ok": True})
            if path == "/_control/llm":
                STATE["llm"].extend(body.get("answers", []))
                STATE["verify"].extend(body.get("verifications", []))
                return self.reply(200, {"ok": True})
        return self.reply(404, {"message": "no such control"})

    def next_answer(self, task):
        """The next scripted answer for a review or (task `comment_verification`) a verification."""
        with LOCK:
            if task == VERIFICATION:
                return STATE["verify"].pop(0) if STATE["verify"] else DEFAULT_VERIFICATION
            return STATE["llm"].pop(0) if STATE["llm"] else DEFAULT_ANSWER

    def chat(self, body):
        schema = (((body or {}).get("response_format") or {}).get("json_schema") or {})
        content = self.next_answer(schema.get("name"))
        finish = "stop"
        if isinstance(content, dict):
            finish = content.get("finish_reason", "stop")
            content = content.get("content", "")
        return self.reply(
            200,
            {
                "id": "chatcmpl-standin",
                "object": "chat.completion",
                "created": 1700000000,
                "model": (body or {}).get("model", "standin"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "finish_reason": finish,
                    }
                ],
                "usage": {"prompt_tokens": 1200, "completion_tokens": 80, "total_tokens": 1280},
            },
        )

    def embeddings(self, body):
        """OpenAI-compatible embeddings of every input, in order."""
        body = body if isinstance(body, dict) else {}
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else inputs
        dims = body.get("dimensions") or 64
        if not isinstance(inputs, list) or not all(isinstance(t, str) for t in inputs) or not body.get("model"):
            return self.reply(400, {"error": {"message": "model and input are required", "type": "invalid_request_error"}})
        data = [{"object": "embedding", "index": i, "embedding": embed(t, dims)} for i, t in enumerate(inputs)]
        tokens = sum(len(words(t)) for t in inputs)
        return self.reply(200, {"object": "list", "data": data, "model": body["model"],
                                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def titan(self, model, body):
        """Bedrock InvokeModel for Titan Text Embeddings V2 (SigV4 for `bedrock`)."""
        auth = self.headers.get("authorization") or ""
        if not SIGV4_BEDROCK.match(auth) or not self.headers.get("x-amz-date"):
            return self.reply(403, {"message": "Missing or invalid SigV4 signature for bedrock"},
                              {"x-amzn-ErrorType": "AccessDeniedException"})
        body = body if isinstance(body, dict) else {}
        if model != "amazon.titan-embed-text-v2:0":
            return self.reply(404, {"message": f"no model {model}"}, {"x-amzn-ErrorType": "ResourceNotFoundException"})
        dims = body.get("dimensions", 1024)
        if dims not in (256, 512, 1024) or not isinstance(body.get("inputText"), str):
            return self.reply(400, {"message": "inputText and dimensions 256|512|1024"},
                              {"x-amzn-ErrorType": "ValidationException"})
        text = body["inputText"]
        return self.reply(200, {"embedding": embed(text, dims), "inputTextTokenCount": len(words(text)),
                                "embeddingsByType": {"float": embed(text, dims)}})

    def converse(self, body):
        """Bedrock Converse: refuses requests without a SigV4 signature for `bedrock`;
        answers the next scripted answer as the forced tool call (prose: a text block)."""
        auth = self.headers.get("authorization") or ""
        if not SIGV4_BEDROCK.match(auth) or not self.headers.get("x-amz-date"):
            return self.reply(403, {"message": "Missing or invalid SigV4 signature for bedrock"},
                              {"x-amzn-ErrorType": "AccessDeniedException"})
        tools = ((body or {}).get("toolConfig") or {}).get("tools") or [{}]
        name = (tools[0].get("toolSpec") or {}).get("name", "standin")
        content = self.next_answer(name)
        out = copy.deepcopy(CONVERSE)
        try:
            answer = json.loads(content)
        except ValueError:
            answer = None
        if isinstance(answer, dict):
            block = out["output"]["message"]["content"][0]["toolUse"]
            block.update(name=name, input=answer)
        else:
            out["output"]["message"]["content"] = [{"text": content}]
            out["stopReason"] = "end_turn"
        out["usage"] = {"inputTokens": 1200, "outputTokens": 80, "totalTokens": 1280}
        return self.reply(200, out)

    def github(self, method, path, query, body):
        path = re.sub(r"^/api/v3", "", path)
        m = re.match(r"^/repos/([^/]+/[^/]+)/pulls/(\d+)(/files|/reviews)?$", path)
        c = re.match(r"^/repos/([^/]+/[^/]+)/compare/([0-9a-f]+)\.\.\.([0-9a-f]+)$", path)
        if c:
            repo = c.group(1)
            with LOCK:
                found = [p for k, p in STATE["prs"].items() if k.startswith(f"github:{repo.lower()}#") and p.get("compare")]
            if not found:
                return self.reply(404, {"message": "Not Found"})
            out = copy.deepcopy(COMPARE)
            out.update(found[0]["compare"])
            out["files"] = [dict(copy.deepcopy(FILE), **f) for f in found[0]["compare"].get("files", [])]
            return self.reply(200, out)
        if not m:
            return self.reply(404, {"message": "Not Found"})
        repo, number, tail = m.group(1), int(m.group(2)), m.group(3)
        with LOCK:
            state = pr_state(repo, number)
            if state is None:
                return self.reply(404, {"message": "Not Found"})
            key = pr_key("github", repo, number)
            page = int(dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("page", "1"))
            if tail is None and method == "GET":
                pull = copy.deepcopy(PULL)
                pull["number"] = number
                for k, v in state.get("pr", {}).items():
                    if k in ("head_sha", "base_sha"):
                        pull[k.split("_")[0]]["sha"] = v
                    elif k == "user_type":
                        pull["user"]["type"] = v
                    elif k == "user_login":
                        pull["user"]["login"] = v
                    else:
                        pull[k] = v
                return self.reply(200, pull)
            if tail == "/files" and method == "GET":
                files = [dict(copy.deepcopy(FILE), **f) for f in state.get("files", [])]
                return self.reply(200, files[(page - 1) * 100 : page * 100])
            if tail == "/reviews" and method == "GET":
                return self.reply(200, STATE["reviews"][key][(page - 1) * 100 : page * 100])
            if tail == "/reviews" and method == "POST":
                STATE["next_id"] += 1
                review = copy.deepcopy(REVIEW)
                review["id"] = STATE["next_id"]
                review["body"] = body.get("body")
                review["commit_id"] = body.get("commit_id")
                review["state"] = "COMMENTED"
                review["html_url"] = f"https://github.com/{repo}/pull/{number}#pullrequestreview-{review['id']}"
                STATE["reviews"][key].append(review)
                return self.reply(200, review)
        return self.reply(404, {"message": "Not Found"})

    def token(self):
        auth = self.headers.get("authorization") or ""
        if auth.startswith("Bearer "):
            return auth[len("Bearer "):]
        if auth.startswith("Basic "):
            return base64.b64decode(auth[len("Basic "):]).decode("utf-8", "replace").split(":", 1)[-1]
        return None

    def permission(self, provider, repo):
        """(known token?, its permission on repo or None)."""
        token = self.token()
        with LOCK:
            if provider == "github" and token and token.startswith("ghs_"):
                # An installation token: what its installation and repositories allow.
                return apps.permission(token, repo)
            known = any(token in grants for grants in STATE["access"].values())
            return known, STATE["access"].get(f"{provider}:{repo.lower()}", {}).get(token)

    def access(self, method, path, query):
        """The providers' repository-access answers; None: not such a request."""
        if method != "GET":
            return None
        gh = re.match(r"^(?:/api/v3)?/repos/([^/]+/[^/]+)$", path)
        gl = re.match(r"^/api/v4/projects/([^/]+)$", path)
        az = re.match(r"^/([^/]+)/([^/]+)/_apis/git/repositories/([^/]+)$", path)
        bb = path == "/2.0/user/permissions/repositories"
        if not (gh or gl or az or bb):
            return None
        if gh:
            provider, repo = "github", gh.group(1)
        elif gl:
            provider, repo = "gitlab", unquote(gl.group(1))
        elif az:
            provider, repo = "azure", "/".join(unquote(g) for g in az.group(1, 2, 3))
        else:
            q = unquote(dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("q", ""))
            m = re.match(r'^repository\.full_name="([^"]+)"$', q)
            provider, repo = "bitbucket", m.group(1) if m else ""
        known, permission = self.permission(provider, repo)
        if not known:
            return self.reply(401, {"message": "Bad credentials"})
        if provider == "bitbucket":
            values = []
            if permission:
                entry = copy.deepcopy(BB_PERMISSION["values"][0])
                entry["permission"] = permission
                entry["repository"]["full_name"] = repo
                values.append(entry)
            return self.reply(200, dict(copy.deepcopy(BB_PERMISSION), values=values, size=len(values)))
        if permission is None:
            return self.reply(404, {"message": "Not Found"})
        write = permission in ("write", "admin")
        if provider == "github":
            out = copy.deepcopy(GH_REPO)
            out["full_name"] = repo
            out["permissions"] = {"admin": permission == "admin", "maintain": False, "push": write,
                                  "triage": write, "pull": True}
        elif provider == "gitlab":
            out = copy.deepcopy(GL_PROJECT)
            out["path_with_namespace"] = repo
            level = {"read": 20, "write": 30, "admin": 40}[permission]
            out["permissions"] = {"project_access": {"access_level": level, "notification_level": 3},
                                  "group_access": None}
        else:
            out = copy.deepcopy(AZ_REPOSITORY)
            out["name"] = repo.rsplit("/", 1)[-1]
        branch = sources.default_branch(provider, repo)
        if branch:
            out["default_branch" if provider != "azure" else "defaultBranch"] = (
                branch if provider != "azure" else f"refs/heads/{branch}")
        return self.reply(200, out)

    def identity(self, method, path):
        """Who the request's token is; None: not such a request."""
        if method != "GET":
            return None
        kind = {"/user": "github", "/api/v3/user": "github", "/api/v4/user": "gitlab", "/2.0/user": "bitbucket"}.get(path)
        if kind is None and re.match(r"^/[^/]+/_apis/connectionData$", path):
            kind = "azure"
        if kind is None:
            return None
        token = self.token()
        with LOCK:
            known = any(token in grants for grants in STATE["access"].values())
            named = STATE["identities"].get(token, {})
        if not known:
            return self.reply(401, {"message": "Bad credentials"})
        login = named.get("login") or f"owner-{token[:6]}"
        number = int(named.get("id") or (sum(token.encode()) * 7919 % 10_000_000 + 1))
        if kind == "github":
            return self.reply(200, {"login": login, "id": number, "node_id": f"U_{number}", "type": "User",
                                    "site_admin": False})
        if kind == "gitlab":
            return self.reply(200, {"id": number, "username": login, "name": login, "state": "active"})
        if kind == "bitbucket":
            return self.reply(200, {"type": "user", "uuid": f"{{{number:08d}-0000-4000-8000-000000000000}}",
                                    "account_id": f"557058:{number}", "nickname": login, "display_name": login})
        guid = f"{number:08d}-0000-4000-8000-000000000000"
        return self.reply(200, {"authenticatedUser": {"id": guid, "descriptor": f"aad.{number}",
                                                      "providerDisplayName": login, "isActive": True},
                                "authorizedUser": {"id": guid, "providerDisplayName": login},
                                "instanceId": "00000000-0000-0000-0000-000000000001"})

    def posted(self, key, item):
        """Keeps what was posted (served back by the list endpoints)."""
        STATE["next_id"] += 1
        STATE["reviews"][key].append(item)
        return STATE["next_id"]

    def gitlab_repository(self, repo, tail, query):
        """`…/repository/merge_base` and `…/repository/compare` of the repository's PRs."""
        q = {}
        for part in query.split("&"):
            if "=" in part:
                k, v = part.split("=", 1)
                q.setdefault(unquote(k), []).append(unquote(v))
        with LOCK:
            states = [st for k, st in STATE["prs"].items() if k.startswith(f"gitlab:{repo.lower()}#")]
        if tail == "merge_base":
            refs = q.get("refs[]", [])
            for st in states:
                found = merge_base(st, *refs[:2]) if len(refs) == 2 else None
                if found:
                    out = copy.deepcopy(GL_MERGE_BASE)
                    out.update(id=found, short_id=found[:8])
                    return self.reply(200, out)
            return self.reply(400, {"message": f"Could not find refs: {', '.join(refs)}"})
        src, dst = q.get("from", [""])[0], q.get("to", [""])[0]
        for st in states:
            since = st.get("since") or {}
            if same(dst, st.get("pr", {}).get("head_sha")) and same(src, since.get("from")):
                out = copy.deepcopy(GL_COMPARE)
                out["commit"].update(id=dst, short_id=dst[:11])
                out["commits"] = [dict(out["commits"][0], id=dst, short_id=dst[:11])]
                diffs = []
                for f in since.get("files", []):
                    d = copy.deepcopy(GL_COMPARE["diffs"][0])
                    name = f["filename"]
                    d.update(old_path=f.get("old_path", name), new_path=name,
                             diff=f"--- a/{name}\n+++ b/{name}\n" + (f.get("patch") or ""),
                             new_file=f.get("status") == "added", deleted_file=f.get("status") == "removed",
                             renamed_file=f.get("status") == "renamed")
                    diffs.append(d)
                out["diffs"] = diffs
                return self.reply(200, out)
        return self.reply(404, {"message": "404 Ref Not Found"})

    def gitlab(self, method, path, query, body):
        r = re.match(r"^/api/v4/projects/([^/]+)/repository/(merge_base|compare)$", path)
        if r and method == "GET":
            return self.gitlab_repository(unquote(r.group(1)), r.group(2), query)
        m = re.match(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)(/diffs|/notes|/discussions)?$", path)
        if not m:
            return self.reply(404, {"message": "404 Project Not Found"})
        repo, number, tail = unquote(m.group(1)), int(m.group(2)), m.group(3)
        with LOCK:
            state = pr_state(repo, number, "gitlab")
            if state is None:
                return self.reply(404, {"message": "404 Not found"})
            key = pr_key("gitlab", repo, number)
            over = state.get("pr", {})
            if tail is None and method == "GET":
                mr = copy.deepcopy(GL_MR)
                mr.update(iid=number, state=over.get("state", "opened"), **texts(over, ("title", "description", "draft")))
                mr["web_url"] = f"https://gitlab.example.com/{repo}/-/merge_requests/{number}"
                if "author_username" in over:
                    mr["author"]["username"] = over["author_username"]
                if "head_sha" in over:
                    mr["sha"] = mr["diff_refs"]["head_sha"] = over["head_sha"]
                if "base_sha" in over:
                    mr["diff_refs"]["base_sha"] = mr["diff_refs"]["start_sha"] = over["base_sha"]
                return self.reply(200, mr)
            if tail == "/diffs" and method == "GET":
                diffs = []
                for f in state.get("files", []):
                    d = copy.deepcopy(GL_DIFF)
                    d.update(old_path=f.get("old_path", f["filename"]), new_path=f["filename"], diff=f.get("patch") or "")
                    d.update(new_file=f.get("status") == "added", deleted_file=f.get("status") == "removed",
                             renamed_file=f.get("status") == "renamed")
                    diffs.append(d)
                return self.reply(200, page_of(diffs, query))
            if tail == "/notes" and method == "GET":
                return self.reply(200, page_of(STATE["reviews"][key], query))
            if tail == "/notes" and method == "POST":
                note = copy.deepcopy(GL_NOTE)
                note.update(body=body.get("body"), noteable_iid=number)
                note["id"] = self.posted(key, note)
                return self.reply(201, note)
            if tail == "/discussions" and method == "POST":
                discussion = copy.deepcopy(GL_DISCUSSION)
                note = discussion["notes"][0]
                note.update(body=body.get("body"), position=body.get("position"), noteable_iid=number)
                note["id"] = self.posted(key, note)
                discussion["id"] = f"{note['id']:040x}"
                return self.reply(201, discussion)
        return self.reply(404, {"message": "404 Not found"})

    def azure(self, method, path, query, body):
        m = re.match(r"^/([^/]+)/([^/]+)/_apis/git/repositories/([^/]+)(/.*)?$", path)
        if not m:
            return self.reply(404, {"message": "not found"})
        repo = "/".join(unquote(g) for g in m.group(1, 2, 3))
        rest = m.group(4) or ""
        q = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        with LOCK:
            if rest == "/items" and method == "GET":
                want = unquote(q.get("path", "")).lstrip("/")
                version = q.get("versionDescriptor.version")
                for k, st in STATE["prs"].items():
                    if not k.startswith(f"azure:{repo.lower()}#"):
                        continue
                    head = st.get("pr", {}).get("head_sha")
                    since = st.get("since") or {}
                    # The files changed since the last reviewed head (contents at `from`
                    # and at the head), then the pull request's.
                    candidates = (since.get("files", []) if version in (head, since.get("from")) else [])
                    for f in candidates + st.get("files", []):
                        if f["filename"] == want or f.get("old_path") == want:
                            side = "new" if version == head else "old"
                            if f.get(side) is None:
                                break
                            item = copy.deepcopy(AZ_ITEM)
                            item.update(path="/" + want, commitId=version, content=f[side])
                            return self.reply(200, item)
                return self.reply(404, {"message": f"TF401174: The item '{want}' could not be found"})
            p = re.match(r"^/pullRequests/(\d+)(/iterations|/iterations/(\d+)/changes|/threads)?$", rest)
            if not p:
                return self.reply(404, {"message": "not found"})
            number, tail = int(p.group(1)), p.group(2)
            state = pr_state(repo, number, "azure")
            if state is None:
                return self.reply(404, {"message": f"TF401180: The requested pull request was not found."})
            key = pr_key("azure", repo, number)
            over = state.get("pr", {})
            if tail is None and method == "GET":
                pull = copy.deepcopy(AZ_PULL)
                pull.update(pullRequestId=number, codeReviewId=number, status=over.get("status", "active"),
                            isDraft=over.get("isDraft", False), **texts(over))
                if "created_by" in over:
                    pull["createdBy"]["displayName"] = over["created_by"]
                if "head_sha" in over:
                    pull["lastMergeSourceCommit"]["commitId"] = over["head_sha"]
                if "base_sha" in over:
                    pull["lastMergeTargetCommit"]["commitId"] = over["base_sha"]
                return self.reply(200, pull)
            if tail == "/iterations" and method == "GET":
                iterations = copy.deepcopy(AZ_ITERATIONS)
                first, last = iterations["value"][0], iterations["value"][-1]
                if "head_sha" in over:
                    last["sourceRefCommit"]["commitId"] = over["head_sha"]
                if "base_sha" in over:
                    for it in (first, last):
                        it["commonRefCommit"]["commitId"] = it["targetRefCommit"]["commitId"] = over["base_sha"]
                # The first iteration is the last reviewed head: pushed on (`since`), or
                # force-pushed away (`rewritten`).
                since = (state.get("since") or {}).get("from")
                if since:
                    first["sourceRefCommit"]["commitId"] = since
                    first["reason"], last["reason"] = "create", "push"
                elif state.get("rewritten"):
                    first["sourceRefCommit"]["commitId"] = state["rewritten"][0]
                    first["reason"], last["reason"] = "create", "forcePush"
                return self.reply(200, iterations)
            if tail and tail.endswith("/changes") and method == "GET":
                kinds = {"added": "add", "modified": "edit", "removed": "delete", "renamed": "rename"}
                entries = []
                files = state.get("files", [])
                if "$compareTo" in q and q["$compareTo"] != "0":
                    since = state.get("since")
                    if not since:
                        return self.reply(400, {"message": "stand-in: no changes since that iteration"})
                    files = since.get("files", [])
                for n, f in enumerate(files, start=1):
                    change = copy.deepcopy(AZ_CHANGE)
                    change.update(changeTrackingId=n, changeId=n, changeType=kinds.get(f.get("status"), "edit"))
                    change["item"]["path"] = "/" + f["filename"]
                    if f.get("old_path"):
                        change["originalPath"] = "/" + f["old_path"]
                    entries.append(change)
                top, skip = int(q.get("$top", "100")), int(q.get("$skip", "0"))
                chunk = entries[skip : skip + top]
                more = skip + top < len(entries)
                return self.reply(200, {"changeEntries": chunk, "nextSkip": skip + top if more else 0,
                                        "nextTop": top if more else 0})
            if tail == "/threads" and method == "GET":
                return self.reply(200, {"value": STATE["reviews"][key], "count": len(STATE["reviews"][key])})
            if tail == "/threads" and method == "POST":
                thread = copy.deepcopy(AZ_THREAD)
                thread["comments"][0]["content"] = body["comments"][0]["content"]
                thread["threadContext"] = body.get("threadContext")
                if not body.get("threadContext"):
                    thread["pullRequestThreadContext"] = None
                thread["id"] = self.posted(key, thread)
                return self.reply(200, thread)
        return self.reply(404, {"message": "not found"})

    def bitbucket(self, method, path, query, body):
        d = re.match(r"^/2.0/repositories/([^/]+)/([^/]+)/diff/([^/]+)$", path)
        mb = re.match(r"^/2.0/repositories/([^/]+)/([^/]+)/merge-base/([^/.]+)\.\.([^/.]+)$", path)
        m = re.match(r"^/2.0/repositories/([^/]+)/([^/]+)/pullrequests/(\d+)(/diff|/comments)?$", path)
        revspec = re.match(r"^([0-9a-fA-F]+)\.\.([0-9a-fA-F]+)$", unquote(d.group(3))) if d else None
        if mb or revspec:
            # `{head}..{since}`: the merge base, or the diff of the head from it (topic).
            hit = mb or d
            repo = f"{unquote(hit.group(1))}/{unquote(hit.group(2))}"
            a, b = (mb.group(3), mb.group(4)) if mb else (revspec.group(1), revspec.group(2))
            with LOCK:
                states = [st for k, st in STATE["prs"].items() if k.startswith(f"bitbucket:{repo.lower()}#")]
            for st in states:
                found = merge_base(st, a, b)
                if found and mb:
                    return self.reply(200, dict(copy.deepcopy(BB_MERGE_BASE), hash=found))
                since = st.get("since") or {}
                if found and same(a, st.get("pr", {}).get("head_sha")) and same(b, since.get("from")):
                    return self.reply(200, git_diff(since.get("files", [])).encode(), {"content-type": "text/plain"})
            return self.reply(404, {"type": "error", "error": {"message": "Commit not found"}})
        if d:
            repo = f"{unquote(d.group(1))}/{unquote(d.group(2))}"
            q = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
            number = int(q.get("from_pullrequest_id", "0"))
            with LOCK:
                state = pr_state(repo, number, "bitbucket")
                if state is None:
                    return self.reply(404, {"type": "error", "error": {"message": "Not found"}})
                return self.reply(200, git_diff(state.get("files", [])).encode(), {"content-type": "text/plain"})
        if not m:
            return self.reply(404, {"type": "error", "error": {"message": "Resource not found"}})
        ws, slug, number, tail = unquote(m.group(1)), unquote(m.group(2)), int(m.group(3)), m.group(4)
        repo = f"{ws}/{slug}"
        with LOCK:
            state = pr_state(repo, number, "bitbucket")
            if state is None:
                return self.reply(404, {"type": "error", "error": {"message": "Not found"}})
            key = pr_key("bitbucket", repo, number)
            over = state.get("pr", {})
            if tail is None and method == "GET":
                pull = copy.deepcopy(BB_PULL)
                pull.update(id=number, state=over.get("state", "OPEN"), draft=over.get("draft", False), **texts(over))
                if "author_type" in over:
                    pull["author"]["type"] = over["author_type"]
                if "head_sha" in over:
                    pull["source"]["commit"]["hash"] = over["head_sha"]
                if "base_sha" in over:
                    pull["destination"]["commit"]["hash"] = over["base_sha"]
                pull["links"] = {"html": {"href": f"https://bitbucket.org/{repo}/pull-requests/{number}"}}
                return self.reply(200, pull)
            if tail == "/diff" and method == "GET":
                # As Bitbucket answers: a redirect to the repository's diff of the two commits.
                spec = f"{ws}/{slug}:{over.get('head_sha', 'head')}\r{over.get('base_sha', 'base')}"
                location = (f"/2.0/repositories/{m.group(1)}/{m.group(2)}/diff/{quote(spec, safe='')}"
                            f"?from_pullrequest_id={number}&topic=true")
                return self.reply(302, b"", {"location": location})
            if tail == "/comments" and method == "GET":
                items = STATE["reviews"][key]
                values = page_of(items, query, "pagelen", 10)
                page = int(dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("page", "1"))
                out = {"pagelen": len(values), "size": len(items), "page": page, "values": values}
                if page * 10 < len(items) and "pagelen=" not in query:
                    out["next"] = f"http://{self.headers.get('host')}{path}?page={page + 1}"
                return self.reply(200, out)
            if tail == "/comments" and method == "POST":
                comment = copy.deepcopy(BB_COMMENT)
                comment["content"]["raw"] = body["content"]["raw"]
                comment["inline"] = body.get("inline")
                if "inline" not in body:
                    del comment["inline"]
                comment["id"] = self.posted(key, comment)
                comment["links"]["html"]["href"] = f"https://bitbucket.org/{repo}/pull-requests/{number}/_/diff#comment-{comment['id']}"
                return self.reply(201, comment)
        return self.reply(404, {"type": "error", "error": {"message": "Resource not found"}})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")


def words(text):
    return re.findall(r"[a-z0-9_]+", text.lower())


def embed(text, dims):
    """A hashed bag of words, normalized (all zeros for a text without words)."""
    vector = [0.0] * dims
    for word in words(text):
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % dims] += 1.0
    norm = sum(v * v for v in vector) ** 0.5
    return [v / norm for v in vector] if norm else vector


def texts(over, keys=("title", "description")):
    """The overridden fields among `keys`."""
    return {k: over[k] for k in keys if k in over}


def git_diff(files):
    """What Bitbucket's diff endpoint serves: `git diff` text with extended headers."""
    out = []
    for f in files:
        new, old = f["filename"], f.get("old_path", f["filename"])
        status = f.get("status", "modified")
        out.append(f"diff --git a/{old} b/{new}")
        if status == "added":
            out += ["new file mode 100644", "index 0000000..e69de29", "--- /dev/null", f"+++ b/{new}"]
        elif status == "removed":
            out += ["deleted file mode 100644", "index e69de29..0000000", f"--- a/{old}", "+++ /dev/null"]
        else:
            if status == "renamed":
                out += ["similarity index 90%", f"rename from {old}", f"rename to {new}"]
            out += ["index 1111111..2222222 100644", f"--- a/{old}", f"+++ b/{new}"]
        if f.get("patch"):
            out.append(f["patch"].rstrip("\n"))
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--exit-with-stdin", action="store_true")
    args = parser.parse_args()
    if args.exit_with_stdin:
        def watch():
            sys.stdin.read()
            os._exit(0)

        threading.Thread(target=watch, daemon=True).start()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
