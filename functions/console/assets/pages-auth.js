// Account pages: log in, sign up, password reset, email verification, invitations and
// the account page (sessions: log out here / everywhere).

import { h, clear, field, input, statusLine, showError, showOk, notice, button, timeEl, table } from "./dom.js";
import { get, post, del, ApiError, enc } from "./api.js";
import { session, loadMe } from "./session.js";
import { safeNext } from "./safe.js";


function form(onsubmit, ...children) {
  const line = statusLine();
  const f = h("form", { novalidate: false }, children, line);
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const submit = f.querySelector("button[type=submit]");
    if (submit) submit.disabled = true;
    try {
      await onsubmit(new FormData(f), line);
    } catch (err) {
      showError(line, err);
    } finally {
      if (submit && submit.isConnected) submit.disabled = false;
    }
  });
  return f;
}

export function login({ params, navigate }) {
  const next = safeNext(params.get("next"));
  return [
    form(
      async (data) => {
        await post("/api/auth/login", { email: data.get("email"), password: data.get("password") });
        session.me = null;
        navigate(next, { replace: true });
      },
      field("Email", input({ type: "email", name: "email", autocomplete: "username", required: true })),
      field("Password", input({ type: "password", name: "password", autocomplete: "current-password", required: true })),
      h("button", { type: "submit", class: "primary" }, "Log in"),
    ),
    h("p", {}, h("a", { href: "/forgot-password" }, "Forgot your password?")),
    h("p", {}, "New here? ", h("a", { href: `/signup${next !== "/" ? `?next=${enc(next)}` : ""}` }, "Create an account")),
  ];
}

export function suggestSlug(name) {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
}

// Org name + slug fields; the slug follows the name until the user edits it.
export function orgFields() {
  const name = input({ name: "orgName", required: true, maxlength: 100, autocomplete: "organization" });
  const slug = input({ name: "orgSlug", pattern: "[a-z0-9](?:[a-z0-9\\-]*[a-z0-9])?", maxlength: 40, autocapitalize: "none", spellcheck: "false" });
  let edited = false;
  name.addEventListener("input", () => {
    if (!edited) slug.value = suggestSlug(name.value);
  });
  slug.addEventListener("input", () => {
    edited = slug.value !== "";
  });
  return [
    field("Organization name", name),
    field("URL name (slug)", slug, "Lowercase letters, digits and dashes. It appears in your URLs and webhook URLs and cannot be changed later."),
  ];
}

export function signup({ params, navigate }) {
  return [
    form(
      async (data) => {
        const res = await post("/api/auth/signup", {
          email: data.get("email"),
          password: data.get("password"),
          orgName: data.get("orgName"),
          orgSlug: data.get("orgSlug") || undefined,
        });
        session.me = null;
        // The new org's webhook secrets are shown once, on its onboarding page.
        session.flash = { kind: "secrets", org: res.org.slug, webhooks: res.webhooks || [] };
        const next = safeNext(params.get("next"));
        navigate(next.startsWith("/invite/") ? next : `/orgs/${enc(res.org.slug)}/onboarding`, { replace: true });
      },
      field("Email", input({ type: "email", name: "email", autocomplete: "email", required: true })),
      field("Password", input({ type: "password", name: "password", autocomplete: "new-password", required: true, minlength: 12 }), "At least 12 characters."),
      orgFields(),
      h("button", { type: "submit", class: "primary" }, "Create account and organization"),
    ),
    h("p", {}, "Already have an account? ", h("a", { href: "/login" }, "Log in")),
  ];
}

export function forgotPassword() {
  return [
    h("p", {}, "Enter your account's email address; we send a link to choose a new password."),
    form(
      async (data, line) => {
        try {
          await post("/api/auth/password-reset", { email: data.get("email") });
        } catch (err) {
          if (err instanceof ApiError && (err.status === 404 || err.status === 405)) {
            throw new Error("Password reset by email is not available on this server. Ask an administrator.");
          }
          throw err;
        }
        showOk(line, "If an account uses this address, a reset link is on its way.");
      },
      field("Email", input({ type: "email", name: "email", autocomplete: "email", required: true })),
      h("button", { type: "submit", class: "primary" }, "Send the link"),
    ),
    h("p", {}, h("a", { href: "/login" }, "Back to log in")),
  ];
}

