"""GitHub Apps, as the stand-in plays them (issue 32: bot identity). Python stdlib only.

Shapes and rules from GitHub's REST reference (API version 2022-11-28) and its guides
"Generating a JSON Web Token (JWT) for a GitHub App" and "Generating an installation access
token for a GitHub App":
  GET  [/api/v3]/app/installations/{id}                  as the app (JWT) → the installation
       {id, app_id, app_slug, account: {login, id, type}, repository_selection, permissions,
        suspended_at, …}; 404 for another app's or an unknown installation
  POST [/api/v3]/app/installations/{id}/access_tokens    as the app (JWT), body
       {repositories?: [name], repository_ids?: [id], permissions?: {…}} → 201 {token, expires_at,
        permissions, repository_selection, repositories?}; a repository the installation
        cannot see: 422; more permissions than the installation has: 422
  GET  [/api/v3]/installation/repositories?per_page&page  with an installation token →
       {total_count, repository_selection, repositories: [{id, name, full_name, private, owner}]}
The JWT is checked as GitHub does: three parts, header alg RS256, an RSASSA-PKCS1-v1_5
SHA-256 signature under the app's public key, `iss` the app id (string or number), `iat` and
`exp` numbers, `exp` in the future and at most 10 minutes after `iat`, `iat` not more than 60 s
ahead. A refused JWT is a 401 {"message": "A JSON web token could not be decoded"} (or
"'Expiration time' claim ('exp') is too far in the future", as GitHub says it).

Installation tokens (`ghs_…`) last an hour. Every GitHub request carrying one is checked
(`guard`): unknown or expired → 401 Bad credentials; a `/repos/{owner}/{repo}/…` path outside
the token's repositories → 404, as GitHub answers.

Control:
  POST /_control/app      {"appId", "slug", "publicKey": base64 of the PKCS#1 RSAPublicKey DER,
                           "installations": [{"id", "account", "repos": ["owner/name", …],
                           "permissions": {…} (default contents read, pull_requests write,
                           statuses write, metadata read)}]}
  POST /_control/app/remove {"installationId"}   the installation is gone on GitHub (uninstalled):
                           404 from then on, and its tokens are refused
  GET  /_control/app/tokens the tokens minted so far: [{"token", "installation", "repos"}]
"""

import base64
import hashlib
import json
import re
import secrets
import time

APPS = {}  # app id (str) -> {"slug", "n", "e"}
INSTALLATIONS = {}  # installation id (int) -> {"app", "account", "repos", "permissions"}
TOKENS = {}  # token -> {"installation", "repos", "expires"}
MINTED = []

DEFAULT_PERMISSIONS = {"contents": "read", "pull_requests": "write", "statuses": "write", "metadata": "read"}
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
BAD_JWT = {"message": "A JSON web token could not be decoded", "documentation_url": "https://docs.github.com/rest"}
BAD_CREDENTIALS = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}

INSTALLATION = re.compile(r"^(?:/api/v3)?/app/installations/(\d+)(/access_tokens)?$")
REPOSITORIES = re.compile(r"^(?:/api/v3)?/installation/repositories$")
REPO_PATH = re.compile(r"^(?:/api/v3)?/repos/([^/]+)/([^/]+)(?:/|$)")


def der_element(der, at):
    """(tag, content start, content end) of the DER element at `at`."""
    tag, first = der[at], der[at + 1]
    if first < 0x80:
        return tag, at + 2, at + 2 + first
    n = first & 0x7F
    length = int.from_bytes(der[at + 2 : at + 2 + n], "big")
    return tag, at + 2 + n, at + 2 + n + length


def public_numbers(der):
    """(n, e) of a PKCS#1 RSAPublicKey."""
    _, body, _ = der_element(der, 0)
    _, n_start, n_end = der_element(der, body)
    _, e_start, e_end = der_element(der, n_end)
    return int.from_bytes(der[n_start:n_end], "big"), int.from_bytes(der[e_start:e_end], "big")


