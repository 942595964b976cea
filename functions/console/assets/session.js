// Who is logged in (`GET /api/auth/me`, cached for the page's life) and the one-shot flash
// a page hands to the next (shown-once secrets after signup). Below the page modules and
// layout.js, so each imports it without importing another page.

import { get, ApiError } from "./api.js";

export const session = { me: null, flash: null };

export async function loadMe() {
  try {
    session.me = await get("/api/auth/me");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      session.me = null;
      return null;
    }
    throw err;
  }
  return session.me;
}
