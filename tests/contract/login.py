"""Signs up a person for the contract fuzz and mints an API key of their org, as the
console does (JSON bodies, the session cookie). Prints the org slug, the session token and
the key, one a line."""

import json
import sys
import urllib.request
import uuid

api = sys.argv[1].rstrip("/")
tag = uuid.uuid4().hex[:10]
slug = f"fuzz-{tag}"


def call(method, path, body, cookie=None):
    req = urllib.request.Request(
        api + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={"content-type": "application/json"},
    )
    if cookie:
        req.add_header("cookie", f"agnus_session={cookie}")
    with urllib.request.urlopen(req, timeout=120) as res:
        return res, json.loads(res.read() or b"{}")


res, _ = call(
    "POST",
    "/api/auth/signup",
    {"email": f"{slug}@example.com", "password": f"contract-{tag}-password", "orgName": "Fuzz", "orgSlug": slug},
)
cookie = next(
    c.split(";")[0].split("=", 1)[1]
    for c in res.headers.get_all("set-cookie")
    if c.startswith("agnus_session=")
)
_, key = call("POST", f"/api/orgs/{slug}/api-keys", {"name": "contract fuzz", "role": "admin"}, cookie)
print(slug)
print(cookie)
print(key["key"])
