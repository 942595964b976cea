"""The providers' source APIs for the indexer (docs/index.md, "Source"), served from
repositories the tests register (Python stdlib only; used by standin.py).

A test registers commits with POST /_control/source:
  {"provider": "github", "repo": "o/r", "branch": "main",
   "files": {"path": "text", ...} | "dir": "/a/local/directory",
   "remove": ["path", ...], "broken": "truncated" | "dotdot" | "symlink" | "huge"}
Each call makes a new commit (on top of the previous one: `files` add or replace,
`remove` deletes) that becomes the branch's head; the answer is {"sha": "..."}.

Shapes, from each provider's REST documentation:
  GitHub   GET /repos/{o}/{r}/commits/{ref} ({"sha"}), GET /repos/{o}/{r}/tarball/{sha}
           (302 to the download, as api.github.com answers with codeload.github.com),
           GET /repos/{o}/{r}/compare/{base}...{head} (status, files[].filename/status/
           previous_filename), GET /repos/{o}/{r}/contents/{path}?ref= (raw media type)
  GitLab   GET /projects/:id/repository/branches/:branch (commit.id),
           GET /projects/:id/repository/archive.tar.gz?sha=, GET …/repository/compare
           (diffs[].old_path/new_path/new_file/renamed_file/deleted_file),
           GET …/repository/files/:path/raw?ref=
  Bitbucket GET /2.0/repositories/{w}/{r} (mainbranch.name), …/refs/branches/{b}
           (target.hash), GET /{w}/{r}/get/{sha}.tar.gz (bitbucket.org),
           …/diffstat/{spec} (values[].status/old.path/new.path), …/src/{sha}/{path}
  Azure    GET …/repositories/{r}/refs?filter=heads/{b} (value[].name/objectId),
           GET …/items?path=/&$format=zip&versionDescriptor.version= (zip),
           GET …/diffs/commits?baseVersion=&targetVersion= (changes[].item.path/
           changeType), GET …/items?path=&versionDescriptor.version= (the file)
"""

import gzip
import hashlib
import io
import os
import re
import tarfile
import zipfile
from urllib.parse import parse_qs, unquote

SOURCES = {}


def key(provider, repo):
    return f"{provider}:{repo.lower()}"


def register(body):
    """A new commit of a repository; returns its sha."""
    k = key(body.get("provider", "github"), body["repo"])
    src = SOURCES.setdefault(k, {"branch": body.get("branch", "main"), "commits": []})
    files = dict(src["commits"][-1]["files"]) if src["commits"] else {}
    if body.get("dir"):
        root = body["dir"]
        for base, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                full = os.path.join(base, name)
                if os.path.islink(full) or not os.path.isfile(full):
                    continue
                with open(full, "rb") as f:
                    files[os.path.relpath(full, root).replace(os.sep, "/")] = f.read()
    for path, text in (body.get("files") or {}).items():
        files[path] = text.encode() if isinstance(text, str) else bytes(text)
    for path in body.get("remove") or []:
        files.pop(path, None)
    digest = hashlib.sha1()
    digest.update(str(len(src["commits"])).encode())
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + files[path])
    sha = digest.hexdigest()
    src["commits"].append({"sha": sha, "files": files, "broken": body.get("broken")})
    return sha


def commit(src, sha):
    for c in src["commits"]:
        if c["sha"] == sha or (len(sha) >= 7 and c["sha"].startswith(sha)):
            return c
    return None