function tokenProblem(err, what) {
  if (err instanceof ApiError && err.status === 410) return `This ${what} link was already used or has expired. Ask for a new one.`;
  if (err instanceof ApiError && err.status === 404) return `This ${what} link is not valid (or not supported by this server).`;
  return err.message;
}

export function resetPassword({ route, navigate }) {
  return [
    form(
      async (data) => {
        try {
          await post("/api/auth/password-reset/confirm", { token: route.token, password: data.get("password") });
        } catch (err) {
          throw new Error(tokenProblem(err, "reset"));
        }
        navigate("/login", { replace: true });
      },
      field("New password", input({ type: "password", name: "password", autocomplete: "new-password", required: true, minlength: 12 }), "At least 12 characters."),
      h("button", { type: "submit", class: "primary" }, "Set the new password"),
    ),
  ];
}

export function verifyEmail({ route }) {
  const line = statusLine();
  return [
    h("p", {}, "Confirm that this email address is yours."),
    button("Verify my email", async (ev) => {
      try {
        await post("/api/auth/verify-email", { token: route.token });
        ev.target.disabled = true;
        showOk(line, "Thank you: your email address is verified.");
      } catch (err) {
        showError(line, new Error(tokenProblem(err, "verification")));
      }
    }, { kind: "primary" }),
    line,
    h("p", {}, h("a", { href: "/" }, "Go to the console")),
  ];
}

