// GitHub App installations on the repositories page: reviews posted as the org's own app
// (`<app-slug>[bot]`) instead of a person. Register an installation (app id, installation
// id, private key: checked with GitHub, sealed, never shown again), pick repositories it can
// see, connect them without a token; remove an installation.

import {
  h, clear, field, input, button, statusLine, showError, showOk, notice, timeEl, table, section,
  reload, onSubmit,
} from "./dom.js";
import { get, post, del, enc } from "./api.js";

const NOT_ADMIN = "Only owners and admins can manage GitHub App installations.";

function base(org) {
  return `/api/orgs/${enc(org.slug)}/installations`;
}

// The picker of one installation: its repositories, 100 a page, each connectable once.
async function picker(ctx, inst, box, line, page = 1) {
  const { org } = ctx;
  const res = await get(`${base(org)}/${enc(inst.id)}/repositories?page=${page}`);
  const rows = res.repositories.map((r) => h("tr", {},
    h("td", {}, r.fullName, r.private ? h("span", { class: "hint" }, " (private)") : ""),
    h("td", { class: "actions" }, r.connectedRepoId
      ? h("span", { class: "hint" }, "connected")
      : button("Connect", async (ev) => {
        ev.target.disabled = true;
        try {
          const c = await post("/api/repos", { provider: "github", fullName: r.fullName, installationId: inst.id }, { org: org.slug });
          showOk(line, `Connected ${c.repo.fullName} through ${inst.botLogin}. Its code is being indexed; next: configure its webhook.`);
          ctx.navigate(`/orgs/${enc(org.slug)}/onboarding`);
        } catch (err) {
          ev.target.disabled = false;
          showError(line, err);
        }
      }, { kind: "small primary" }))));
  const more = res.nextPage
    ? button(`Next ${Math.min(100, res.totalCount - page * 100)}…`, () => picker(ctx, inst, box, line, res.nextPage), { kind: "small" })
    : "";
  clear(box,
    rows.length
      ? table(`Repositories ${inst.account} gave ${inst.appSlug} (${res.totalCount})`, ["Repository", "Actions"], rows)
      : h("p", {}, "The installation sees no repository yet: add some on GitHub (the app's installation → Repository access)."),
    more);
}

export async function installationsSection(ctx) {
  const { org, rights } = ctx;
  const res = await get(base(org));
  const list = res.installations || [];
  const line = statusLine();
  const box = h("div", {});
  const listBox = h("div", {});
  const f = h("form", { class: "inline-form" },
    field("App ID", input({ name: "appId", type: "number", min: 1, required: true, disabled: !rights.isAdmin }),
      "On the app's settings page (GitHub: Settings → Developer settings → GitHub Apps → the app)."),
    field("Installation ID", input({ name: "installationId", type: "number", min: 1, required: true, disabled: !rights.isAdmin }),
      "The number at the end of the installation's address (Settings → Applications → the app → Configure)."),
    field("Private key (.pem)", h("textarea", { name: "privateKey", rows: 4, required: true, autocomplete: "off", spellcheck: "false", disabled: !rights.isAdmin }),
      "Generated on the app's page. Checked with GitHub, stored encrypted, never shown again; only its fingerprint is."),
    button("Add installation", null, { type: "submit", kind: "primary", reason: rights.isAdmin ? null : NOT_ADMIN }));
  onSubmit(f, line, async (data) => {
    const body = {
      appId: Number(data.get("appId")),
      installationId: Number(data.get("installationId")),
      privateKey: String(data.get("privateKey")),
    };
    const r = await post(base(org), body);
    f.reset();
    render((await get(base(org))).installations || []);
    showOk(line, `Added ${r.installation.appSlug} on ${r.installation.account}: reviews will be posted as ${r.installation.botLogin}.`);
    await picker(ctx, r.installation, box, line);
  });
  const render = (all) => clear(listBox, all.length
    ? table("GitHub App installations", ["App", "Account", "Key", "Added", "Actions"], all.map((i) => h("tr", {},
      h("td", {}, i.appSlug, h("div", { class: "hint" }, "posts as ", h("code", {}, i.botLogin))),
      h("td", {}, i.account),
      h("td", {}, h("code", { title: "the private key's fingerprint, as GitHub lists it" }, i.keyFingerprint)),
      h("td", {}, timeEl(i.createdAt)),
      h("td", { class: "actions" },
        button("Choose repositories", async () => {
          try {
            await picker(ctx, i, box, line);
          } catch (err) {
            showError(line, err);
          }
        }, { kind: "small", reason: rights.isAdmin ? null : NOT_ADMIN }),
        button("Remove", async () => {
          if (!confirm(`Remove ${i.appSlug}? Repositories connected through it stop being reviewed until you connect them again.`)) return;
          try {
            await del(`${base(org)}/${enc(i.id)}`);
            reload(ctx);
          } catch (err) {
            showError(line, err);
          }
        }, { kind: "danger small", reason: rights.isAdmin ? null : NOT_ADMIN })))))
    : notice("info", h("p", {}, "No installation yet.")));
  render(list);
  return section("Connect through a GitHub App (recommended for GitHub)",
    h("p", {}, "Reviews are posted by your own GitHub App, as a bot, with short-lived tokens GitHub issues for each repository. ",
      "Point the app's webhook at this organization's GitHub URL and secret (Webhooks page)."),
    listBox, f, box, line);
}