def b64url(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verify_jwt(jwt, now=None):
    """The app of a valid JWT, or (None, why)."""
    now = int(now if now is not None else time.time())
    parts = jwt.split(".")
    if len(parts) != 3:
        return None, BAD_JWT
    try:
        header, claims, signature = json.loads(b64url(parts[0])), json.loads(b64url(parts[1])), b64url(parts[2])
    except (ValueError, TypeError):
        return None, BAD_JWT
    if header.get("alg") != "RS256":
        return None, BAD_JWT
    app = APPS.get(str(claims.get("iss")))
    iat, exp = claims.get("iat"), claims.get("exp")
    if app is None or not isinstance(iat, int) or not isinstance(exp, int):
        return None, BAD_JWT
    n, e = app["n"], app["e"]
    k = (n.bit_length() + 7) // 8
    digest = SHA256_DIGEST_INFO + hashlib.sha256(f"{parts[0]}.{parts[1]}".encode()).digest()
    expected = b"\x00\x01" + b"\xff" * (k - 3 - len(digest)) + b"\x00" + digest
    if len(signature) != k or pow(int.from_bytes(signature, "big"), e, n).to_bytes(k, "big") != expected:
        return None, BAD_JWT
    if exp - iat > 600:
        return None, {"message": "'Expiration time' claim ('exp') is too far in the future"}
    if exp <= now or iat > now + 60:
        return None, {"message": "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"}
    return str(claims.get("iss")), None


def bearer(h):
    auth = h.headers.get("authorization") or ""
    for scheme in ("Bearer ", "token "):
        if auth.startswith(scheme):
            return auth[len(scheme):]
    return ""


def register(body):
    app = str(body["appId"])
    n, e = public_numbers(base64.b64decode(body["publicKey"]))
    APPS[app] = {"slug": body["slug"], "n": n, "e": e}
    for inst in body.get("installations", []):
        INSTALLATIONS[int(inst["id"])] = {
            "app": app,
            "account": inst.get("account", "acme"),
            "repos": [r.lower() for r in inst.get("repos", [])],
            "permissions": inst.get("permissions", DEFAULT_PERMISSIONS),
        }
    return {"ok": True}


def remove(body):
    gone = int(body["installationId"])
    INSTALLATIONS.pop(gone, None)
    for token in [t for t, v in TOKENS.items() if v["installation"] == gone]:
        TOKENS.pop(token)
    return {"ok": True}


def installation_json(iid, inst):
    app = APPS[inst["app"]]
    return {
        "id": iid,
        "app_id": int(inst["app"]),
        "app_slug": app["slug"],
        "client_id": f"Iv1.{inst['app']}",
        "account": {"login": inst["account"], "id": 1000 + iid, "type": "Organization"},
        "repository_selection": "selected",
        "access_tokens_url": f"https://api.github.com/app/installations/{iid}/access_tokens",
        "repositories_url": "https://api.github.com/installation/repositories",
        "target_type": "Organization",
        "permissions": inst["permissions"],
        "events": ["pull_request", "issue_comment"],
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "suspended_at": None,
    }


def repo_json(full_name):
    owner, name = full_name.split("/", 1)
    return {"id": abs(hash(full_name)) % 10**9, "name": name, "full_name": full_name, "private": True,
            "owner": {"login": owner, "type": "Organization"}}


def handle(h, method, path, query, body, lock):
    """The app endpoints; None: not such a request."""
    m = INSTALLATION.match(path)
    if m:
        with lock:
            app, why = verify_jwt(bearer(h))
            if app is None:
                return h.reply(401, why)
            iid = int(m.group(1))
            inst = INSTALLATIONS.get(iid)
            if inst is None or inst["app"] != app:
                return h.reply(404, {"message": "Not Found"})
            if m.group(2) is None and method == "GET":
                return h.reply(200, installation_json(iid, inst))
            if m.group(2) and method == "POST":
                return mint(h, iid, inst, body if isinstance(body, dict) else {})
        return h.reply(404, {"message": "Not Found"})
    if REPOSITORIES.match(path) and method == "GET":
        with lock:
            grant = TOKENS.get(bearer(h))
            if grant is None or grant["expires"] <= time.time():
                return h.reply(401, BAD_CREDENTIALS)
            repos = grant["repos"]
            q = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
            page, size = int(q.get("page", "1")), min(int(q.get("per_page", "30")), 100)
            chosen = repos[(page - 1) * size : page * size]
            return h.reply(200, {"total_count": len(repos), "repository_selection": "selected",
                                 "repositories": [repo_json(r) for r in chosen]})
    return None


def mint(h, iid, inst, body):
    names = body.get("repositories")
    repos = inst["repos"]
    if names is not None:
        wanted = []
        for name in names:
            found = [r for r in inst["repos"] if r.split("/", 1)[1] == str(name).lower()]
            if not found:
                return h.reply(422, {"message": "There is at least one repository that does not exist or is not accessible to the parent installation.",
                                     "documentation_url": "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app"})
            wanted.extend(found)
        repos = wanted
    for name, level in (body.get("permissions") or {}).items():
        has = inst["permissions"].get(name)
        if has is None or (level == "write" and has == "read"):
            return h.reply(422, {"message": "The permissions requested are not granted to this installation."})
    token = "ghs_" + secrets.token_urlsafe(27)[:36]
    expires = time.time() + 3600
    TOKENS[token] = {"installation": iid, "repos": repos, "expires": expires}
    MINTED.append({"token": token, "installation": iid, "repos": repos})
    answer = {
        "token": token,
        "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
        "permissions": inst["permissions"],
        "repository_selection": "selected",
    }
    if names is not None:
        answer["repositories"] = [repo_json(r) for r in repos]
    return h.reply(201, answer)


def permission(token, repo):
    """(known token?, its permission on repo or None), as the access answers read it: an
    unexpired installation token may write to its repositories (the installation's
    `contents`/`pull_requests` permissions)."""
    grant = TOKENS.get(token)
    if grant is None or grant["expires"] <= time.time():
        return False, None
    return True, ("write" if repo.lower() in grant["repos"] else None)


def guard(h, path, lock):
    """An installation token on any other GitHub request: refused when unknown or expired,
    404 outside its repositories. None: go on."""
    token = bearer(h)
    if not token.startswith("ghs_"):
        return None
    with lock:
        grant = TOKENS.get(token)
        if grant is None or grant["expires"] <= time.time():
            return h.reply(401, BAD_CREDENTIALS)
        m = REPO_PATH.match(path)
        if m and f"{m.group(1)}/{m.group(2)}".lower() not in grant["repos"]:
            return h.reply(404, {"message": "Not Found"})
    return None


def control(h, path, body):
    """The app controls; None: not one."""
    if path == "/_control/app":
        return h.reply(200, register(body))
    if path == "/_control/app/remove":
        return h.reply(200, remove(body))
    if path == "/_control/app/tokens":
        return h.reply(200, MINTED)
    return None
