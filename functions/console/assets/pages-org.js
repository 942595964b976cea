// Organization pages. Each reads and writes through the JSON API; buttons the caller's
// role does not allow are shown disabled with the reason (the API refuses them anyway).

import {
  h, clear, field, input, select, button, statusLine, showError, showOk, notice,
  timeEl, copyable, table, section, reload, onSubmit,
} from "./dom.js";
import { get, post, patch, del, enc, ApiError } from "./api.js";
import { session } from "./session.js";
import { orgFields } from "./pages-auth.js";
import { csvCell } from "./safe.js";
import { indexSection, indexStep } from "./pages-index.js";
import { installationsSection } from "./pages-install.js";
import { reviewReport } from "./review-report.js";

export const TITLES = {
  onboarding: "Get started",
  members: "Members",
  webhooks: "Webhooks",
  repos: "Repositories",
  "api-keys": "API keys",
  audit: "Audit log",
  settings: "Settings",
};

const ROLE_HELP = {
  owner: "Owner: everything an admin can do, plus deleting the organization and transferring ownership. Exactly one per organization.",
  admin: "Admin: manages members, invitations, repositories, webhook secrets, API keys; reads the audit log.",
  member: "Member: sees the organization, its members and repositories, and review history.",
};

const NOT_ADMIN = "Only owners and admins can do this";

function base(org) {
  return `/api/orgs/${enc(org.slug)}`;
}

function orgLink(org, sub) {
  return `/orgs/${enc(org.slug)}/${sub}`;
}


async function orNull(promise) {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 403 || err.status === 404)) return null;
    throw err;
  }
}

// ---- create org ----

export function newOrg(ctx) {
  const line = statusLine();
  const f = h("form", {}, orgFields(), h("button", { type: "submit", class: "primary" }, "Create organization"), line);
  return [
    h("p", {}, "You become its owner. Each organization has its own members, repositories, webhook secrets and API keys."),
    onSubmit(f, line, async (data) => {
      const res = await post("/api/orgs", { name: data.get("orgName"), slug: data.get("orgSlug") || undefined });
      session.me = null;
      ctx.navigate(`/orgs/${enc(res.org.slug)}/onboarding`);
    }),
  ];
}

// ---- onboarding ----

const PROVIDERS = {
  github: {
    name: "GitHub",
    where: "Repository → Settings → Webhooks → Add webhook",
    contentType: "application/json",
    events: ["Pull requests", "Issue comments"],
    secret: "Paste the secret into “Secret”. We check X-Hub-Signature-256 (never SHA-1).",
  },
  gitlab: {
    name: "GitLab",
    where: "Project → Settings → Webhooks → Add new webhook",
    contentType: "JSON (GitLab always sends JSON)",
    events: ["Merge request events", "Comments"],
    secret: "Paste the secret into “Secret token”.",
  },
  azure: {
    name: "Azure DevOps",
    where: "Project settings → Service hooks → Web Hooks",
    contentType: "application/json (Resource details to send: All)",
    events: ["Pull request created", "Pull request updated", "Pull request commented on"],
    secret: "Use Basic authentication: any user name, the secret as the password.",
  },
  bitbucket: {
    name: "Bitbucket Cloud",
    where: "Repository settings → Webhooks → Add webhook",
    contentType: "application/json",
    events: ["Pull request: Created", "Pull request: Updated", "Pull request: Comment created"],
    secret: "Paste the secret into “Secret”. We check X-Hub-Signature (sha256).",
  },
};

function providerName(p) {
  return PROVIDERS[p] ? PROVIDERS[p].name : p;
}

function shownOnceSecrets(org) {
  const flash = session.flash;
  if (!flash || flash.kind !== "secrets" || flash.org !== org.slug || !flash.webhooks.length) return null;
  session.flash = null;
  return section("Your webhook secrets (shown once)",
    notice("warn", h("p", {}, "Copy them now: they are never shown again. You can rotate a secret at any time on the Webhooks page.")),
    flash.webhooks.map((w) => h("div", { class: "secret-row" },
      h("h3", {}, providerName(w.provider)),
      copyable(w.secret, `${providerName(w.provider)} secret`, { secret: true }),
      w.url ? copyable(w.url, `${providerName(w.provider)} URL`) : null)));
}

