"""The providers' commit-status APIs, as the stand-in plays them (issue 31).

Records every status posted with a valid body, per provider, repository and commit:
  GitHub       POST [/api/v3]/repos/{owner}/{repo}/statuses/{sha}
               {state: error|failure|pending|success, target_url?, description?, context?}
               (unknown state, description over 140 characters: 422)
  GitLab       POST /api/v4/projects/{url-encoded path}/statuses/{sha}
               {state: pending|running|success|failed|canceled|skipped, name?, description?, target_url?}
               (unknown state: 400)
  Bitbucket    POST /2.0/repositories/{workspace}/{repo}/commit/{commit}/statuses/build
               {key, state: INPROGRESS|SUCCESSFUL|FAILED|STOPPED, url, name?, description?, refname?}
               (missing key/url or unknown state: 400)
  Azure DevOps POST /{org}/{project}/_apis/git/repositories/{repo}/pullRequests/{id}/statuses
               {state: notSet|pending|succeeded|failed|error|notApplicable, description?,
                context: {name (required), genre?}, targetUrl?, iterationId?}   (else 400)
Azure DevOps statuses belong to the pull request (and iteration), not a commit: they are
recorded with `sha` = "iteration:<n>" (or "pr" without one).

`GET /_control/statuses` answers them all, oldest first:
  [{"provider", "repo", "sha", "state", "name", "description", "url", "body"}]
with `name`/`url` read from each provider's own field (context, name, key/name,
context.name; target_url, url, targetUrl). A `/_control/fail` rule on the path answers
before any of this (e.g. 403 for a token without the status scope).
"""

import re
from urllib.parse import unquote

RECORDED = []

GITHUB = re.compile(r"^(?:/api/v3)?/repos/([^/]+/[^/]+)/statuses/([^/]+)$")
GITLAB = re.compile(r"^/api/v4/projects/([^/]+)/statuses/([^/]+)$")
BITBUCKET = re.compile(r"^/2\.0/repositories/([^/]+)/([^/]+)/commit/([^/]+)/statuses/build/?$")
AZURE = re.compile(r"^/([^/]+)/([^/]+)/_apis/git/repositories/([^/]+)/pullRequests/(\d+)/statuses$")

STATES = {
    "github": {"error", "failure", "pending", "success"},
    "gitlab": {"pending", "running", "success", "failed", "canceled", "skipped"},
    "bitbucket": {"INPROGRESS", "SUCCESSFUL", "FAILED", "STOPPED"},
    "azure": {"notSet", "pending", "succeeded", "failed", "error", "notApplicable"},
}


def recorded():
    return list(RECORDED)


def handle(handler, method, path, body, lock):
    """Answers a status request (the handler's reply), or None: not one."""
    if method != "POST":
        return None
    body = body if isinstance(body, dict) else {}
    if m := GITHUB.match(path):
        repo, sha = m.group(1), unquote(m.group(2))
        state, description = body.get("state"), body.get("description")
        if state not in STATES["github"]:
            return handler.reply(422, {"message": "Validation Failed",
                                       "errors": [{"resource": "Status", "field": "state", "code": "custom"}]})
        if description is not None and len(description) > 140:
            return handler.reply(422, {"message": "Validation Failed",
                                       "errors": [{"resource": "Status", "field": "description", "code": "custom",
                                                   "message": "description is too long (maximum is 140 characters)"}]})
        entry = record(lock, "github", repo, sha, state, body.get("context", "default"), description,
                       body.get("target_url"), body)
        return handler.reply(201, {"id": entry["id"], "state": state, "description": description,
                                   "target_url": body.get("target_url"), "context": entry["name"],
                                   "url": f"https://api.github.com/repos/{repo}/statuses/{sha}"})
    if m := GITLAB.match(path):
        repo, sha = unquote(m.group(1)), unquote(m.group(2))
        state = body.get("state")
        if state not in STATES["gitlab"]:
            return handler.reply(400, {"error": "state does not have a valid value"})
        entry = record(lock, "gitlab", repo, sha, state, body.get("name") or body.get("context") or "default",
                       body.get("description"), body.get("target_url"), body)
        return handler.reply(201, {"id": entry["id"], "sha": sha, "status": state, "name": entry["name"],
                                   "description": body.get("description"), "target_url": body.get("target_url")})
    if m := BITBUCKET.match(path):
        repo, sha = f"{unquote(m.group(1))}/{unquote(m.group(2))}", unquote(m.group(3))
        state = body.get("state")
        if state not in STATES["bitbucket"] or not body.get("key") or not body.get("url"):
            return handler.reply(400, {"type": "error", "error": {"message": "Bad request",
                                                                  "fields": {"state": state, "key": body.get("key"),
                                                                             "url": body.get("url")}}})
        entry = record(lock, "bitbucket", repo, sha, state, body.get("name") or body["key"],
                       body.get("description"), body["url"], body)
        return handler.reply(201, {"type": "build", "key": body["key"], "state": state, "name": entry["name"],
                                   "url": body["url"], "description": body.get("description"),
                                   "refname": body.get("refname"), "uuid": f"{{{entry['id']:08d}}}"})
    if m := AZURE.match(path):
        repo = "/".join(unquote(g) for g in m.group(1, 2, 3))
        context = body.get("context") if isinstance(body.get("context"), dict) else {}
        state = body.get("state", "notSet")
        if state not in STATES["azure"] or not context.get("name"):
            return handler.reply(400, {"message": "The status context name is required and the state must be valid.",
                                       "typeKey": "InvalidArgumentValueException"})
        iteration = body.get("iterationId")
        sha = f"iteration:{iteration}" if iteration is not None else "pr"
        entry = record(lock, "azure", repo, sha, state, context["name"], body.get("description"),
                       body.get("targetUrl"), body, pr=int(m.group(4)))
        return handler.reply(200, {"id": entry["id"], "state": state, "description": body.get("description"),
                                   "context": context, "targetUrl": body.get("targetUrl"),
                                   "iterationId": iteration})
    return None


def record(lock, provider, repo, sha, state, name, description, url, body, pr=None):
    with lock:
        entry = {"id": len(RECORDED) + 1, "provider": provider, "repo": repo, "sha": sha, "state": state,
                 "name": name, "description": description, "url": url, "body": body}
        if pr is not None:
            entry["pr"] = pr
        RECORDED.append(entry)
        return entry
