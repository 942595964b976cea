// A review's report in the history (issue 31): what the codebase index gave it (changed
// symbols and their callers, or why it was diff-only), how many of the model's comments were
// not posted, by reason, and the per-file walkthrough, collapsed. Symbol names and paths are
// repository text, shown as text like the walkthrough. Walkthrough text is model text:
// it is shown as text (dom.js builds text nodes), never parsed as markup.
import { h } from "./dom.js";

const DROPPED = [
  ["lowConfidence", "low confidence"],
  ["unverified", "lowered by the verifier"],
  ["invalidAnchor", "outside the diff"],
  ["belowSeverity", "below the lowest severity"],
  ["duplicate", "duplicate"],
  ["overCap", "over the comment cap"],
];

// "3 not posted: 2 low confidence, 1 outside the diff", or null when nothing was dropped.
export function droppedText(dropped) {
  const parts = DROPPED.filter(([k]) => Number(dropped?.[k]) > 0).map(([k, label]) => `${Number(dropped[k])} ${label}`);
  if (!parts.length) return null;
  const total = DROPPED.reduce((n, [k]) => n + (Number(dropped[k]) || 0), 0);
  return `${total} not posted: ${parts.join(", ")}`;
}

const DIFF_ONLY = {
  no_index: "no codebase index was ready",
  index_unreadable: "the codebase index could not be read",
  no_changed_symbols: "the change touches no symbol the index knows",
  context_off: "graph context is off in the review settings",
};

// How the model's answer came (docs/review-engine.md, "Small models"): "Answer cut short at
// the token limit; 1 comment salvaged", "…; asked again with a smaller request", or null.
export function answerText(a) {
  if (!a || typeof a !== "object") return null;
  const parts = [];
  if (a.truncated) parts.push("Answer cut short at the token limit");
  if (Number.isFinite(Number(a.salvaged)) && a.salvaged !== null && a.salvaged !== undefined) {
    const n = Number(a.salvaged);
    parts.push(`${n} ${n === 1 ? "comment" : "comments"} salvaged`);
  }
  if (a.retriedSmaller) parts.push("asked again with a smaller request");
  if (!parts.length) return null;
  const text = parts.join("; ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// "Graph context: 2 changed symbols, 3 related, ~420 tokens (index 89abcde)", "Diff only: no
// codebase index was ready", or null (an older job, or no index in this deployment).
export function contextText(c) {
  if (!c || typeof c !== "object") return null;
  if (c.mode === "graph") {
    const n = Array.isArray(c.changed) ? c.changed.length : 0;
    const commit = String(c.indexCommit || "").slice(0, 7);
    return `Graph context: ${n} changed ${n === 1 ? "symbol" : "symbols"}, ${Number(c.related) || 0} related, ~${Number(c.tokens) || 0} tokens${commit ? ` (index ${commit})` : ""}`;
  }
  if (c.mode === "diff_only" && DIFF_ONLY[c.reason]) return `Diff only: ${DIFF_ONLY[c.reason]}`;
  return null;
}

// "helper (pkg/util.py) — 2 callers in 1 file: pkg/app.py (App.run, App.size)".
export function impactText(s) {
  const what = s.change === "added" ? " (new)" : s.change === "removed" ? " (removed)" : "";
  const head = `${String(s.name)} (${String(s.path)})${what}`;
  const callers = Number(s.callers) || 0;
  if (!callers) return `${head} — no callers in the index`;
  const files = Number(s.callerFiles) || 0;
  const top = (Array.isArray(s.topFiles) ? s.topFiles : [])
    .map((f) => `${String(f.path)} (${(Array.isArray(f.callers) ? f.callers : []).map(String).join(", ")})`);
  return `${head} — ${callers} ${callers === 1 ? "caller" : "callers"} in ${files} ${files === 1 ? "file" : "files"}: ${top.join(", ")}`;
}

export function reviewReport(v) {
  const dropped = droppedText(v.dropped);
  const lines = Array.isArray(v.walkthrough) ? v.walkthrough : [];
  const context = contextText(v.context);
  const changed = v.context && Array.isArray(v.context.changed) ? v.context.changed : [];
  const answer = answerText(v.llmAnswer);
  if (!dropped && !lines.length && !context && !answer) return null;
  return h("div", { class: "review-report" },
    context
      ? (changed.length
        ? h("details", {}, h("summary", {}, context), h("ul", {}, changed.map((s) => h("li", {}, impactText(s)))))
        : h("p", { class: "muted" }, context))
      : null,
    answer ? h("p", { class: "muted" }, answer) : null,
    dropped ? h("p", { class: "muted" }, dropped) : null,
    lines.length
      ? h("details", {},
        h("summary", {}, `Walkthrough (${lines.length} ${lines.length === 1 ? "file" : "files"})`),
        h("ul", {}, lines.map((l) => h("li", {}, h("code", {}, String(l.path)), " — ", String(l.text)))))
      : null);
}