function step(done, title, ...body) {
  return h("li", { class: done ? "step done" : "step" },
    h("h2", {}, h("span", { class: "step-state" }, done ? "✓ Done" : "To do"), " ", title), body);
}

export async function onboarding(ctx) {
  const { org, rights } = ctx;
  const [repos, hooks] = await Promise.all([
    orNull(get("/api/repos?limit=100", { org: org.slug })),
    rights.isAdmin ? orNull(get(`${base(org)}/webhooks`)) : null,
  ]);
  const repoList = repos ? repos.repos || [] : [];
  const indexing = indexStep(ctx, repoList);
  let firstReview = null;
  for (const r of repoList.slice(0, 10)) {
    const page = await orNull(get(`/api/repos/${enc(r.id)}/reviews?limit=1`, { org: org.slug }));
    if (page && page.reviews && page.reviews.length) {
      firstReview = { repo: r, review: page.reviews[0] };
      break;
    }
  }
  const webhookList = hooks ? hooks.webhooks || [] : [];
  const delivered = webhookList.filter((w) => w.lastDelivery);
  const provider = repoList[0] ? repoList[0].provider : "github";
  const hook = webhookList.find((w) => w.provider === provider);
  const configuredKey = `agnus.onboarding.${org.id}.webhookConfigured`;
  const configured = delivered.length > 0 || localStorage.getItem(configuredKey) === "1";
  const line = statusLine();

  const steps = h("ol", { class: "checklist" },
    step(repoList.length > 0, "Connect a repository",
      repoList.length
        ? h("p", {}, "Connected: ", repoList.map((r, i) => [i ? ", " : "", h("a", { href: orgLink(org, `repos/${enc(r.id)}`) }, r.fullName)]))
        : h("p", {}, h("a", { href: orgLink(org, "repos") }, "Connect your first repository"), " (GitHub, GitLab, Azure DevOps or Bitbucket).")),
    await indexing,
    step(configured, "Configure its webhook",
      hook
        ? [h("p", {}, `In ${PROVIDERS[provider].where}, add this URL:`),
          copyable(hook.url, "webhook URL"),
          h("p", {}, PROVIDERS[provider].secret, " Secret on file: ", h("code", {}, `••••${String(hook.secretPreview || "").slice(-4)}`),
            " — lost it? ", h("a", { href: orgLink(org, "webhooks") }, "rotate it on the Webhooks page"), "."),
          h("p", {}, "Events: ", PROVIDERS[provider].events.join(", "), ". Content type: ", PROVIDERS[provider].contentType, "."),
          configured ? null : button("I have added the webhook", () => {
            localStorage.setItem(configuredKey, "1");
            reload(ctx);
          })]
        : h("p", {}, rights.isAdmin ? "Open the Webhooks page for the URL and secret." : "An owner or admin of this organization configures webhooks.")),
    step(delivered.length > 0, "Receive the first delivery",
      delivered.length
        ? h("p", {}, "Last delivery: ", providerName(delivered[0].provider), ", ", timeEl(delivered[0].lastDelivery.at), ".")
        : [h("p", { class: "waiting", role: "status" }, "Waiting for the first delivery…"),
          button("Check again", () => reload(ctx))]),
    step(!!firstReview, "First review",
      firstReview
        ? h("p", {}, `PR #${firstReview.review.prNumber} of `, h("a", { href: orgLink(org, `repos/${enc(firstReview.repo.id)}`) }, firstReview.repo.fullName), `: ${firstReview.review.status}.`)
        : h("p", {}, "Open or update a pull request in a connected repository; its review appears here.")));
  return [shownOnceSecrets(org), steps, line];
}

// ---- members ----

