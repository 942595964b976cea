// How an organization is reviewed: its rules (with what developers said about the comments
// they led to, and their violations over 30 days) and its review settings (org default and
// per-repository overrides). Reads and writes through the JSON API only.

import { h, clear, field, input, select, button, statusLine, showError, showOk, notice, timeEl, table, section, reload, onSubmit } from "./dom.js";
import { get, post, patch, del, enc } from "./api.js";

export const TITLES = {
  rules: "Review rules",
  "review-settings": "Review settings",
};

const NOT_ADMIN = "Only owners and admins can do this";
const CATEGORIES = ["security", "correctness", "performance", "style", "custom"];

function base(org) {
  return `/api/orgs/${enc(org.slug)}`;
}


// "3 of 4 helpful" with a meter (no inline style: the CSP forbids it).
function helpfulShare(stat, label) {
  const rated = stat ? stat.helpful + stat.notHelpful : 0;
  if (!rated) return h("span", { class: "hint" }, "no ratings yet");
  const pct = Math.round((100 * stat.helpful) / rated);
  return h("span", { class: "share" },
    h("meter", { min: 0, max: rated, value: stat.helpful, "aria-label": `${label}: ${pct}% helpful` }),
    ` ${pct}% helpful (${stat.helpful} of ${rated})`);
}

// This month's LLM tokens against the plan's budget, this hour's reviews against the limit.
function usageCard(u) {
  const budget = u.tokenBudget == null ? "unlimited" : u.tokenBudget.toLocaleString("en");
  return h("section", { class: "card", "aria-labelledby": "usage-h" },
    h("h2", { id: "usage-h" }, `Usage in ${u.month}`),
    u.budgetExhausted
      ? notice("warn", h("p", {}, `The ${u.plan} plan's monthly LLM token budget is used up: reviews are skipped (budget exhausted) until the month ends.`))
      : null,
    h("dl", { class: "facts" },
      h("dt", {}, "Plan"), h("dd", {}, u.plan),
      h("dt", {}, "LLM tokens this month"), h("dd", {},
        u.tokenBudget == null ? null : h("meter", { min: 0, max: u.tokenBudget, value: Math.min(u.tokens, u.tokenBudget), "aria-label": "Share of the monthly token budget used" }),
        ` ${u.tokens.toLocaleString("en")} of ${budget}`),
      h("dt", {}, "Reviews this month"), h("dd", {}, String(u.llmReviews)),
      h("dt", {}, "Reviews this hour"), h("dd", {}, `${u.reviewsThisHour} of ${u.reviewsPerHour}`)));
}

async function repoNames(org) {
  const res = await get("/api/repos?limit=100", { org: org.slug });
  return new Map((res.repos || []).map((r) => [r.id, r.fullName]));
}

// ---- rules ----