def tarball(top, c):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for path, data in sorted(c["files"].items()):
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        broken = c.get("broken")
        if broken == "dotdot":
            info = tarfile.TarInfo(f"{top}/../../evil.py")
            info.size = 4
            tar.addfile(info, io.BytesIO(b"x=1\n"))
        elif broken == "symlink":
            info = tarfile.TarInfo(f"{top}/leak")
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
    data = raw.getvalue()
    if broken_huge(c):
        # A header that claims 10 GB, followed by a little data and the end.
        info = tarfile.TarInfo(f"{top}/huge.py")
        info.size = 10 << 30
        header = info.tobuf(format=tarfile.GNU_FORMAT)
        data = header + b"a" * 4096
    out = gzip.compress(data, compresslevel=1)
    if c.get("broken") == "truncated":
        out = out[: len(out) // 2]
    return out


def broken_huge(c):
    return c.get("broken") == "huge"


def zipball(c):
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in sorted(c["files"].items()):
            z.writestr(path, data)
        if c.get("broken") == "dotdot":
            z.writestr("../evil.cs", b"class E {}")
    out = raw.getvalue()
    if c.get("broken") == "truncated":
        out = out[: len(out) // 2]
    return out


def changes(src, base, head):
    """(added/modified paths, removed paths) from base to head."""
    a, b = commit(src, base), commit(src, head)
    if a is None or b is None:
        return None
    upserts = sorted(p for p, d in b["files"].items() if a["files"].get(p) != d)
    removed = sorted(p for p in a["files"] if p not in b["files"])
    return a, b, upserts, removed


def handle(h, method, path, query):
    """Serves a source request; None when the request is not one (or names no source)."""
    if method != "GET":
        return None
    q = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    m = re.match(r"^/_download/([a-z]+)/(.+)/([0-9a-f]+)\.(tar\.gz|zip)$", path)
    if m:
        src = SOURCES.get(key(m.group(1), m.group(2)))
        c = src and commit(src, m.group(3))
        if not c:
            return done(h, 404, {"message": "Not Found"})
        return done(h, 200, tarball(top_dir(m.group(2), c["sha"]), c), {"content-type": "application/x-gzip"})
    for provider, pattern in ROUTES:
        m = re.match(pattern, path)
        if not m:
            continue
        repo = repo_of(provider, m)
        src = SOURCES.get(key(provider, repo))
        if src is None:
            return None
        known, permission = h.permission(provider, repo)
        if not known:
            return done(h, 401, {"message": "Bad credentials"})
        if permission is None:
            return done(h, 404, {"message": "Not Found"})
        return ANSWERS[provider](h, src, repo, m.group("rest"), q)
    return None


def done(h, *args):
    """Answers the request: it is one of ours (None from a handler means it is not)."""
    h.reply(*args)
    return True


def top_dir(repo, sha):
    return f"{repo.replace('/', '-')}-{sha[:7]}"


def repo_of(provider, m):
    if provider == "azure":
        return "/".join(unquote(m.group(g)) for g in ("org", "project", "name"))
    return unquote(m.group("repo"))


ROUTES = [
    ("github", r"^(?:/api/v3)?/repos/(?P<repo>[^/]+/[^/]+)/(?P<rest>(?:commits|tarball|contents)/.+|compare/.+)$"),
    ("gitlab", r"^/api/v4/projects/(?P<repo>[^/]+)/(?P<rest>repository/(?:branches/.+|archive\.tar\.gz|compare|files/.+/raw))$"),
    ("bitbucket", r"^/2\.0/repositories/(?P<repo>[^/]+/[^/]+)(?P<rest>|/refs/branches/.+|/diffstat/.+|/src/.+)$"),
    ("bitbucket", r"^/(?P<repo>[^/_][^/]*/[^/]+)/(?P<rest>get/[0-9a-f]+\.tar\.gz)$"),
    ("azure", r"^/(?P<org>[^/]+)/(?P<project>[^/]+)/_apis/git/repositories/(?P<name>[^/]+)/(?P<rest>refs|items|diffs/commits)$"),
]


def github(h, src, repo, rest, q):
    if rest.startswith("commits/"):
        ref = unquote(rest[len("commits/"):])
        c = src["commits"][-1] if ref == src["branch"] else commit(src, ref)
        return done(h, 200, {"sha": c["sha"]}) if c else done(h, 404, {"message": "Not Found"})
    if rest.startswith("tarball/"):
        c = commit(src, rest[len("tarball/"):])
        if not c:
            return done(h, 404, {"message": "Not Found"})
        return done(h, 302, b"", {"location": f"/_download/github/{repo}/{c['sha']}.tar.gz"})
    if rest.startswith("contents/"):
        c = commit(src, q.get("ref", ""))
        data = c and c["files"].get(unquote(rest[len("contents/"):]))
        if data is None:
            return done(h, 404, {"message": "Not Found"})
        return done(h, 200, data, {"content-type": "application/vnd.github.raw"})
    m = re.match(r"^compare/([0-9a-f]+)\.\.\.([0-9a-f]+)$", rest)
    found = m and changes(src, m.group(1), m.group(2))
    if not found:
        return None
    a, b, upserts, removed = found
    ahead = src["commits"].index(b) >= src["commits"].index(a)
    files = [{"filename": p, "status": "added" if p not in a["files"] else "modified"} for p in upserts]
    files += [{"filename": p, "status": "removed"} for p in removed]
    return done(h, 200, {"status": "ahead" if ahead else "behind", "files": files})


def gitlab(h, src, repo, rest, q):
    if rest.startswith("repository/branches/"):
        c = src["commits"][-1]
        return done(h, 200, {"name": src["branch"], "commit": {"id": c["sha"]}})
    if rest == "repository/archive.tar.gz":
        c = commit(src, q.get("sha", ""))
        if not c:
            return done(h, 404, {"message": "404 Not Found"})
        return done(h, 200, tarball(top_dir(repo, c["sha"]), c), {"content-type": "application/x-gzip"})
    if rest == "repository/compare":
        found = changes(src, q.get("from", ""), q.get("to", ""))
        if not found:
            return None
        a, _, upserts, removed = found
        diffs = [{"old_path": p, "new_path": p, "new_file": p not in a["files"], "renamed_file": False,
                  "deleted_file": False} for p in upserts]
        diffs += [{"old_path": p, "new_path": p, "new_file": False, "renamed_file": False, "deleted_file": True}
                  for p in removed]
        return done(h, 200, {"diffs": diffs, "overflow": False})
    m = re.match(r"^repository/files/(.+)/raw$", rest)
    c = commit(src, q.get("ref", ""))
    data = c and c["files"].get(unquote(m.group(1)))
    return done(h, 404, {"message": "404 File Not Found"}) if data is None else done(h, 200, data, {"content-type": "text/plain"})


def bitbucket(h, src, repo, rest, q):
    if rest == "":
        return done(h, 200, {"full_name": repo, "mainbranch": {"name": src["branch"], "type": "branch"}})
    if rest.startswith("/refs/branches/"):
        return done(h, 200, {"name": src["branch"], "target": {"hash": src["commits"][-1]["sha"]}})
    if rest.startswith("get/"):
        c = commit(src, rest[len("get/"):-len(".tar.gz")])
        if not c:
            return done(h, 404, {"type": "error"})
        return done(h, 200, tarball(top_dir(repo, c["sha"]), c), {"content-type": "application/x-gzip"})
    m = re.match(r"^/diffstat/([0-9a-f]+)\.\.([0-9a-f]+)$", rest)
    if m:
        found = changes(src, m.group(2), m.group(1))
        if not found:
            return None
        a, _, upserts, removed = found
        values = [{"status": "added" if p not in a["files"] else "modified", "old": None if p not in a["files"] else {"path": p},
                   "new": {"path": p}} for p in upserts]
        values += [{"status": "removed", "old": {"path": p}, "new": None} for p in removed]
        return done(h, 200, {"values": values, "pagelen": 500, "page": 1})
    m = re.match(r"^/src/([0-9a-f]+)/(.+)$", rest)
    c = m and commit(src, m.group(1))
    data = c and c["files"].get(unquote(m.group(2)))
    return done(h, 404, {"type": "error"}) if data is None else done(h, 200, data, {"content-type": "text/plain"})


def azure(h, src, repo, rest, q):
    if rest == "refs":
        return done(h, 200, {"count": 1, "value": [{"name": f"refs/heads/{src['branch']}",
                                                    "objectId": src["commits"][-1]["sha"]}]})
    if rest == "diffs/commits":
        found = changes(src, q.get("baseVersion", ""), q.get("targetVersion", ""))
        if not found:
            return None
        a, _, upserts, removed = found
        out = [{"item": {"path": "/" + p, "isFolder": False}, "changeType": "add" if p not in a["files"] else "edit"}
               for p in upserts]
        out += [{"item": {"path": "/" + p, "isFolder": False}, "changeType": "delete"} for p in removed]
        return done(h, 200, {"changes": out, "allChangesIncluded": True})
    c = commit(src, q.get("versionDescriptor.version", ""))
    if not c:
        return None
    if q.get("$format") == "zip":
        return done(h, 200, zipball(c), {"content-type": "application/zip"})
    data = c["files"].get(q.get("path", "").lstrip("/"))
    return done(h, 404, {"message": "TF401174"}) if data is None else done(h, 200, data, {"content-type": "text/plain"})


ANSWERS = {"github": github, "gitlab": gitlab, "bitbucket": bitbucket, "azure": azure}


def default_branch(provider, repo):
    src = SOURCES.get(key(provider, repo))
    return src and src["branch"]