export async function members(ctx) {
  const { org, me, rights } = ctx;
  const [memberPage, invites] = await Promise.all([
    get(`${base(org)}/members?limit=100`),
    rights.isAdmin ? orNull(get(`${base(org)}/invites?limit=100`)) : null,
  ]);
  const list = memberPage.members || [];
  const line = statusLine();
  const act = (fn, ok) => async () => {
    try {
      await fn();
      if (ok) showOk(line, ok);
      reload(ctx);
    } catch (err) {
      showError(line, err);
    }
  };
  const rows = list.map((m) => {
    const self = m.userId === me.user.id;
    const isOwner = m.role === "owner";
    const roleReason = !rights.isAdmin ? NOT_ADMIN : self ? "You cannot change your own role" : isOwner ? "Transfer ownership first" : null;
    const roleSel = select("role", [["admin", "admin"], ["member", "member"], ...(isOwner ? [["owner", "owner"]] : [])], m.role,
      { "aria-label": `Role of ${m.email}`, disabled: !!roleReason });
    roleSel.addEventListener("change", act(() => patch(`${base(org)}/members/${enc(m.userId)}`, { role: roleSel.value }), "Role changed."));
    const removeReason = !rights.isAdmin ? NOT_ADMIN : isOwner ? "Transfer ownership first" : self ? "Use “Leave organization” below" : null;
    const transferReason = !rights.isOwner ? "Only the owner can transfer ownership" : self ? "You are the owner" : null;
    return h("tr", {},
      h("td", {}, m.email, self ? h("span", { class: "badge" }, "you") : null),
      h("td", {}, roleSel, roleReason && rights.isAdmin ? h("span", { class: "reason" }, roleReason) : null),
      h("td", {}, timeEl(m.joinedAt)),
      h("td", { class: "actions" },
        button("Remove", act(() => {
          if (!confirm(`Remove ${m.email} from ${org.name}?`)) throw new Error("Cancelled.");
          return del(`${base(org)}/members/${enc(m.userId)}`);
        }, "Member removed."), { reason: removeReason, kind: "danger small" }),
        button("Make owner", act(() => {
          if (!confirm(`Transfer ownership of ${org.name} to ${m.email}? You become an admin.`)) throw new Error("Cancelled.");
          return post(`${base(org)}/transfer`, { userId: m.userId });
        }, "Ownership transferred."), { reason: transferReason, kind: "small" })));
  });
  const leaveReason = rights.isOwner ? "Transfer ownership first" : rights.viaSystemAdmin ? "You are not a member" : null;
  return [
    line,
    h("details", { class: "roles" }, h("summary", {}, "What each role may do"),
      h("ul", {}, Object.values(ROLE_HELP).map((t) => h("li", {}, t)))),
    table("Members", ["Member", "Role", "Joined", "Actions"], rows),
    inviteSection(ctx, invites),
    section("Leave",
      h("p", {}, `Leave ${org.name}. You lose access at once.`),
      button("Leave organization", async () => {
        if (!confirm(`Leave ${org.name}?`)) return;
        try {
          await post(`${base(org)}/leave`, {});
          session.me = null;
          ctx.navigate("/");
        } catch (err) {
          showError(line, err);
        }
      }, { reason: leaveReason, kind: "danger" })),
  ];
}