export async function rules(ctx) {
  const { org, rights } = ctx;
  const [list, stats, repos] = await Promise.all([
    get(`${base(org)}/rules?limit=100`),
    get(`${base(org)}/feedback`),
    repoNames(org),
  ]);
  const ruleStats = new Map((stats.rules || []).map((s) => [s.id, s]));
  const line = statusLine();
  const admin = rights.isAdmin;
  let editing = null;

  const name = input({ name: "name", required: true, maxlength: 100, autocomplete: "off", disabled: !admin });
  const description = h("textarea", { name: "description", required: true, maxlength: 2000, rows: 4, disabled: !admin });
  const category = select("category", CATEGORIES.map((c) => [c, c]), "correctness", { disabled: !admin });
  const scope = select("repoId", [["", "Whole organization"], ...[...repos].map(([id, n]) => [id, n])], "", { disabled: !admin });
  const glob = input({ name: "pathGlob", maxlength: 200, autocomplete: "off", placeholder: "src/payments/**", disabled: !admin });
  const enabled = h("input", { type: "checkbox", name: "enabled", checked: true, disabled: !admin });
  const heading = h("h2", { id: "rule-form-h" }, "Add a rule");
  const submit = button("Add rule", null, { type: "submit", kind: "primary", reason: admin ? null : NOT_ADMIN });
  const cancel = h("button", { type: "button", hidden: true }, "Cancel editing");
  const f = h("form", {},
    field("Name", name),
    field("What reviewers must check", description, "Plain language, up to 2,000 characters. The reviewer gets it as data, never as instructions."),
    field("Category", category),
    field("Applies to", scope),
    field("Only paths matching (optional)", glob, "* and ? within a path segment, ** across segments."),
    field("Enabled", enabled),
    h("div", { class: "actions" }, submit, cancel),
    line);
  const startEdit = (r) => {
    editing = r;
    heading.textContent = `Edit rule “${r.name}”`;
    submit.textContent = "Save rule";
    cancel.hidden = false;
    name.value = r.name;
    description.value = r.description;
    category.value = r.category;
    scope.value = r.repoId || "";
    glob.value = r.pathGlob || "";
    enabled.checked = r.enabled;
    name.focus();
  };
  cancel.addEventListener("click", () => reload(ctx));
  onSubmit(f, line, async (data) => {
    const body = {
      name: data.get("name"),
      description: data.get("description"),
      category: data.get("category"),
      repoId: data.get("repoId") || null,
      pathGlob: String(data.get("pathGlob") || "").trim() || null,
      enabled: enabled.checked,
    };
    if (editing) await patch(`${base(org)}/rules/${enc(editing.id)}`, body);
    else await post(`${base(org)}/rules`, body);
    reload(ctx);
  });

  const violationsBox = h("div", { "aria-live": "polite" });
  const showViolations = (r) => async () => {
    try {
      const v = await get(`${base(org)}/rules/${enc(r.id)}/violations`);
      const items = v.violations || [];
      clear(violationsBox, section(`Violations of “${r.name}” in the last ${v.days} days`,
        items.length
          ? table(`Violations of ${r.name}`, ["When", "Repository", "Pull request", "Where", "Comment"], items.map((x) => h("tr", {},
            h("td", {}, timeEl(x.at)),
            h("td", {}, repos.get(x.repoId) || x.repoId),
            h("td", {}, `#${x.pr}`),
            h("td", {}, h("code", {}, `${x.path}:${x.line}`)),
            h("td", {}, x.excerpt))))
          : h("p", {}, "No comment was attributed to this rule in the last 30 days.")));
      violationsBox.querySelector("h2").scrollIntoView({ block: "nearest" });
    } catch (err) {
      showError(line, err);
    }
  };
  const setEnabled = (r, on) => async () => {
    try {
      await patch(`${base(org)}/rules/${enc(r.id)}`, { enabled: on });
      reload(ctx);
    } catch (err) {
      showError(line, err);
    }
  };
  const remove = (r) => async () => {
    if (!confirm(`Delete the rule “${r.name}”? Reviews stop checking it at once.`)) return;
    try {
      await del(`${base(org)}/rules/${enc(r.id)}`);
      reload(ctx);
    } catch (err) {
      showError(line, err);
    }
  };
  const items = list.rules || [];
  const reason = admin ? null : NOT_ADMIN;
  const rows = items.map((r) => h("tr", {},
    h("td", {}, h("strong", {}, r.name), h("p", { class: "hint" }, r.description)),
    h("td", {}, r.category),
    h("td", {}, r.repoId ? repos.get(r.repoId) || "a removed repository" : "whole organization",
      r.pathGlob ? h("div", {}, h("code", {}, r.pathGlob)) : null),
    h("td", {}, r.enabled ? h("span", { class: "badge ok" }, "on") : h("span", { class: "badge warn" }, "off")),
    h("td", {}, helpfulShare(ruleStats.get(r.id), r.name)),
    h("td", { class: "actions" },
      button("Violations", showViolations(r), { kind: "small" }),
      button("Edit", () => startEdit(r), { kind: "small", reason }),
      button(r.enabled ? "Disable" : "Enable", setEnabled(r, !r.enabled), { kind: "small", reason }),
      button("Delete", remove(r), { kind: "danger small", reason }))));
  const repoStats = (stats.repos || []).map((s) => h("tr", {},
    h("td", {}, repos.get(s.id) || "a removed repository"),
    h("td", {}, helpfulShare(s, repos.get(s.id) || "repository"))));
  return [
    h("p", {}, "Rules tell the reviewer what this organization cares about. Each comment the reviewer attributes to a rule is counted below; developers rate comments with the links on them."),
    items.length
      ? table("Rules", ["Rule", "Category", "Applies to", "Enabled", "Developers' ratings", "Actions"], rows)
      : h("p", {}, "No rules yet."),
    violationsBox,
    h("section", { class: "card", "aria-labelledby": "rule-form-h" }, heading, f),
    section("Ratings per repository",
      repoStats.length
        ? table("Ratings per repository", ["Repository", "Developers' ratings"], repoStats)
        : h("p", {}, "No review comment has been rated yet.")),
  ];
}

// ---- review settings ----

const SEVERITIES = ["nit", "minor", "major", "critical"];
const DEPTHS = [["fast", "fast (a quarter of the diff budget)"], ["standard", "standard"], ["deep", "deep (twice the diff budget)"]];

function triState(name, value, inherit, disabled) {
  const v = value === true ? "on" : value === false ? "off" : "";
  return select(name, [["", inherit], ["on", "on"], ["off", "off"]], v, { disabled });
}