export async function invite({ route, navigate }) {
  let inv;
  try {
    inv = await get(`/api/invites/${enc(route.token)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 410) {
      return [notice("error", h("h2", {}, "This invitation is no longer valid"),
        h("p", {}, "It was already used, revoked, replaced by a newer one or it expired. Ask the person who invited you to send a new invitation."))];
    }
    if (err instanceof ApiError && err.status === 404) {
      return [notice("error", h("h2", {}, "Invitation not found"), h("p", {}, "Check that you opened the whole link from the invitation."))];
    }
    throw err;
  }
  const me = await loadMe();
  const intro = [
    h("p", { class: "lead" }, inv.invitedBy ? `${inv.invitedBy} invited you` : "You are invited", " to join ", h("strong", {}, inv.orgName), ` as ${inv.role}.`),
    h("dl", { class: "facts" },
      h("dt", {}, "Invitation for"), h("dd", {}, inv.email),
      h("dt", {}, "Expires"), h("dd", {}, timeEl(inv.expiresAt))),
  ];
  const accepted = (res) => {
    session.me = null;
    navigate(`/orgs/${enc(res.org.slug)}/onboarding`, { replace: true });
  };
  const acceptError = (err) => {
    if (err instanceof ApiError && err.status === 403) return new Error(`This invitation is for ${inv.email}; you are logged in with another address. Log out, then open the link again.`);
    if (err instanceof ApiError && err.status === 410) return new Error("This invitation is no longer valid (used, revoked or expired).");
    if (err instanceof ApiError && err.status === 409) return new Error(err.message);
    return err;
  };
  if (me) {
    const same = me.user.email.toLowerCase() === String(inv.email).toLowerCase();
    if (!same) {
      return [...intro, notice("error", h("h2", {}, "Wrong account"),
        h("p", {}, `You are logged in as ${me.user.email}, but this invitation is for ${inv.email}.`),
        button("Log out", async () => {
          await post("/api/auth/logout", {}).catch(() => {});
          session.me = null;
          navigate(location.pathname, { replace: true });
        }))];
    }
    const line = statusLine();
    return [...intro, button(`Join ${inv.orgName} as ${me.user.email}`, async () => {
      try {
        accepted(await post("/api/auth/accept-invite", { token: route.token }));
      } catch (err) {
        showError(line, acceptError(err));
      }
    }, { kind: "primary" }), line];
  }
  return [
    ...intro,
    h("h2", {}, "New to AgnusAI?"),
    form(
      async (data) => {
        try {
          accepted(await post("/api/auth/accept-invite", { token: route.token, password: data.get("password") }));
        } catch (err) {
          throw acceptError(err);
        }
      },
      field("Choose a password", input({ type: "password", name: "password", autocomplete: "new-password", required: true, minlength: 12 }), `Creates your account for ${inv.email}. At least 12 characters.`),
      h("button", { type: "submit", class: "primary" }, "Accept and create account"),
    ),
    h("h2", {}, "Already have an account?"),
    h("p", {}, h("a", { href: `/login?next=${enc(location.pathname)}` }, `Log in as ${inv.email}`), " and come back to this page."),
  ];
}

export async function account({ me, navigate }) {
  const line = statusLine();
  const loggedOut = () => {
    session.me = null;
    navigate("/login");
  };
  const list = h("div", {});
  const render = async () => {
    const { sessions = [] } = (await get("/api/auth/sessions")) || {};
    const rows = sessions.map((s) => h("tr", {},
      h("td", {}, timeEl(s.createdAt), s.current ? h("span", { class: "badge ok" }, "this browser") : null),
      h("td", {}, timeEl(s.lastSeenAt)),
      h("td", {}, timeEl(s.expiresAt)),
      h("td", {}, button(s.current ? "Log out here" : "Log out", async () => {
        try {
          await del(`/api/auth/sessions/${enc(s.id)}`);
          if (s.current) return loggedOut();
          showOk(line, "That session is logged out.");
          await render();
        } catch (err) {
          showError(line, err);
        }
      }))));
    clear(list, table("Your sessions", ["Started", "Last used", "Expires", h("span", { class: "sr-only" }, "Action")], rows));
  };
  await render();
  const emailLine = statusLine();
  const change = h("form", {},
    field("New email address", input({ type: "email", name: "newEmail", required: true, autocomplete: "email" })),
    field("Current password", input({ type: "password", name: "password", required: true, autocomplete: "current-password" }),
      "Your password proves it is you; a link sent to the new address proves that address is yours."),
    h("button", { type: "submit" }, "Send confirmation link"),
    emailLine);
  change.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = new FormData(change);
    try {
      const res = await post("/api/auth/change-email", { newEmail: data.get("newEmail"), password: data.get("password") });
      change.reset();
      showOk(emailLine, `We sent a link to ${data.get("newEmail")}. Your address changes when you open it (valid until ${new Date(res.validUntil * 1000).toLocaleString()}); your current address gets a notice.`);
    } catch (err) {
      showError(emailLine, err);
    }
  });
  return [
    h("dl", { class: "facts" },
      h("dt", {}, "Email"), h("dd", {}, me.user.email,
        me.user.emailVerified === true ? h("span", { class: "badge ok" }, "verified") : me.user.emailVerified === false ? h("span", { class: "badge warn" }, "not verified") : null),
      h("dt", {}, "System admin"), h("dd", {}, me.user.isSystemAdmin ? "yes" : "no"),
      h("dt", {}, "Organizations"), h("dd", {}, String((me.orgs || []).length))),
    h("section", { class: "card", "aria-labelledby": "email-h" },
      h("h2", { id: "email-h" }, "Change your email address"), change),
    h("section", { class: "card", "aria-labelledby": "sessions-h" },
      h("h2", { id: "sessions-h" }, "Sessions"),
      h("p", {}, "Every browser or device logged in to your account. Sessions last 12 hours by default; “last used” is updated at most once a minute."),
      list,
      h("div", { class: "actions" },
        button("Log out everywhere", async () => {
          try {
            await post("/api/auth/logout-all", {});
            loggedOut();
          } catch (err) {
            showError(line, err);
          }
        }, { kind: "danger" })),
      line),
  ];
}

