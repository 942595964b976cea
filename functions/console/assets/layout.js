// Page frames: the header (org switcher, navigation, account menu), banners (email
// verification, migration) and the page title. What a user may do comes from the role
// the API returns; the API enforces it again on every request.

import { h, clear, notice, button, timeEl, statusLine, showError, showOk, section } from "./dom.js";
import { get, post, ApiError, enc } from "./api.js";
import { session, loadMe } from "./session.js";

export const ORG_NAV = [
  ["onboarding", "Get started"],
  ["repos", "Repositories"],
  ["members", "Members"],
  ["webhooks", "Webhooks"],
  ["api-keys", "API keys"],
  ["rules", "Review rules"],
  ["review-settings", "Review settings"],
  ["audit", "Audit log"],
  ["settings", "Settings"],
];

export function rights(me, org) {
  const role = org ? org.role : null;
  const sysadmin = !!(me && me.user && me.user.isSystemAdmin);
  return {
    role,
    sysadmin,
    viaSystemAdmin: sysadmin && !role,
    isOwner: role === "owner",
    isAdmin: role === "owner" || role === "admin" || (sysadmin && !role),
  };
}

async function settle(content) {
  const c = await content;
  return Array.isArray(c) ? c : [c];
}

let firstRender = true;
function focusMain(main) {
  if (firstRender) {
    firstRender = false;
    return;
  }
  main.focus();
}

export async function publicFrame(top, main, title, content) {
  document.title = `${title} · AgnusAI`;
  clear(top, h("header", { class: "topbar" }, h("a", { href: "/", class: "brand" }, "AgnusAI")));
  const body = await settle(content);
  clear(main, h("div", { class: "narrow" }, h("h1", {}, title), body));
  focusMain(main);
}

function switcher(me, current, sub) {
  const orgs = me.orgs || [];
  const panelId = "org-switcher-panel";
  const toggle = h(
    "button",
    { type: "button", class: "switcher-toggle", "aria-expanded": "false", "aria-controls": panelId },
    current ? current.name : "Choose organization",
    current && current.role ? h("span", { class: "badge" }, current.role) : null,
    h("span", { "aria-hidden": "true" }, " ▾"),
  );
  const search = h("input", { type: "search", placeholder: "Search organizations", "aria-label": "Search organizations" });
  const target = (slug) => {
    const page = sub && sub !== "repo" ? sub : sub === "repo" ? "repos" : "onboarding";
    return `/orgs/${enc(slug)}/${page}`;
  };
  const items = orgs.map((o) =>
    h(
      "li",
      { dataset: { search: `${o.name} ${o.slug}`.toLowerCase() } },
      h(
        "a",
        { href: target(o.slug), "aria-current": current && current.slug === o.slug ? "true" : null },
        h("span", {}, o.name),
        h("span", { class: "badge" }, o.role),
      ),
    ),
  );
  const list = h("ul", { class: "switcher-list" }, items);
  search.addEventListener("input", () => {
    const q = search.value.trim().toLowerCase();
    for (const li of items) li.hidden = q !== "" && !li.dataset.search.includes(q);
  });
  const panel = h(
    "div",
    { id: panelId, class: "switcher-panel", hidden: true },
    orgs.length > 5 || orgs.length === 0 ? search : null,
    orgs.length ? list : h("p", {}, "You are not a member of any organization yet."),
    h("a", { href: "/orgs/new", class: "create-org" }, "+ Create organization"),
  );
  const close = () => {
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
  };
  toggle.addEventListener("click", () => {
    const open = panel.hidden;
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) (orgs.length > 5 ? search : panel.querySelector("a"))?.focus();
  });
  panel.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") {
      close();
      toggle.focus();
    }
  });
  return h("div", { class: "switcher" }, toggle, panel);
}

function userMenu(me, navigate) {
  const line = h("span", { class: "sr-only", role: "status" });
  const logout = async (all) => {
    try {
      await post(all ? "/api/auth/logout-all" : "/api/auth/logout", {});
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) {
        line.textContent = err.message;
        return;
      }
    }
    session.me = null;
    navigate("/login");
  };
  return h(
    "nav",
    { class: "usermenu", "aria-label": "Account" },
    h("a", { href: "/account" }, me.user.email),
    me.user.isSystemAdmin ? h("a", { href: "/admin/orgs" }, "System admin") : null,
    h("button", { type: "button", class: "link", onclick: () => logout(false) }, "Log out"),
    line,
  );
}

function verifyBanner(me) {
  if (me.user.emailVerified !== false) return null;
  const line = statusLine();
  return notice(
    "warn",
    h("p", {}, `Please verify your email address (${me.user.email}): open the link we sent you.`),
    button("Send the link again", async () => {
      try {
        await post("/api/auth/resend-verification", {});
        showOk(line, "Sent. Check your inbox.");
      } catch (err) {
        showError(line, err);
      }
    }),
    line,
  );
}