export async function reviewSettings(ctx) {
  const { org, rights } = ctx;
  const repos = await repoNames(org);
  const repoId = ctx.params.get("repo") || "";
  const path = repoId ? `${base(org)}/review-settings/${enc(repoId)}` : `${base(org)}/review-settings`;
  const [res, usage] = await Promise.all([get(path), get(`${base(org)}/usage`)]);
  const s = res.settings || {};
  const inherit = repoId ? "as the organization default" : "system default";
  const admin = rights.isAdmin;
  const line = statusLine();
  const which = select("scope", [["", "Organization default"], ...[...repos].map(([id, n]) => [id, n])], repoId, {});
  which.addEventListener("change", () => ctx.navigate(`/orgs/${enc(org.slug)}/review-settings${which.value ? `?repo=${enc(which.value)}` : ""}`));
  const f = h("form", {},
    field("Review when a pull request opens", triState("autoReview", s.autoReview, inherit, !admin)),
    field("Review new pushes", triState("reviewOnPush", s.reviewOnPush, inherit, !admin)),
    field("Skip drafts", triState("skipDrafts", s.skipDrafts, inherit, !admin)),
    field("Ignored paths", h("textarea", { name: "ignoredPaths", rows: 3, disabled: !admin }, (s.ignoredPaths || []).join("\n")),
      `One glob per line (up to 50), e.g. docs/**. Empty: ${inherit}.`),
    field("Most comments per pull request", input({ type: "number", name: "maxComments", min: 1, max: 100, value: s.maxComments ?? "", disabled: !admin }), `1–100. Empty: ${inherit}.`),
    field("Lowest severity posted", select("minSeverity", [["", inherit], ...SEVERITIES.map((x) => [x, x])], s.minSeverity || "", { disabled: !admin })),
    field("Review depth", select("depth", [["", inherit], ...DEPTHS], s.depth || "", { disabled: !admin })),
    field("Lowest confidence posted", input({ type: "number", name: "minConfidence", min: 0, max: 1, step: 0.05, value: s.minConfidence ?? "", disabled: !admin }),
      `0–1: comments the model (at deep, the verifier) scores lower are not posted. Empty: ${inherit} (the system's is 0.5).`),
    field("Graph context tokens", input({ type: "number", name: "contextTokens", min: 0, max: 8000, value: s.contextTokens ?? "", disabled: !admin }),
      `0–8000 prompt tokens of callers and callees; 0: none. Empty: ${inherit} (the system's is 1500).`),
    field("Mention handle", input({ name: "mention", value: s.mention || "", maxlength: 40, autocomplete: "off", placeholder: "@agnus", disabled: !admin }),
      "A person's pull request comment mentioning it asks for a fresh review (bots, apps and the engine's own comments never do; a head already reviewed within the hour is not reviewed again)."),
    repoId ? null : field("Reviews per hour", input({ type: "number", name: "reviewsPerHour", min: 1, max: 10000, value: s.reviewsPerHour ?? "", disabled: !admin }),
      "For the whole organization; it can lower the system's limit, not raise it. Empty: the system's."),
    button("Save settings", null, { type: "submit", kind: "primary", reason: admin ? null : NOT_ADMIN }),
    line);
  onSubmit(f, line, async (data) => {
    const flag = (k) => (data.get(k) === "on" ? true : data.get(k) === "off" ? false : null);
    const paths = String(data.get("ignoredPaths") || "").split("\n").map((p) => p.trim()).filter(Boolean);
    const max = String(data.get("maxComments") || "").trim();
    const number = (k) => (String(data.get(k) || "").trim() ? Number(data.get(k)) : null);
    await patch(path, {
      autoReview: flag("autoReview"),
      reviewOnPush: flag("reviewOnPush"),
      skipDrafts: flag("skipDrafts"),
      ignoredPaths: paths.length ? paths : null,
      maxComments: max ? Number(max) : null,
      minSeverity: data.get("minSeverity") || null,
      depth: data.get("depth") || null,
      mention: String(data.get("mention") || "").trim() || null,
      minConfidence: number("minConfidence"),
      contextTokens: number("contextTokens"),
      ...(repoId ? {} : { reviewsPerHour: String(data.get("reviewsPerHour") || "").trim() ? Number(data.get("reviewsPerHour")) : null }),
    });
    showOk(line, "Settings saved. The next review uses them.");
  });
  return [
    usageCard(usage.usage),
    h("p", {}, "Each field left at its default falls back: a repository to the organization's default, the organization to the system's."),
    h("div", { class: "inline-form" }, field("Settings for", which)),
    repoId && !repos.has(repoId) ? notice("warn", h("p", {}, "This repository is no longer connected.")) : null,
    h("section", { class: "card", "aria-labelledby": "rs-h" }, h("h2", { id: "rs-h" }, repoId ? `Override for ${repos.get(repoId) || "this repository"}` : "Organization default"), f),
  ];
}
