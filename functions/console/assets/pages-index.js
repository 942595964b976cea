// A repository's code index on the console: the "Index" section of the repository page and
// the onboarding step that follows connecting a repository. Both read
// `GET /api/repos/{id}/index/status` and, while the index is queued or being built, read it
// again every POLL_MS until it is ready or failed, or until the user leaves the page (another
// page rendered: `ctx.stale()`). Admins (re)start it with `POST /api/repos/{id}/index`; the API
// refuses anyone else (403) and a second job while one runs (409 `index_in_progress`).

import { h, clear, button, statusLine, showError, showOk, timeEl, notice, section } from "./dom.js";
import { get, post, enc, ApiError } from "./api.js";
import * as t from "./index-text.js";

export const POLL_MS = 2000;

const IN_PROGRESS = "An index of this repository is already queued or being built; this page shows it as it progresses.";

// One repository's index, kept current: `paint(index)` draws the latest record (null: never
// indexed), `fail(err)` a status that could not be read. `load()` reads it now (and keeps
// polling while it is in progress), `reindex(line)` queues a new one.
function tracker(ctx, repoId, paint, fail) {
  const opts = { org: ctx.org.slug };
  let gen = 0;
  let timer = null;
  const show = (mine, index) => {
    if (mine !== gen || ctx.stale()) return;
    paint(index);
    if (t.inProgress(index)) timer = setTimeout(load, POLL_MS);
  };
  const load = async () => {
    clearTimeout(timer);
    const mine = ++gen;
    if (ctx.stale()) return;
    try {
      const res = await get(`/api/repos/${enc(repoId)}/index/status`, opts);
      show(mine, res ? res.index : null);
    } catch (err) {
      if (mine === gen && !ctx.stale()) fail(err);
    }
  };
  const reindex = async (line) => {
    clearTimeout(timer);
    const mine = ++gen;
    try {
      const res = await post(`/api/repos/${enc(repoId)}/index`, {}, opts);
      showOk(line, "Indexing queued.");
      show(mine, res.index);
    } catch (err) {
      if (err instanceof ApiError && err.code === "index_in_progress") {
        showError(line, new Error(IN_PROGRESS));
        await load();
      } else {
        showError(line, err);
      }
    }
  };
  return { load, reindex };
}

function statusBadge(index) {
  return h("span", { class: `badge status-${index ? index.status : "none"}` }, t.statusLabel(index));
}

// The live progress of a queued or running index: the line, and a bar once the number of
// files is known.
function progress(index) {
  const p = index.progress || {};
  const total = Number.isFinite(p.filesTotal) && p.filesTotal > 0 ? p.filesTotal : null;
  return h("div", { class: "index-progress" },
    h("p", {}, t.progressLine(index)),
    index.status === "indexing" && total !== null
      ? h("progress", { max: total, value: Math.min(p.filesDone || 0, total), "aria-label": "Files parsed" })
      : null);
}

function failure(index) {
  return notice("error", h("p", {}, "Indexing failed: ", t.failureReason(index.error)), h("p", {}, t.fallbackLine(index)));
}

function reading(err, again) {
  return [h("p", { class: "status-line error" }, `The index status could not be read: ${err.message}`), button("Check again", again, { kind: "small" })];
}

// Status changes (not every progress tick) are announced to screen readers.
function announcer() {
  const el = h("p", { class: "sr-only", role: "status" });
  let last;
  return {
    el,
    say(index) {
      const status = index ? index.status : null;
      if (last !== undefined && status !== last) el.textContent = `Index: ${t.statusLabel(index)}.`;
      last = status;
    },
  };
}

// ---- the repository page ----