function inviteSection(ctx, invites) {
  const { org, rights } = ctx;
  const line = statusLine();
  const linkBox = h("div", { class: "invite-link", role: "status", "aria-live": "polite" });
  const showLink = (res, email) => clear(linkBox,
    h("p", {}, `Invitation link for ${email} (send it if the email does not arrive):`),
    copyable(res.acceptUrl, "invitation link"));
  const roleSel = select("role", [["member", "member"], ["admin", "admin"]], "member");
  const roleHint = h("p", { class: "hint", id: "invite-role-hint" }, ROLE_HELP.member);
  roleSel.setAttribute("aria-describedby", "invite-role-hint");
  roleSel.addEventListener("change", () => {
    roleHint.textContent = ROLE_HELP[roleSel.value];
  });
  const f = h("form", { class: "inline-form" },
    field("Email", input({ type: "email", name: "email", required: true, autocomplete: "off", disabled: !rights.isAdmin })),
    h("div", { class: "field" }, h("label", { for: "invite-role" }, "Role"), Object.assign(roleSel, { id: "invite-role", disabled: !rights.isAdmin }), roleHint),
    button("Send invitation", null, { type: "submit", kind: "primary", reason: rights.isAdmin ? null : NOT_ADMIN }),
    line);
  onSubmit(f, line, async (data) => {
    const email = data.get("email");
    const res = await post(`${base(org)}/invites`, { email, role: data.get("role") });
    showOk(line, `Invitation sent to ${email}.`);
    f.reset();
    showLink(res, email);
    await refreshPending();
  });
  const pending = h("div", {});
  const renderPending = (items) => {
    if (!rights.isAdmin) return clear(pending, h("p", {}, "Owners and admins see pending invitations."));
    if (!items.length) return clear(pending, h("p", {}, "No pending invitations."));
    clear(pending, table("Pending invitations", ["Email", "Role", "Invited by", "Expires", "Actions"], items.map((i) => h("tr", {},
      h("td", {}, i.email, i.mailStatus === "failed" ? h("span", { class: "badge warn" }, "not sent — resend") : null),
      h("td", {}, i.role),
      h("td", {}, i.invitedByEmail || "—"),
      h("td", {}, timeEl(i.expiresAt)),
      h("td", { class: "actions" },
        button("Resend", async () => {
          try {
            const res = await post(`${base(org)}/invites/${enc(i.id)}/resend`, {});
            showOk(line, `Sent again to ${i.email}; the previous link no longer works.`);
            showLink(res, i.email);
            await refreshPending();
          } catch (err) {
            showError(line, err);
          }
        }, { kind: "small" }),
        button("Revoke", async () => {
          try {
            await del(`${base(org)}/invites/${enc(i.id)}`);
            showOk(line, `Invitation for ${i.email} revoked.`);
            await refreshPending();
          } catch (err) {
            showError(line, err);
          }
        }, { kind: "danger small" }))))),
    h("p", { class: "hint" }, "“Copy link” appears after sending or resending: links are stored only as hashes, so an old link cannot be shown again."));
  };
  const refreshPending = async () => {
    const res = await orNull(get(`${base(org)}/invites?limit=100`));
    renderPending(res ? (res.invites || []).filter((i) => !i.status || i.status === "pending") : []);
  };
  renderPending(invites ? (invites.invites || []).filter((i) => !i.status || i.status === "pending") : []);
  return section("Invite people", f, linkBox, h("h3", {}, "Pending invitations"), pending);
}

// ---- webhooks ----

export async function webhooks(ctx) {
  const { org, rights } = ctx;
  if (!rights.isAdmin) return [notice("info", h("p", {}, "Webhook settings are visible to owners and admins of this organization."))];
  const res = await get(`${base(org)}/webhooks`);
  const cards = (res.webhooks || []).map((w) => webhookCard(ctx, w));
  return [h("p", {}, "Each provider calls its own URL, signed with its own secret. A rotation keeps the previous secret valid for an overlap period, so you can update the provider without losing deliveries."), cards];
}

