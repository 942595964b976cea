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
and records every request it receives.

Control (used by the tests and scripts/smoke.sh):
  POST /_control/pr      {"repo", "number", "pr": {field overrides}, "files": [...], "compare": {...}}
  POST /_control/fail    {"method", "contains", "status", "headers": {}, "times"}  next matching requests fail
  POST /_control/llm     {"answers": [<message content string>, …]}  queued answers (then the default)
  GET  /_requests        every request so far: [{"method", "path", "headers", "body"}]

Usage: standin.py [--port 0]   prints "listening <port>" on stdout once ready.
"""

import argparse
import copy
import json
import pathlib
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "github"


def load(name):
    return json.loads((FIXTURES / name).read_text())


PULL = load("pulls.get.rest.json")
FILE = load("pulls.files.rest.json")[0]
REVIEW = load("pulls.reviews.create.rest.json")
COMPARE = load("compare.rest.json")

DEFAULT_ANSWER = json.dumps({"summary": "No issues found.", "comments": []})

LOCK = threading.Lock()
STATE = {"prs": {}, "reviews": {}, "fail": [], "llm": [], "requests": [], "next_id": 1000}


def pr_state(repo, number):
    key = f"{repo.lower()}#{number}"
    if key not in STATE["prs"]:
        return None
    return STATE["prs"][key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)

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
        if path.startswith("/_"):
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
                    return self.reply(rule["status"], {"message": "stand-in failure"}, rule.get("headers"))
        if path.endswith("/chat/completions") and method == "POST":
            return self.chat(body)
        return self.github(method, path, url.query, body)

    def control(self, method, path, body):
        with LOCK:
            if path == "/_requests":
                return self.reply(200, STATE["requests"])
            if path == "/_control/pr":
                key = f"{body['repo'].lower()}#{body['number']}"
                STATE["prs"][key] = body
                STATE["reviews"].setdefault(key, [])
                return self.reply(200, {"ok": True})
            if path == "/_control/fail":
                STATE["fail"].append(dict(body))
                return self.reply(200, {"ok": True})
            if path == "/_control/llm":
                STATE["llm"].extend(body["answers"])
                return self.reply(200, {"ok": True})
        return self.reply(404, {"message": "no such control"})

    def chat(self, body):
        with LOCK:
            content = STATE["llm"].pop(0) if STATE["llm"] else DEFAULT_ANSWER
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
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1200, "completion_tokens": 80, "total_tokens": 1280},
            },
        )

    def github(self, method, path, query, body):
        path = re.sub(r"^/api/v3", "", path)
        m = re.match(r"^/repos/([^/]+/[^/]+)/pulls/(\d+)(/files|/reviews)?$", path)
        c = re.match(r"^/repos/([^/]+/[^/]+)/compare/([0-9a-f]+)\.\.\.([0-9a-f]+)$", path)
        if c:
            repo = c.group(1)
            with LOCK:
                found = [p for k, p in STATE["prs"].items() if k.startswith(repo.lower() + "#") and p.get("compare")]
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
            key = f"{repo.lower()}#{number}"
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

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
