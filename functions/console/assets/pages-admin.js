// System admin: every organization (search by slug or name, page by page), each opened in
// the console. The API lets a system admin act in any org by naming it and audits every
// such read and write (viaSystemAdmin); only system admins get the list.

import { h, clear, field, input, notice, statusLine, showError, timeEl, table, button } from "./dom.js";
import { get, enc } from "./api.js";

export async function orgs(ctx) {
  const { me } = ctx;
  if (!me.user.isSystemAdmin) {
    return [notice("error", h("p", {}, "This page is for system admins only."))];
  }
  const line = statusLine();
  const results = h("div", {});
  const more = h("div", { class: "actions" });
  let query = ctx.params.get("q") || "";
  let rows = [];
  const row = (o) => h("tr", {},
    h("td", {}, h("a", { href: `/orgs/${enc(o.slug)}/members` }, o.name)),
    h("td", {}, h("code", {}, o.slug)),
    h("td", {}, o.plan),
    h("td", {}, timeEl(o.createdAt)),
    h("td", {}, o.deletedAt ? ["deleted, purged after ", timeEl(o.purgeAfter)] : "active"));
  const load = async (cursor) => {
    const qs = new URLSearchParams({ limit: "50" });
    if (query) qs.set("q", query);
    if (cursor) qs.set("cursor", cursor);
    try {
      const res = await get(`/api/admin/orgs?${qs}`);
      rows = cursor ? rows.concat(res.orgs.map(row)) : res.orgs.map(row);
      clear(results, rows.length
        ? table("Organizations", ["Organization", "Slug", "Plan", "Created", "Status"], rows)
        : h("p", {}, query ? `No organization matches “${query}”.` : "There is no organization yet."));
      clear(more, res.nextCursor ? button("Show more", () => load(res.nextCursor)) : null);
    } catch (err) {
      showError(line, err);
    }
  };
  const search = input({ name: "q", type: "search", value: query, autocapitalize: "none", spellcheck: "false", autocomplete: "off" });
  const f = h("form", { class: "inline-form", role: "search" },
    field("Search by slug or name", search),
    h("button", { type: "submit", class: "primary" }, "Search"),
    line);
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    query = search.value.trim();
    history.replaceState(null, "", query ? `/admin/orgs?q=${enc(query)}` : "/admin/orgs");
    await load(null);
  });
  await load(null);
  return [
    notice("warn", h("p", {}, "Every organization you open from here is recorded in that organization's audit log as a system-admin access.")),
    f,
    results,
    more,
  ];
}