function webhookCard(ctx, w) {
  const { org } = ctx;
  const p = PROVIDERS[w.provider] || { name: w.provider, events: [], contentType: "application/json", where: "", secret: "" };
  const line = statusLine();
  const shown = h("div", {});
  const card = section(p.name,
    h("dl", { class: "facts" },
      h("dt", {}, "Payload URL"), h("dd", {}, copyable(w.url, `${p.name} webhook URL`)),
      h("dt", {}, "Content type"), h("dd", {}, p.contentType),
      h("dt", {}, "Events"), h("dd", {}, p.events.join(", ")),
      h("dt", {}, "Secret"), h("dd", {}, h("code", { class: "masked" }, `••••••••${String(w.secretPreview || "").slice(-4)}`),
        w.rotatedAt ? [" rotated ", timeEl(w.rotatedAt)] : [" created ", timeEl(w.createdAt)],
        w.previousSecretValidUntil ? [h("br"), "Previous secret accepted until ", timeEl(w.previousSecretValidUntil)] : null),
      h("dt", {}, "Last delivery"), h("dd", {}, w.lastDelivery ? [timeEl(w.lastDelivery.at), ` (${w.lastDelivery.outcome || "received"})`] : "none yet"),
      h("dt", {}, "Last rejection"), h("dd", {}, w.lastRejected ? [timeEl(w.lastRejected.at), ` — ${w.lastRejected.reason || "unknown reason"}`] : "none"),
      h("dt", {}, "Rejected deliveries"), h("dd", {}, String(w.rejectedCount || 0))),
    h("details", {}, h("summary", {}, `Set up ${p.name}`),
      h("ol", {}, h("li", {}, p.where), h("li", {}, "Payload URL: the URL above."), h("li", {}, `Content type: ${p.contentType}.`),
        h("li", {}, p.secret), h("li", {}, `Events: ${p.events.join(", ")}.`))),
    button("Rotate secret", async () => {
      if (!confirm(`Rotate the ${p.name} secret? The current one keeps working during the overlap period.`)) return;
      try {
        const r = await post(`${base(org)}/webhooks/rotate`, { provider: w.provider });
        const masked = card.querySelector("code.masked");
        if (masked) masked.textContent = `••••••••${String(r.secret).slice(-4)}`;
        clear(shown, notice("warn",
          h("p", {}, `New ${p.name} secret — shown once. Copy it into ${p.name} now.`),
          copyable(r.secret, `new ${p.name} secret`, { secret: true }),
          h("p", {}, "The previous secret keeps working until ", timeEl(r.previousSecretValidUntil), ".")));
        showOk(line, "Secret rotated.");
      } catch (err) {
        showError(line, err);
      }
    }),
    shown,
    line);
  return card;
}

// ---- repositories ----

