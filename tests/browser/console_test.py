"""Browser tests of the web console, in a real Chromium (Debian's, /usr/bin/chromium).

Drives the main flows through a running `make dev` (AGNUS_CONSOLE_URL, default
http://localhost:3000) and, on every page reached: axe-core finds no serious or critical
violation, no script error and no failed request happened, and screenshots at 1280 px and
390 px land in target/console-screens/. Run by scripts/browser-test.sh (from `make test`).
"""

import base64
import os
import random
import subprocess
import pathlib
import re
import sys
import time
import traceback
import uuid
import json
import urllib.request
from urllib.parse import urlparse

from playwright.sync_api import expect, sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]
BASE = os.environ.get("AGNUS_CONSOLE_URL", "http://localhost:3000").rstrip("/")
AXE = pathlib.Path(os.environ["AGNUS_AXE_JS"]).read_text()
SCREENS = ROOT / os.environ.get("AGNUS_CONSOLE_SCREENS", "target/console-screens")
# The address `make dev` listens on (AGNUS_API_URL: 127.0.0.1). Chromium resolves
# "localhost" itself, to ::1 first: any other program listening on [::1] (or [::]) at the
# same port would get the browser's requests instead of the instance under test; a new
# browser context (the invited guest's) opens new connections and can land there while
# the owner's kept ones still reach ours. Pin localhost to the address we started.
DEV_HOST = urlparse(os.environ.get("AGNUS_API_URL", "http://127.0.0.1")).hostname or "127.0.0.1"
CHROMIUM_ARGS = [
    f"--host-resolver-rules=MAP localhost {DEV_HOST}",
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RUN = uuid.uuid4().hex[:6]
PASSWORD = "correct horse battery staple"
expect.set_options(timeout=30_000)


WATCHES = []


class Watch:
    """Collects script errors, CSP violations and failed requests of one browser context."""

    def __init__(self, context, name):
        WATCHES.append(self)
        self.name = name
        self.problems = []
        self.allowed = set()  # (status, path prefix) expected by the current step
        context.on("page", self.attach)

    def attach(self, page):
        page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))
        page.on("console", self.on_console)
        page.on("requestfailed", self.on_failed)
        page.on("response", self.on_response)
        page.on("dialog", lambda d: d.accept())

    def on_console(self, msg):
        if msg.type != "error":
            return
        # Resource errors are judged by on_response (some 4xx are the expected answer).
        if msg.text.startswith("Failed to load resource"):
            return
        self.problems.append(f"console error: {msg.text}")

    def on_failed(self, req):
        failure = req.failure or ""
        # A navigation away cancels in-flight requests; that is not a failure.
        if "ERR_ABORTED" in failure:
            return
        self.problems.append(f"request failed: {req.method} {urlparse(req.url).path} {failure}")

    def on_response(self, resp):
        if resp.status < 400:
            return
        path = urlparse(resp.url).path
        if resp.status == 401 and path == "/api/auth/me":
            return  # "am I logged in?" asked by pages a logged-out visitor opens
        if any(resp.status == s and path.startswith(p) for s, p in self.allowed):
            return
        self.problems.append(f"failed request: {resp.request.method} {path} -> {resp.status}")

    def take(self):
        out, self.problems = self.problems, []
        return out