function facts(index) {
  if (!index) return [h("p", {}, "This repository has not been indexed yet."), h("p", {}, t.DIFF_ONLY)];
  const stats = index.stats;
  // Through a re-index the record keeps the commit and stats of the last ready index.
  const last = index.status === "ready" ? "" : "Last ready index: ";
  return [
    h("dl", { class: "facts" },
      h("dt", {}, "Status"), h("dd", {}, statusBadge(index), index.kind === "incremental" ? " (incremental update)" : " (full index)"),
      t.inProgress(index) ? [h("dt", {}, "Progress"), h("dd", {}, progress(index))] : null,
      index.commit ? [h("dt", {}, index.status === "ready" ? "Commit" : "Last indexed commit"),
        h("dd", {}, h("code", { title: index.commit }, t.shortCommit(index.commit)))] : null,
      h("dt", {}, "Queued"), h("dd", {}, timeEl(index.queuedAt)),
      index.startedAt ? [h("dt", {}, "Started"), h("dd", {}, timeEl(index.startedAt))] : null,
      index.finishedAt ? [h("dt", {}, "Finished"), h("dd", {}, timeEl(index.finishedAt))] : null,
      stats ? [
        h("dt", {}, "Indexed"), h("dd", {}, last, t.statsSentence(stats)),
        h("dt", {}, "Languages"), h("dd", {}, t.languagesLine(stats.languages) || "—"),
        h("dt", {}, "Size"), h("dd", {}, t.sizeLine(stats)),
      ] : null),
    index.status === "failed" ? failure(index) : null,
  ];
}

export async function indexSection(ctx, repo) {
  const box = h("div", {});
  const actions = h("div", { class: "index-actions" });
  const line = statusLine();
  const live = announcer();
  const track = tracker(ctx, repo.id, (index) => {
    live.say(index);
    clear(box, facts(index));
    const busy = t.inProgress(index);
    clear(actions, ctx.rights.isAdmin
      ? button(index ? "Re-index" : "Index now", () => track.reindex(line), { reason: busy ? "Indexing in progress" : null })
      : h("p", { class: "hint" }, "Owners and admins can re-index the repository."));
  }, (err) => clear(box, reading(err, () => track.load())));
  await track.load();
  return section("Index",
    h("p", { class: "hint" }, "The code index (symbols, files and the dependencies between them) lets reviews see beyond the diff. It is rebuilt as the default branch changes."),
    box, actions, line, live.el);
}

// ---- onboarding ----

function stepBody(ctx, index, retry) {
  if (!index) {
    return [h("p", {}, "Not indexed yet. ", t.DIFF_ONLY),
      ctx.rights.isAdmin ? button("Index now", retry, { kind: "small" }) : null];
  }
  if (t.inProgress(index)) return progress(index);
  if (index.status === "ready") {
    const langs = index.stats ? t.languagesLine(index.stats.languages) : "";
    return [h("p", { class: "index-ready" }, index.stats ? `${t.statsSentence(index.stats)}.` : "Ready."),
      langs ? h("p", {}, `Languages: ${langs}.`) : null];
  }
  return [failure(index), ctx.rights.isAdmin ? button("Retry", retry, { kind: "small" }) : null];
}

// "Index the code": one block per connected repository (the first five), the step done when
// every one is ready.
export async function indexStep(ctx, repos) {
  const shown = repos.slice(0, 5);
  const state = h("span", { class: "step-state" });
  const li = h("li", { class: "step" },
    h("h2", {}, state, " Index the code"),
    shown.length ? null : h("p", {}, "Connecting a repository indexes its code (symbols, files and their dependencies), so reviews see beyond the diff."));
  const latest = new Map();
  const drawState = () => {
    const all = shown.map((r) => latest.get(r.id));
    const done = all.length > 0 && all.every((i) => i && i.status === "ready");
    li.className = done ? "step done" : "step";
    state.textContent = done ? "✓ Done"
      : all.some((i) => t.inProgress(i)) ? "Indexing…"
        : all.some((i) => i && i.status === "failed") ? "Failed" : "To do";
  };
  drawState();
  await Promise.all(shown.map(async (r) => {
    const body = h("div", {});
    const line = statusLine();
    const live = announcer();
    const track = tracker(ctx, r.id, (index) => {
      live.say(index);
      latest.set(r.id, index);
      clear(body, stepBody(ctx, index, () => track.reindex(line)));
      drawState();
    }, (err) => clear(body, reading(err, () => track.load())));
    li.append(h("div", { class: "index-repo" }, h("h3", {}, r.fullName), body, line, live.el));
    await track.load();
  }));
  return li;
}
