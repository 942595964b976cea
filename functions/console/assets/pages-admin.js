// System admin: open any organization by its slug. The API lets a system admin act in
// any org by naming it and audits every such read and write (viaSystemAdmin).

import { h, field, input, notice, statusLine, showError } from "./dom.js";
import { get, enc, ApiError } from "./api.js";

export function orgs(ctx) {
  const { me } = ctx;
  if (!me.user.isSystemAdmin) {
    return [notice("error", h("p", {}, "This page is for system admins only."))];
  }
  const line = statusLine();
  const f = h("form", { class: "inline-form" },
    field("Organization slug", input({ name: "slug", required: true, autocapitalize: "none", spellcheck: "false", autocomplete: "off" })),
    h("button", { type: "submit", class: "primary" }, "Open"),
    line);
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const slug = new FormData(f).get("slug").trim().toLowerCase();
    try {
      await get(`/api/orgs/${enc(slug)}`);
      ctx.navigate(`/orgs/${enc(slug)}/members`);
    } catch (err) {
      showError(line, err instanceof ApiError && err.status === 404 ? new Error(`No organization “${slug}”.`) : err);
    }
  });
  const mine = me.orgs || [];
  return [
    notice("warn", h("p", {}, "Every organization you open here is recorded in that organization's audit log as a system-admin access.")),
    f,
    h("p", { class: "hint" }, "The API has no list of every organization yet; open one by its slug (from its URLs, its webhook URLs or a support request)."),
    mine.length ? [h("h2", {}, "Organizations you are a member of"),
      h("ul", {}, mine.map((o) => h("li", {}, h("a", { href: `/orgs/${enc(o.slug)}/onboarding` }, o.name), ` (${o.role})`)))] : null,
  ];
}