function migrationBanner(me, org) {
  const legacy = org && org.legacyWebhooks;
  if (!legacy || !legacy.lastDeliveryAt) return null;
  const key = `agnus.legacyDismissed.${me.user.id}.${org.id}`;
  const dismissed = Number(localStorage.getItem(key) || 0);
  if (dismissed >= legacy.lastDeliveryAt) return null;
  const url = (p) => `${location.origin}/api/webhooks/${p}/${enc(org.slug)}`;
  const banner = notice(
    "warn migration",
    h("h2", {}, "Your providers still call the old webhook URLs"),
    h("p", {}, "The last delivery to a single-tenant URL arrived ", timeEl(legacy.lastDeliveryAt),
      legacy.sunsetAt ? [". Those URLs stop working on ", timeEl(legacy.sunsetAt)] : null, "."),
    h("p", {}, "Point each provider at this organization's URL (and its secret, see Webhooks):"),
    h("ul", {}, ["github", "azure"].map((p) => h("li", {}, h("code", {}, url(p))))),
    h("p", {}, h("a", { href: `/orgs/${enc(org.slug)}/webhooks` }, "Open the webhook settings")),
    button("Dismiss", () => {
      localStorage.setItem(key, String(legacy.lastDeliveryAt));
      banner.remove();
    }),
  );
  return banner;
}

// The page of an organization the API does not show this user (404/403): where to go, and
// "Restore" for an owner whose organization is deleted but still in its grace period.
function orgMissing(ctx) {
  const line = statusLine();
  return [
    notice("error", h("p", {}, `There is no organization "${ctx.slug}" that you can open. It may not exist, you may not be a member, or it was deleted.`)),
    h("p", {}, h("a", { href: "/" }, "Go to your organizations")),
    section("Deleted it by mistake?",
      h("p", {}, "The owner can restore a deleted organization during its grace period."),
      button("Restore organization", async () => {
        try {
          await post(`/api/orgs/${enc(ctx.slug)}/restore`, {});
          session.me = null;
          ctx.navigate(`/orgs/${enc(ctx.slug)}/settings`, { replace: true });
        } catch (err) {
          showError(line, err instanceof ApiError && err.status === 404 ? new Error("Nothing to restore: this organization is not yours, was never deleted, or its grace period is over.") : err);
        }
      }),
      line),
  ];
}

export async function orgFrame(top, main, ctx, slug, title, page) {
  const me = await loadMe();
  if (!me) {
    const next = location.pathname + location.search;
    return ctx.navigate(`/login?next=${enc(next)}`, { replace: true });
  }
  let org = null;
  let missing = null;
  if (slug) {
    try {
      const detail = await get(`/api/orgs/${enc(slug)}`);
      org = { ...detail.org, legacyWebhooks: detail.legacyWebhooks, members: detail.members };
      localStorage.setItem(`agnus.lastOrg.${me.user.id}`, org.slug);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 403)) missing = err;
      else throw err;
    }
  }
  if (ctx.stale()) return;
  const current = org || (slug ? null : (me.orgs || []).find((o) => o.slug === localStorage.getItem(`agnus.lastOrg.${me.user.id}`)));
  const nav = org
    ? h(
        "nav",
        { class: "orgnav", "aria-label": "Organization" },
        h("ul", {}, ORG_NAV.map(([sub, label]) =>
          h("li", {}, h("a", {
            href: `/orgs/${enc(org.slug)}/${sub}`,
            "aria-current": ctx.route.sub === sub || (sub === "repos" && ctx.route.sub === "repo") ? "page" : null,
          }, label)))),
      )
    : null;
  clear(
    top,
    h("header", { class: "topbar" },
      h("a", { href: "/", class: "brand" }, "AgnusAI"),
      switcher(me, current, ctx.route.sub),
      userMenu(me, ctx.navigate)),
    nav,
  );
  const r = rights(me, org);
  let body;
  if (missing) {
    title = "Organization not found";
    body = orgMissing({ ...ctx, slug });
  } else {
    body = await settle(page({ ...ctx, me, org, slug, rights: r }));
  }
  if (ctx.stale()) return;
  document.title = org ? `${title} · ${org.name} · AgnusAI` : `${title} · AgnusAI`;
  clear(
    main,
    verifyBanner(me),
    migrationBanner(me, org),
    h("div", { class: "page-head" },
      h("h1", {}, title),
      r.viaSystemAdmin && org ? h("p", { class: "badge sysadmin" }, "Viewing as system admin (audited)") : null),
    body,
  );
  focusMain(main);
}