export async function repos(ctx) {
  const { org, rights } = ctx;
  const res = await get("/api/repos?limit=100", { org: org.slug });
  const list = res.repos || [];
  const line = statusLine();
  const f = h("form", { class: "inline-form" },
    h("div", { class: "field" }, h("label", { for: "repo-provider" }, "Provider"),
      select("provider", Object.entries(PROVIDERS).map(([k, v]) => [k, v.name]), "github", { id: "repo-provider", disabled: !rights.isAdmin })),
    field("Repository (owner/name or URL)", input({ name: "repo", required: true, autocomplete: "off", placeholder: "acme/api", disabled: !rights.isAdmin })),
    field("Access token", input({ type: "password", name: "token", required: true, autocomplete: "off", disabled: !rights.isAdmin }),
      "Must be able to write to the repository (checked with the provider before connecting). Stored encrypted; only a preview is ever shown again."),
    button("Connect repository", null, { type: "submit", kind: "primary", reason: rights.isAdmin ? null : NOT_ADMIN }),
    line);
  onSubmit(f, line, async (data) => {
    const raw = String(data.get("repo")).trim();
    const body = { provider: data.get("provider") };
    if (/^https?:\/\//i.test(raw)) body.url = raw;
    else body.fullName = raw;
    if (data.get("token")) body.token = data.get("token");
    const r = await post("/api/repos", body, { org: org.slug });
    showOk(line, `Connected ${r.repo.fullName}. Its code is being indexed; next: configure its webhook.`);
    ctx.navigate(orgLink(org, "onboarding"));
  });
  const rows = list.map((r) => h("tr", {},
    h("td", {}, h("a", { href: orgLink(org, `repos/${enc(r.id)}`) }, r.fullName)),
    h("td", {}, providerName(r.provider)),
    h("td", {}, credential(r)),
    h("td", {}, timeEl(r.createdAt)),
    h("td", { class: "actions" }, button("Delete", async () => {
      if (!confirm(`Disconnect ${r.fullName}? Its review history stays in the audit log.`)) return;
      try {
        await del(`/api/repos/${enc(r.id)}`, { org: org.slug });
        reload(ctx);
      } catch (err) {
        showError(line, err);
      }
    }, { kind: "danger small", reason: rights.isAdmin ? null : NOT_ADMIN }))));
  return [
    await installationsSection(ctx),
    section("Connect with a token", h("p", {}, "GitHub, GitLab, Azure DevOps or Bitbucket: the token of an account that can write to the repository."), f),
    list.length ? table("Repositories", ["Repository", "Provider", "Credential", "Connected", "Actions"], rows) : h("p", {}, "No repository connected yet."),
  ];
}

// How a repository is reached: its own token (a preview) or a GitHub App installation.
function credential(r) {
  if (r.installationId) return h("span", {}, "GitHub App ", h("span", { class: "hint" }, `(installation ${r.installationId})`));
  return r.tokenPreview ? h("code", {}, r.tokenPreview) : "—";
}

export async function repo(ctx) {
  const { org } = ctx;
  const id = ctx.route.id;
  const [r, reviews, index] = await Promise.all([
    get(`/api/repos/${enc(id)}`, { org: org.slug }),
    get(`/api/repos/${enc(id)}/reviews?limit=50`, { org: org.slug }),
    indexSection(ctx, { id }),
  ]);
  const line = statusLine();
  const again = (prNumber, headSha) => async () => {
    try {
      await post(`/api/repos/${enc(id)}/review`, headSha ? { prNumber, headSha } : { prNumber }, { org: org.slug });
      showOk(line, `Review of PR #${prNumber} queued.`);
    } catch (err) {
      showError(line, err);
    }
  };
  const list = reviews.reviews || [];
  const f = h("form", { class: "inline-form" },
    field("Pull request number", input({ type: "number", name: "pr", min: 1, required: true })),
    h("button", { type: "submit" }, "Request a review"));
  onSubmit(f, line, async (data) => again(Number(data.get("pr")))());
  return [
    h("p", {}, h("a", { href: orgLink(org, "repos") }, "← All repositories")),
    h("dl", { class: "facts" },
      h("dt", {}, "Repository"), h("dd", {}, r.repo.fullName),
      h("dt", {}, "Provider"), h("dd", {}, providerName(r.repo.provider)),
      h("dt", {}, "Credential"), h("dd", {}, credential(r.repo))),
    index,
    section("Review history",
      list.length
        ? table("Reviews", ["Pull request", "Status", "Reason / event", "When", "Actions"], list.map((v) => h("tr", {},
          h("td", {}, `#${v.prNumber}`, v.title ? ` ${v.title}` : ""),
          h("td", {}, h("span", { class: `badge status-${v.status}` }, v.status)),
          h("td", {}, REASONS[v.reason] || v.reason || v.action || "—", v.source ? ` (${v.source})` : "", reviewReport(v)),
          h("td", {}, timeEl(v.createdAt)),
          h("td", { class: "actions" }, button("Review again", again(v.prNumber, v.headSha), { kind: "small" })))))
        : h("p", {}, "No reviews yet."),
      f, line),
  ];
}

// What a skipped review's reason means, where a sentence helps.
const REASONS = {
  budget_exhausted: "budget exhausted: the plan's monthly LLM token budget is used up (see Review settings → Usage)",
  rate_limited: "rate limited: the organization's reviews-per-hour limit was reached",
  already_reviewed: "already reviewed: this head was reviewed recently",
  installation_removed: "installation removed: the GitHub App installation this repository was connected through was removed; connect it again",
};

// ---- API keys ----

export async function apiKeys(ctx) {
  const { org, rights } = ctx;
  if (!rights.isAdmin) return [notice("info", h("p", {}, "API keys are managed by owners and admins of this organization."))];
  const res = await get(`${base(org)}/api-keys?limit=100`);
  const line = statusLine();
  const shown = h("div", {});
  const f = h("form", { class: "inline-form" },
    field("Name", input({ name: "name", required: true, maxlength: 100, autocomplete: "off" })),
    h("div", { class: "field" }, h("label", { for: "key-role" }, "Role"), select("role", [["member", "member"], ["admin", "admin"]], "member", { id: "key-role" })),
    field("Expires in (days)", input({ type: "number", name: "days", min: 1, max: 3650, value: 90 }), "Empty: never expires."),
    h("button", { type: "submit", class: "primary" }, "Create key"),
    line);
  onSubmit(f, line, async (data) => {
    const days = data.get("days");
    const r = await post(`${base(org)}/api-keys`, { name: data.get("name"), role: data.get("role"), expiresInDays: days ? Number(days) : undefined });
    clear(shown, notice("warn", h("p", {}, `API key “${r.apiKey.name}” — shown once. Copy it now.`), copyable(r.key, "API key", { secret: true })));
    f.reset();
    await refresh();
  });
  const listBox = h("div", {});
  const renderList = (keys) => clear(listBox, keys.length
    ? table("API keys", ["Name", "Key", "Role", "Created", "Last used", "Expires", "Actions"], keys.map((k) => h("tr", {},
      h("td", {}, k.name), h("td", {}, h("code", {}, k.preview)), h("td", {}, k.role),
      h("td", {}, timeEl(k.createdAt)), h("td", {}, k.lastUsedAt ? timeEl(k.lastUsedAt) : "never"),
      h("td", {}, k.expiresAt ? timeEl(k.expiresAt) : "never"),
      h("td", { class: "actions" }, button("Revoke", async () => {
        if (!confirm(`Revoke “${k.name}”? Requests with it fail at once.`)) return;
        try {
          await del(`${base(org)}/api-keys/${enc(k.id)}`);
          showOk(line, "Key revoked.");
          await refresh();
        } catch (err) {
          showError(line, err);
        }
      }, { kind: "danger small" })))))
    : h("p", {}, "No API keys."));
  const refresh = async () => renderList((await get(`${base(org)}/api-keys?limit=100`)).apiKeys || []);
  renderList(res.apiKeys || []);
  return [section("Create an API key", f, shown), section("Keys", listBox)];
}

// ---- audit log ----

export async function audit(ctx) {
  const { org, rights } = ctx;
  if (!rights.isAdmin) return [notice("info", h("p", {}, "The audit log is visible to owners and admins of this organization."))];
  let events = [];
  let cursor = null;
  const load = async () => {
    const q = cursor ? `&cursor=${enc(cursor)}` : "";
    const res = await get(`${base(org)}/audit?limit=100${q}`);
    events = events.concat(res.events || []);
    cursor = res.nextCursor || null;
  };
  await load();
  const actorIn = input({ type: "search", name: "actor", autocomplete: "off" });
  const actionSel = h("select", { name: "action" });
  const fromIn = input({ type: "date", name: "from" });
  const toIn = input({ type: "date", name: "to" });
  const out = h("div", {});
  const more = h("button", { type: "button" }, "Load older entries");
  const actorOf = (e) => (e.actor ? e.actor.email || `${e.actor.type}:${e.actor.id}` : "");
  const filtered = () => {
    const a = actorIn.value.trim().toLowerCase();
    const act = actionSel.value;
    const from = fromIn.value ? Date.parse(`${fromIn.value}T00:00:00`) / 1000 : null;
    const to = toIn.value ? Date.parse(`${toIn.value}T23:59:59`) / 1000 : null;
    return events.filter((e) => (!a || actorOf(e).toLowerCase().includes(a)) && (!act || e.action === act)
      && (from === null || e.at >= from) && (to === null || e.at <= to));
  };
  const draw = () => {
    const current = actionSel.value;
    const actions = [...new Set(events.map((e) => e.action))].sort();
    clear(actionSel, h("option", { value: "" }, "All actions"), actions.map((x) => h("option", { value: x, selected: x === current }, x)));
    const rows = filtered();
    clear(out, h("p", { role: "status" }, `${rows.length} of ${events.length} loaded entries`),
      table("Audit log", ["When", "Actor", "Action", "Target", "Details"], rows.map((e) => h("tr", {},
        h("td", {}, timeEl(e.at)),
        h("td", {}, actorOf(e), e.viaSystemAdmin ? h("span", { class: "badge sysadmin" }, "system admin") : null),
        h("td", {}, h("code", {}, e.action)),
        h("td", {}, e.target || "—"),
        h("td", { class: "details" }, e.details && Object.keys(e.details).length ? JSON.stringify(e.details) : "—")))));
    more.hidden = !cursor;
  };
  more.addEventListener("click", async () => {
    await load();
    draw();
  });
  for (const el of [actorIn, actionSel, fromIn, toIn]) el.addEventListener("input", draw);
  const exportCsv = () => {
    const lines = [["at", "actor", "action", "target", "viaSystemAdmin", "details"].join(",")];
    for (const e of filtered()) {
      lines.push([new Date(e.at * 1000).toISOString(), actorOf(e), e.action, e.target, e.viaSystemAdmin, e.details].map(csvCell).join(","));
    }
    const blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" });
    const a = h("a", { href: URL.createObjectURL(blob), download: `audit-${org.slug}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  draw();
  return [
    h("form", { class: "filters", role: "search", "aria-label": "Filter the audit log", onsubmit: (e) => e.preventDefault() },
      field("Actor", actorIn), h("div", { class: "field" }, h("label", { for: "audit-action" }, "Action"), Object.assign(actionSel, { id: "audit-action" })),
      field("From", fromIn), field("To", toIn),
      h("button", { type: "button", onclick: exportCsv }, "Export CSV")),
    out,
    more,
  ];
}

// ---- settings / danger zone ----

export function settings(ctx) {
  const { org, rights } = ctx;
  const line = statusLine();
  const rename = h("form", { class: "inline-form" },
    field("Organization name", input({ name: "name", value: org.name, required: true, maxlength: 100, disabled: !rights.isAdmin })),
    button("Rename", null, { type: "submit", reason: rights.isAdmin ? null : NOT_ADMIN }),
    line);
  onSubmit(rename, line, async (data) => {
    await patch(base(org), { name: data.get("name") });
    session.me = null;
    reload(ctx);
  });
  const dz = statusLine();
  const confirmIn = input({ name: "confirm", autocomplete: "off", autocapitalize: "none", spellcheck: "false", disabled: !(rights.isOwner || rights.viaSystemAdmin) });
  const deleteReason = rights.isOwner || rights.viaSystemAdmin ? null : "Only the owner can delete the organization";
  const after = h("div", {});
  const del_ = h("form", {},
    h("p", {}, "Deleting removes access for every member at once and takes the organization out of everyone's list. Its data is kept for the grace period (30 days unless your operator set another) and can be restored by the owner until then; after it, everything is erased."),
    field(`Type ${org.slug} to confirm`, confirmIn),
    button("Delete organization", null, { type: "submit", kind: "danger", reason: deleteReason }),
    dz, after);
  onSubmit(del_, dz, async (data) => {
    if (data.get("confirm") !== org.slug) throw new Error(`Type the slug “${org.slug}” exactly to confirm.`);
    const res = await del(base(org));
    session.me = null;
    const restoreLine = statusLine();
    clear(after, notice("warn",
      h("p", {}, `${org.name} is deleted. You can restore it until `, timeEl(res.org.purgeAfter), "."),
      button("Restore organization", async () => {
        try {
          await post(`${base(org)}/restore`, {});
          reload(ctx);
        } catch (err) {
          showError(restoreLine, err);
        }
      }, { kind: "primary" }), restoreLine));
    showOk(dz, "Deleted.");
  });
  return [
    section("General",
      h("dl", { class: "facts" }, h("dt", {}, "Slug"), h("dd", {}, h("code", {}, org.slug)), h("dt", {}, "Plan"), h("dd", {}, org.plan || "—"),
        h("dt", {}, "Created"), h("dd", {}, timeEl(org.createdAt)), h("dt", {}, "Your role"), h("dd", {}, org.role || "system admin")),
      rename),
    h("section", { class: "card danger-zone", "aria-labelledby": "dz-h" }, h("h2", { id: "dz-h" }, "Danger zone"), del_),
  ];
}