def grant_write_access(repo: str, token: str) -> None:
    """Connecting proves write access at the provider: grant it on the GitHub stand-in
    (tests/standins/standin.py, started by scripts/browser-test.sh), and serve the
    repository's code."""
    body = json.dumps({"repo": repo, "token": token, "permission": "write"}).encode()
    req = urllib.request.Request(f"{os.environ['AGNUS_STANDIN_URL']}/_control/access", data=body,
                                 method="POST", headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200, f"stand-in grant: {r.status}"
    # Its default branch, for the indexer (the stand-in's source APIs: tests/standins/sources.py).
    files = {
        "engine/core.py": "def run(job):\n    return step(job)\n\n\ndef step(job):\n    return job\n",
        "engine/cli.py": "from engine.core import run\n\n\ndef main():\n    return run(1)\n",
        "web/app.ts": "export function start(): number {\n  return 1;\n}\n",
    }
    body = json.dumps({"repo": repo, "branch": "main", "files": files}).encode()
    req = urllib.request.Request(f"{os.environ['AGNUS_STANDIN_URL']}/_control/source", data=body,
                                 method="POST", headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200, f"stand-in source: {r.status}"

def github_app(repos):
    """A GitHub App on the stand-in (tests/standins/apps.py) whose installation sees `repos`:
    a fresh RSA key made with openssl; (PEM, app id, installation id, app slug)."""
    pem = subprocess.run(["openssl", "genrsa", "2048"], check=True, capture_output=True, text=True).stdout
    public = subprocess.run(["openssl", "rsa", "-RSAPublicKey_out", "-outform", "DER"], input=pem.encode(),
                            check=True, capture_output=True).stdout
    app_id, installation = 700000 + random.randrange(100000), 800000 + random.randrange(100000)
    slug = f"agnus-{app_id}"
    body = json.dumps({"appId": app_id, "slug": slug, "publicKey": base64.b64encode(public).decode(),
                       "installations": [{"id": installation, "account": "octocat", "repos": repos}]}).encode()
    req = urllib.request.Request(f"{os.environ['AGNUS_STANDIN_URL']}/_control/app", data=body,
                                 method="POST", headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200, f"stand-in app: {r.status}"
    for repo in repos:
        grant_write_access(repo, "ghp_unused_" + repo.replace("/", "_"))
    return pem, app_id, installation, slug


def settle(page):
    page.wait_for_load_state("networkidle")
    expect(page.locator("main .loading")).to_have_count(0)
    expect(page.locator("main[aria-busy]")).to_have_count(0)


def check(page, watch, name):
    """axe scan, error check and screenshots of the page as it is now."""
    settle(page)
    page.evaluate(AXE + "\n;true")
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, { resultTypes: ["violations"] });
          return r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ")}`);
        }"""
    )
    assert not result, f"{name}: accessibility violations:\n  " + "\n  ".join(result)
    problems = watch.take()
    assert not problems, f"{name}: " + "; ".join(problems)
    SCREENS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(50)
        page.screenshot(path=str(SCREENS / f"{name}-{width}.png"), full_page=True)
        # Nothing may overflow sideways at 390 px (usable on a phone).
        if width == 390:
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{name}: page is {overflow}px wider than a 390px screen"
            # Nor may a table hide columns behind a sideways scroll: its rows stack there.
            hidden = page.evaluate("""[...document.querySelectorAll('.table-wrap')]
                .filter((w) => w.scrollWidth - w.clientWidth > 1)
                .map((w) => `${w.getAttribute('aria-label')}: ${w.scrollWidth - w.clientWidth}px`)""")
            assert not hidden, f"{name}: tables scroll sideways at 390 px: {hidden}"
    page.set_viewport_size({"width": 1280, "height": 900})
    CHECKED.append(name)


CHECKED = []


def goto(page, path):
    """Opens `path` on the console, or a whole URL (a link the API issued) as it is."""
    url = path if path.startswith(("http://", "https://")) else BASE + path
    resp = page.goto(url)
    assert resp is not None and resp.ok, f"GET {path} -> {resp and resp.status}"
    h = resp.headers
    assert "script-src 'self'" in h["content-security-policy"] and "unsafe" not in h["content-security-policy"]
    assert h["x-frame-options"] == "DENY" and h["referrer-policy"] == "same-origin"
    assert h["cache-control"] == "no-store"
    return resp


def signup(page, email, org_name):
    goto(page, "/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Organization name").fill(org_name)


def run(browser):
    owner_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    watch = Watch(owner_ctx, "owner")
    page = owner_ctx.new_page()
    acme = f"acme-{RUN}"
    beta = f"beta-{RUN}"
    owner = f"ada-{RUN}@example.com"

    # --- signup → lands in the new org (slug suggested from the name, editable) ---
    signup(page, owner, f"Acme {RUN}")
    slug = page.get_by_label("URL name (slug)")
    expect(slug).to_have_value(acme)
    check(page, watch, "signup")
    page.get_by_role("button", name="Create account and organization").click()
    page.wait_for_url(f"**/orgs/{acme}/onboarding")
    expect(page.get_by_role("heading", name="Get started")).to_be_visible()
    expect(page.get_by_role("heading", name="Your webhook secrets (shown once)")).to_be_visible()
    expect(page.locator("code.secret").first).to_have_text(re.compile(r"^\S{32,}$"))
    check(page, watch, "onboarding-first-visit")

    # --- a second org, then switch between them on the same page ---
    page.get_by_role("button", name=re.compile(f"Acme {RUN}")).click()
    page.get_by_role("link", name="+ Create organization").click()
    page.wait_for_url("**/orgs/new")
    page.get_by_label("Organization name").fill(f"Beta {RUN}")
    check(page, watch, "new-org")
    page.get_by_role("button", name="Create organization").click()
    page.wait_for_url(f"**/orgs/{beta}/onboarding")
    page.get_by_role("link", name="Members").click()
    page.wait_for_url(f"**/orgs/{beta}/members")
    settle(page)
    page.get_by_role("button", name=re.compile(f"Beta {RUN}")).click()
    switcher = page.locator("#org-switcher-panel")
    expect(switcher.get_by_role("link", name=re.compile(f"Acme {RUN}.*owner"))).to_be_visible()
    check(page, watch, "org-switcher-open")
    switcher.get_by_role("link", name=re.compile(f"Acme {RUN}")).click()
    page.wait_for_url(f"**/orgs/{acme}/members")
    expect(page.get_by_role("button", name=re.compile(f"Acme {RUN}"))).to_be_visible()
    # The last org used is remembered.
    goto(page, "/")
    page.wait_for_url(f"**/orgs/{acme}/onboarding")
    settle(page)

    # --- invite → accept in a second browser → member ---
    goto(page, f"/orgs/{acme}/members")
    grace = f"grace-{RUN}@example.com"
    page.get_by_label("Email", exact=True).fill(grace)
    page.get_by_label("Role", exact=True).select_option("member")
    page.get_by_role("button", name="Send invitation").click()
    link = page.locator(".invite-link code")
    expect(link).to_contain_text("/invite/")
    # The link is opened exactly as issued (as from the mail): it must point at the
    # console's own origin (AGNUS_APP_BASE_URL), where the invitee's session cookie lives.
    invite_link = link.inner_text().strip()
    assert urlparse(invite_link).netloc == urlparse(BASE).netloc, f"{invite_link} is not on {BASE}"
    expect(page.get_by_role("cell", name=grace)).to_be_visible()
    # The owner cannot be removed and cannot leave: shown disabled with the reason.
    expect(page.get_by_role("button", name="Leave organization")).to_be_disabled()
    expect(page.get_by_text("Transfer ownership first").first).to_be_visible()
    check(page, watch, "members-owner")

    guest_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    gwatch = Watch(guest_ctx, "guest")
    guest = guest_ctx.new_page()
    goto(guest, invite_link)
    expect(guest.get_by_text(f"{owner} invited you")).to_be_visible()
    expect(guest.locator("main strong", has_text=f"Acme {RUN}")).to_be_visible()
    check(guest, gwatch, "invite-new-user")
    guest.get_by_label("Choose a password").fill(PASSWORD)
    guest.get_by_role("button", name="Accept and create account").click()
    guest.wait_for_url(f"**/orgs/{acme}/onboarding")
    settle(guest)
    goto(guest, f"/orgs/{acme}/members")
    expect(guest.get_by_role("button", name="Remove").first).to_be_disabled()
    expect(guest.get_by_text("Only owners and admins can do this").first).to_be_visible()
    check(guest, gwatch, "members-as-member")
    # The link is single use: 410 page.
    gwatch.allowed = {(410, "/api/invites/")}
    goto(guest, invite_link)
    expect(guest.get_by_role("heading", name="This invitation is no longer valid")).to_be_visible()
    check(guest, gwatch, "invite-used")
    gwatch.allowed = set()

    page.reload()
    settle(page)
    row = page.get_by_role("row").filter(has_text=grace)
    expect(row.get_by_role("combobox")).to_have_value("member")
    # A second invitation opened by the wrong (logged-in) account.
    hal = f"hal-{RUN}@example.com"
    page.get_by_label("Email", exact=True).fill(hal)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".invite-link")).to_contain_text(hal)
    hal_link = page.locator(".invite-link code").inner_text().strip()
    goto(guest, hal_link)
    expect(guest.get_by_role("heading", name="Wrong account")).to_be_visible()
    check(guest, gwatch, "invite-wrong-account")

    # --- rotate a secret: shown once, masked after reload ---
    goto(page, f"/orgs/{acme}/webhooks")
    settle(page)
    github = page.locator("section.card").filter(has=page.get_by_role("heading", name="GitHub", exact=True))
    github.get_by_role("button", name="Rotate secret").click()
    new_secret = github.locator("code.secret")
    expect(new_secret).to_have_text(re.compile(r"^\S{32,}$"))
    secret = new_secret.inner_text().strip()
    expect(github.get_by_text("Secret rotated.")).to_be_visible()
    check(page, watch, "webhooks-rotated")
    goto(page, f"/orgs/{acme}/webhooks")
    settle(page)
    assert secret not in page.content(), "the rotated secret is shown again after a reload"
    expect(github.locator("code.masked")).to_have_text("••••••••" + secret[-4:])
    expect(github.get_by_text("Previous secret accepted until")).to_be_visible()
    check(page, watch, "webhooks")

    # --- connect a repo → onboarding shows the webhook URL ---
    goto(page, f"/orgs/{acme}/repos")
    check(page, watch, "repos-empty")
    page.get_by_label("Provider").select_option("github")
    page.get_by_label("Repository (owner/name or URL)").fill(f"ada/engine-{RUN}")
    token = "ghp_" + "x" * 30 + "7a9Q"
    grant_write_access(f"ada/engine-{RUN}", token)
    page.get_by_label("Access token").fill(token)
    index_reads = []  # the index status responses the onboarding page got, in order

    def index_read(resp):
        if urlparse(resp.url).path.endswith("/index/status") and resp.ok:
            index_reads.append(resp)

    page.on("response", index_read)
    page.get_by_role("button", name="Connect repository").click()
    page.wait_for_url(f"**/orgs/{acme}/onboarding")
    page.locator(".step h2", has_text="Index the code").wait_for()
    # Every text the "Index the code" step shows while the page follows the index (from its
    # first paint on: the next read is POLL_MS later).
    page.evaluate("""() => {
      window.agnusIndexTexts = [];
      const step = [...document.querySelectorAll(".step")].find((s) => s.querySelector("h2").textContent.includes("Index the code"));
      const note = () => window.agnusIndexTexts.push(step.textContent);
      note();
      new MutationObserver(note).observe(step, { subtree: true, childList: true, characterData: true });
    }""")
    settle(page)
    expect(page.locator(".step.done").filter(has_text="Connect a repository")).to_be_visible()
    expect(page.locator(".step").filter(has_text="Configure its webhook").locator("code").first).to_have_text(
        re.compile(f"/api/webhooks/github/{acme}$")
    )
    expect(page.get_by_text("Waiting for the first delivery…")).to_be_visible()
    check(page, watch, "onboarding-repo-connected")
    # --- connecting queued a full index: the step follows it (polling) until it is ready ---
    index_step = page.locator(".step").filter(has=page.get_by_role("heading", name=re.compile("Index the code")))
    stats_sentence = re.compile(r"^[\d,]+ symbols? indexed, [\d,]+ files?, [\d,]+ dependenc(y|ies) \(edges\)")
    expect(index_step.locator(".index-ready")).to_have_text(stats_sentence, timeout=180_000)
    expect(index_step.get_by_role("heading", name="✓ Done Index the code")).to_be_visible()
    page.remove_listener("response", index_read)
    index_seen = [r.json()["index"] for r in index_reads]
    statuses = [i["status"] for i in index_seen if i]
    assert statuses and statuses[-1] == "ready", f"index statuses read: {statuses}"
    order = {"queued": 0, "indexing": 1, "ready": 2}
    assert all(order[a] <= order[b] for a, b in zip(statuses, statuses[1:])), f"index went backwards: {statuses}"
    # Each state the page was in was shown: queued, then the phase and files parsed, then the stats.
    texts = page.evaluate("window.agnusIndexTexts")
    if "queued" in statuses:
        assert any("Queued: waiting for an indexer" in t for t in texts), texts
    if any(i and i["status"] == "indexing" and i["phase"] for i in index_seen):
        assert any(re.search(r"Indexing: [a-z ]+, [\d,]+ (of [\d,]+ )?files? parsed", t) for t in texts), texts
    check(page, watch, "onboarding-index-ready")
    goto(page, f"/orgs/{acme}/repos")
    settle(page)
    assert token not in page.content(), "the repository token is shown after connecting"
    check(page, watch, "repos")
    page.get_by_role("link", name=f"ada/engine-{RUN}").click()
    page.wait_for_url(f"**/orgs/{acme}/repos/*")
    expect(page.get_by_role("heading", name="Review history")).to_be_visible()
    repo_path = urlparse(page.url).path
    index = page.get_by_role("region", name="Index", exact=True)
    expect(index.locator(".badge")).to_have_text("Ready")
    expect(index.get_by_text(stats_sentence)).to_be_visible()
    expect(index.locator("code[title]")).to_have_text(re.compile(r"^[0-9a-f]{7}$"))
    expect(index.get_by_role("button", name="Re-index")).to_be_enabled()
    check(page, watch, "repo-detail")
    # An admin re-indexes: queued, the button disabled while it runs, then ready again.
    index.get_by_role("button", name="Re-index").click()
    expect(index.get_by_text("Indexing queued.")).to_be_visible()
    expect(index.get_by_text("Indexing in progress")).to_be_visible()
    check(page, watch, "repo-reindexing")
    expect(index.locator(".badge")).to_have_text("Ready", timeout=180_000)
    expect(index.get_by_role("button", name="Re-index")).to_be_enabled()
    settle(page)
    watch.take()
    # A member sees the index, not the button.
    goto(guest, repo_path)
    gindex = guest.get_by_role("region", name="Index", exact=True)
    expect(gindex.locator(".badge")).to_have_text("Ready")
    expect(gindex.get_by_text("Owners and admins can re-index the repository.")).to_be_visible()
    expect(gindex.get_by_role("button")).to_have_count(0)
    check(guest, gwatch, "repo-detail-as-member")

    # --- a GitHub App installation: reviews posted as the org's bot; a repo from the picker ---
    pem, app_id, installation, app_slug = github_app([f"ada/bot-{RUN}"])
    goto(page, f"/orgs/{acme}/repos")
    check(page, watch, "repos-no-installation")
    page.get_by_label("App ID").fill(str(app_id))
    page.get_by_label("Installation ID").fill(str(installation))
    page.get_by_label("Private key (.pem)").fill(pem)
    page.get_by_role("button", name="Add installation").click()
    expect(page.get_by_text(f"reviews will be posted as {app_slug}[bot]")).to_be_visible()
    installs = page.get_by_role("region", name="GitHub App installations")
    expect(installs.get_by_role("cell", name=re.compile(f"^{app_slug}"))).to_be_visible()
    picked = page.get_by_role("region", name=re.compile("^Repositories octocat gave"))
    expect(picked.get_by_role("cell", name=f"ada/bot-{RUN}")).to_be_visible()
    check(page, watch, "repos-installation-picker")
    picked.get_by_role("button", name="Connect").click()
    page.wait_for_url(f"**/orgs/{acme}/onboarding")
    goto(page, f"/orgs/{acme}/repos")
    settle(page)
    key_body = pem.splitlines()[1]
    assert key_body not in page.content() and "PRIVATE KEY" not in page.content(), "the app's key is shown"
    expect(page.get_by_role("row").filter(has_text=f"ada/bot-{RUN}").get_by_text("GitHub App")).to_be_visible()
    expect(page.get_by_text(f"{app_slug}[bot]")).to_be_visible()
    check(page, watch, "repos-installation")

    # --- review rules and settings (admins write, the page shows ratings and violations) ---
    goto(page, f"/orgs/{acme}/rules")
    expect(page.get_by_text("No rules yet.")).to_be_visible()
    page.get_by_label("Name").fill("Parameterised SQL")
    page.get_by_label("What reviewers must check").fill("No SQL built by string concatenation.")
    page.get_by_label("Category").select_option("security")
    page.get_by_label("Only paths matching (optional)").fill("src/db/**")
    page.get_by_role("button", name="Add rule").click()
    rules_table = page.get_by_role("region", name="Rules")
    expect(rules_table.get_by_role("cell", name="security")).to_be_visible()
    expect(rules_table.get_by_text("no ratings yet")).to_be_visible()
    rules_table.get_by_role("button", name="Violations").click()
    expect(page.get_by_text("No comment was attributed to this rule in the last 30 days.")).to_be_visible()
    check(page, watch, "rules")
    rules_table.get_by_role("button", name="Edit").click()
    page.get_by_label("Name").fill("Bind parameters only")
    page.get_by_role("button", name="Save rule").click()
    expect(rules_table.get_by_text("Bind parameters only")).to_be_visible()
    rules_table.get_by_role("button", name="Disable").click()
    expect(rules_table.get_by_role("button", name="Enable")).to_be_visible()
    check(page, watch, "rules-edited")
    goto(page, f"/orgs/{acme}/review-settings")
    page.get_by_label("Skip drafts").select_option("off")
    page.get_by_label("Most comments per pull request").fill("10")
    page.get_by_label("Lowest severity posted").select_option("minor")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved. The next review uses them.")).to_be_visible()
    check(page, watch, "review-settings")
    page.reload()
    settle(page)
    expect(page.get_by_label("Most comments per pull request")).to_have_value("10")
    page.get_by_label("Settings for").select_option(label=f"ada/engine-{RUN}")
    page.wait_for_url("**/review-settings?repo=*")
    expect(page.get_by_role("heading", name=f"Override for ada/engine-{RUN}")).to_be_visible()
    expect(page.get_by_label("Most comments per pull request")).to_have_value("")
    check(page, watch, "review-settings-repo")

    # --- API keys (shown once), audit log, account ---
    goto(page, f"/orgs/{acme}/api-keys")
    page.get_by_label("Name").fill("ci")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("code.secret")).to_contain_text("agn_")
    check(page, watch, "api-keys")
    goto(page, f"/orgs/{acme}/audit")
    expect(page.get_by_role("cell", name="webhook.secret_rotated")).to_be_visible()
    page.get_by_label("Action").select_option("invite.created")
    expect(page.get_by_role("cell", name="webhook.secret_rotated")).to_have_count(0)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Export CSV").click()
    csv = pathlib.Path(dl.value.path()).read_text()
    assert csv.startswith("at,actor,action,target,viaSystemAdmin,details") and "invite.created" in csv
    assert "webhook.secret_rotated" not in csv, "the export follows the filters"
    check(page, watch, "audit")
    # --- your sessions: a second browser logs in; its session is ended from this one ---
    other_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    Watch(other_ctx, "other")
    other = other_ctx.new_page()
    goto(other, "/login")
    other.get_by_label("Email").fill(owner)
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Log in").click()
    other.wait_for_url("**/onboarding")
    settle(other)
    goto(page, "/account")
    expect(page.get_by_role("button", name="Log out everywhere")).to_be_visible()
    sessions = page.get_by_role("region", name="Your sessions")
    expect(sessions.get_by_role("row")).to_have_count(3)  # the header and two sessions
    expect(sessions.get_by_text("this browser")).to_have_count(1)
    check(page, watch, "account")
    page.get_by_label("New email address").fill(f"ada-new-{RUN}@example.com")
    watch.allowed = {(403, "/api/auth/change-email")}
    page.get_by_label("Current password").fill("not my password at all")
    page.get_by_role("button", name="Send confirmation link").click()
    expect(page.locator("#main .status-line.error")).to_be_visible()
    settle(page)
    watch.take()
    watch.allowed = set()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_role("button", name="Send confirmation link").click()
    expect(page.get_by_text(f"We sent a link to ada-new-{RUN}@example.com.")).to_be_visible()
    check(page, watch, "account-email-change")
    sessions.get_by_role("row").filter(has_not_text="this browser").get_by_role(
        "button", name="Log out", exact=True
    ).click()
    expect(page.get_by_text("That session is logged out.")).to_be_visible()
    expect(sessions.get_by_role("row")).to_have_count(2)
    check(page, watch, "account-session-ended")
    other.reload()
    other.wait_for_url("**/login?next=*")
    other_ctx.close()
    goto(page, "/admin/orgs")
    expect(page.get_by_text("This page is for system admins only.")).to_be_visible()
    check(page, watch, "admin-orgs-not-admin")

    # --- a system admin (seeded by make dev from ADMIN_EMAIL) lists every org, opens one ---
    admin_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    awatch = Watch(admin_ctx, "admin")
    admin = admin_ctx.new_page()
    goto(admin, "/login")
    admin.get_by_label("Email").fill(os.environ["ADMIN_EMAIL"])
    admin.get_by_label("Password").fill(os.environ["ADMIN_PASSWORD"])
    admin.get_by_role("button", name="Log in").click()
    admin.wait_for_url(re.compile(r".*/(admin/orgs|orgs/.+)$"))
    settle(admin)
    goto(admin, "/admin/orgs")
    expect(admin.get_by_role("heading", name="System admin: organizations")).to_be_visible()
    admin.get_by_label("Search by slug or name").fill(acme)
    admin.get_by_role("button", name="Search", exact=True).click()
    expect(admin.get_by_role("link", name=f"Acme {RUN}")).to_be_visible()
    expect(admin.get_by_role("link", name=f"Beta {RUN}")).to_have_count(0)
    check(admin, awatch, "admin-orgs")
    admin.get_by_role("link", name=f"Acme {RUN}").click()
    admin.wait_for_url(f"**/orgs/{acme}/members")
    expect(admin.get_by_text("Viewing as system admin (audited)")).to_be_visible()
    check(admin, awatch, "admin-org-members")
    admin_ctx.close()

    # --- delete an org by typing its slug, then restore it ---
    goto(page, f"/orgs/{beta}/settings")
    check(page, watch, "settings")
    page.get_by_label(f"Type {beta} to confirm").fill("beta")
    page.get_by_role("button", name="Delete organization").click()
    expect(page.get_by_text(f"Type the slug “{beta}” exactly to confirm.")).to_be_visible()
    page.get_by_label(f"Type {beta} to confirm").fill(beta)
    page.get_by_role("button", name="Delete organization").click()
    expect(page.get_by_text(f"Beta {RUN} is deleted. You can restore it until")).to_be_visible()
    check(page, watch, "settings-deleted")
    # Gone from the switcher while deleted, openable for restore by its owner.
    watch.allowed = {(404, f"/api/orgs/{beta}")}
    goto(page, f"/orgs/{beta}/settings")
    expect(page.get_by_role("heading", name="Organization not found")).to_be_visible()
    check(page, watch, "org-missing")
    watch.allowed = set()
    page.get_by_role("button", name="Restore organization").click()
    page.wait_for_url(f"**/orgs/{beta}/settings")
    expect(page.get_by_role("heading", name="Danger zone")).to_be_visible()
    settle(page)
    watch.take()

    # --- log out, log in ---
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    check(page, watch, "login")
    page.get_by_label("Email").fill(owner)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # Back in the org used last (the restored one).
    page.wait_for_url(f"**/orgs/{beta}/onboarding")
    settle(page)
    goto(page, "/forgot-password")
    check(page, watch, "forgot-password")
    watch.allowed = {(404, "/nope")}
    goto(page, "/orgs/" + acme + "/nope")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    check(page, watch, "not-found")
    guest_ctx.close()
    owner_ctx.close()


def main():
    started = time.monotonic()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            run(browser)
        except Exception:
            traceback.print_exc()
            # What every open page showed when it failed, and what its watch collected.
            SCREENS.mkdir(parents=True, exist_ok=True)
            for i, ctx in enumerate(browser.contexts):
                for j, pg in enumerate(ctx.pages):
                    try:
                        pg.screenshot(path=str(SCREENS / f"FAILED-{i}-{j}.png"), full_page=True)
                        print(f"browser: FAILED-{i}-{j}.png is {pg.url}", file=sys.stderr)
                    except Exception:  # noqa: BLE001 - best effort
                        pass
            for w in WATCHES:
                if w.problems:
                    print(f"browser: {w.name}: " + "; ".join(w.problems), file=sys.stderr)
            print(f"browser: FAILED after checking {len(CHECKED)} pages: {', '.join(CHECKED)}", file=sys.stderr)
            return 1
        finally:
            browser.close()
    print(
        f"browser: {len(CHECKED)} pages passed (axe, no errors, screenshots in {SCREENS}) "
        f"in {time.monotonic() - started:.0f}s: {', '.join(CHECKED)}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
