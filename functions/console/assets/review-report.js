// A review's report in the history (issue 31): how many of the model's comments were not
// posted, by reason, and the per-file walkthrough, collapsed. Walkthrough text is model text:
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

export function reviewReport(v) {
  const dropped = droppedText(v.dropped);
  const lines = Array.isArray(v.walkthrough) ? v.walkthrough : [];
  if (!dropped && !lines.length) return null;
  return h("div", { class: "review-report" },
    dropped ? h("p", { class: "muted" }, dropped) : null,
    lines.length
      ? h("details", {},
        h("summary", {}, `Walkthrough (${lines.length} ${lines.length === 1 ? "file" : "files"})`),
        h("ul", {}, lines.map((l) => h("li", {}, h("code", {}, String(l.path)), " — ", String(l.text)))))
      : null);
}
