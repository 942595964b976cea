// The console's router: one HTML shell for every path; this module picks the page from
// the path, renders it into #main and handles in-app navigation (history API).

import { clear, h, notice } from "./dom.js";
import { ApiError } from "./api.js";
import * as auth from "./pages-auth.js";
import * as org from "./pages-org.js";
import * as admin from "./pages-admin.js";
import * as review from "./pages-review.js";
import { orgFrame, publicFrame } from "./layout.js";
import { loadMe, session } from "./session.js";

const ORG_PAGES = {
  onboarding: org.onboarding,
  members: org.members,
  webhooks: org.webhooks,
  repos: org.repos,
  "api-keys": org.apiKeys,
  audit: org.audit,
  rules: review.rules,
  "review-settings": review.reviewSettings,
  settings: org.settings,
};

const ORG_TITLES = { ...org.TITLES, ...review.TITLES };

const PUBLIC = {
  login: ["Log in", auth.login],
  signup: ["Create your account", auth.signup],
  "forgot-password": ["Reset your password", auth.forgotPassword],
  "reset-password": ["Choose a new password", auth.resetPassword],
  "verify-email": ["Verify your email", auth.verifyEmail],
  invite: ["Invitation", auth.invite],
};

function match(path) {
  const p = path.replace(/\/+$/, "") || "/";
  const seg = p.split("/").slice(1).map(decodeURIComponent);
  if (p === "/") return { page: "home" };
  if (seg.length === 1 && ["login", "signup", "forgot-password", "account"].includes(seg[0])) return { page: seg[0] };
  if (seg.length === 2 && ["invite", "verify-email", "reset-password"].includes(seg[0])) return { page: seg[0], token: seg[1] };
  if (p === "/orgs/new") return { page: "new-org" };
  if (p === "/admin/orgs") return { page: "admin-orgs" };
  if (seg[0] === "orgs" && seg.length === 2) return { page: "org", slug: seg[1], sub: "onboarding" };
  if (seg[0] === "orgs" && seg.length === 3) return { page: "org", slug: seg[1], sub: seg[2] };
  if (seg[0] === "orgs" && seg.length === 4 && seg[2] === "repos") return { page: "org", slug: seg[1], sub: "repo", id: seg[3] };
  return { page: "not-found" };
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
}
window.agnusNavigate = navigate;

async function home() {
  const me = await loadMe();
  if (!me) return navigate("/login", { replace: true });
  const orgs = me.orgs || [];
  const last = localStorage.getItem(`agnus.lastOrg.${me.user.id}`);
  const pick = orgs.find((o) => o.slug === last) || orgs[0];
  if (pick) return navigate(`/orgs/${encodeURIComponent(pick.slug)}/onboarding`, { replace: true });
  if (me.user.isSystemAdmin) return navigate("/admin/orgs", { replace: true });
  return navigate("/orgs/new", { replace: true });
}

let renderSeq = 0;

export async function render() {
  const seq = ++renderSeq;
  const main = document.getElementById("main");
  const top = document.getElementById("top");
  const route = match(location.pathname);
  const params = new URLSearchParams(location.search);
  const ctx = { route, params, navigate, stale: () => seq !== renderSeq };
  main.setAttribute("aria-busy", "true");
  try {
    switch (route.page) {
      case "home":
        return await home();
      case "login":
      case "signup":
      case "forgot-password":
      case "reset-password":
      case "verify-email":
      case "invite": {
        const [title, page] = PUBLIC[route.page];
        return await publicFrame(top, main, title, page(ctx));
      }
      case "account":
        return await orgFrame(top, main, ctx, null, "Your account", auth.account);
      case "new-org":
        return await orgFrame(top, main, ctx, null, "Create organization", org.newOrg);
      case "admin-orgs":
        return await orgFrame(top, main, ctx, null, "System admin: organizations", admin.orgs);
      case "org": {
        if (route.sub === "repo") return await orgFrame(top, main, ctx, route.slug, "Repository", org.repo);
        const page = ORG_PAGES[route.sub];
        if (!page) break;
        return await orgFrame(top, main, ctx, route.slug, ORG_TITLES[route.sub], page);
      }
      default:
        break;
    }
    document.title = "Page not found · AgnusAI";
    await publicFrame(top, main, "Page not found", [
      h("p", {}, "There is no console page at this address."),
      h("p", {}, h("a", { href: "/" }, "Go to the console")),
    ]);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      session.me = null;
      const next = location.pathname + location.search;
      return navigate(`/login?next=${encodeURIComponent(next)}`, { replace: true });
    }
    clear(main, h("h1", {}, "Something went wrong"), notice("error", err.message || String(err)));
  } finally {
    if (seq === renderSeq) main.removeAttribute("aria-busy");
  }
}

// In-app links: same-origin <a href> without a target are handled here.
document.addEventListener("click", (ev) => {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const a = ev.target.closest("a[href]");
  if (!a || a.target || a.hasAttribute("download")) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname.startsWith("/assets/")) return;
  if (url.pathname === location.pathname && url.hash) return;
  ev.preventDefault();
  navigate(url.pathname + url.search);
});

window.addEventListener("popstate", () => render());
render();
