//! The route table: every HTTP route, the function that serves it. `make dev`'s gateway
//! (`agnus gateway`) routes with it and infra/template.yaml must list exactly these
//! (tests/tests/routes.rs proves it).

use std::collections::HashMap;

/// One HTTP route. Paths use `{name}` for parameters, as API Gateway and cargo-lambda do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
}

const fn route(method: &'static str, path: &'static str, function: &'static str) -> Route {
    Route { method, path, function }
}

pub const ROUTES: &[Route] = &[
    route("POST", "/api/auth/signup", "auth"),
    route("POST", "/api/auth/login", "auth"),
    route("POST", "/api/auth/logout", "auth"),
    route("POST", "/api/auth/logout-all", "auth"),
    route("GET", "/api/auth/me", "auth"),
    // The caller's own sessions: list (created, last seen) and end one.
    route("GET", "/api/auth/sessions", "auth"),
    route("DELETE", "/api/auth/sessions/{id}", "auth"),
    route("POST", "/api/auth/verify-email", "auth"),
    route("POST", "/api/auth/change-email", "auth"),
    route("POST", "/api/auth/resend-verification", "auth"),
    route("POST", "/api/auth/password-reset", "auth"),
    route("POST", "/api/auth/password-reset/confirm", "auth"),
    route("GET", "/api/orgs/me", "orgs"),
    // System admins: every organization (search by slug or name, paginated).
    route("GET", "/api/admin/orgs", "orgs"),
    route("POST", "/api/orgs", "orgs"),
    route("GET", "/api/orgs/{slug}", "orgs"),
    route("PATCH", "/api/orgs/{slug}", "orgs"),
    route("DELETE", "/api/orgs/{slug}", "orgs"),
    route("POST", "/api/orgs/{slug}/restore", "orgs"),
    route("POST", "/api/orgs/{slug}/transfer", "orgs"),
    route("GET", "/api/orgs/{slug}/members", "orgs"),
    // Adding a member is an invitation they accept (never membership without consent).
    route("POST", "/api/orgs/{slug}/members", "invites"),
    route("PATCH", "/api/orgs/{slug}/members/{userId}", "orgs"),
    route("DELETE", "/api/orgs/{slug}/members/{userId}", "orgs"),
    route("POST", "/api/orgs/{slug}/leave", "orgs"),
    route("GET", "/api/orgs/{slug}/audit", "orgs"),
    route("GET", "/api/orgs/{slug}/webhooks", "orgs"),
    route("POST", "/api/orgs/{slug}/webhooks/rotate", "orgs"),
    route("GET", "/api/orgs/{slug}/api-keys", "orgs"),
    route("POST", "/api/orgs/{slug}/api-keys", "orgs"),
    route("DELETE", "/api/orgs/{slug}/api-keys/{id}", "orgs"),
    route("GET", "/api/orgs/{slug}/review-settings", "orgs"),
    route("PATCH", "/api/orgs/{slug}/review-settings", "orgs"),
    route("GET", "/api/orgs/{slug}/review-settings/{repoId}", "orgs"),
    route("PATCH", "/api/orgs/{slug}/review-settings/{repoId}", "orgs"),
    route("GET", "/api/orgs/{slug}/rules", "orgs"),
    route("POST", "/api/orgs/{slug}/rules", "orgs"),
    route("GET", "/api/orgs/{slug}/rules/{id}", "orgs"),
    route("PATCH", "/api/orgs/{slug}/rules/{id}", "orgs"),
    route("DELETE", "/api/orgs/{slug}/rules/{id}", "orgs"),
    // The feedback loop: a rule's violations (30 days), helpful shares, and the signed
    // link on every posted comment (no session).
    route("GET", "/api/orgs/{slug}/rules/{id}/violations", "orgs"),
    route("GET", "/api/orgs/{slug}/feedback", "orgs"),
    route("GET", "/api/feedback", "orgs"),
    route("POST", "/api/orgs/{slug}/invites", "invites"),
    route("GET", "/api/orgs/{slug}/invites", "invites"),
    route("DELETE", "/api/orgs/{slug}/invites/{id}", "invites"),
    route("POST", "/api/orgs/{slug}/invites/{id}/resend", "invites"),
    route("GET", "/api/invites/{token}", "invites"),
    route("POST", "/api/auth/accept-invite", "invites"),
    route("GET", "/api/repos", "repos"),
    route("POST", "/api/repos", "repos"),
    route("GET", "/api/repos/{id}", "repos"),
    route("DELETE", "/api/repos/{id}", "repos"),
    route("POST", "/api/repos/{id}/review", "repos"),
    route("GET", "/api/repos/{id}/reviews", "repos"),
    route("POST", "/api/webhooks/{provider}/{orgSlug}", "intake"),
    // Single-tenant URLs (github, azure), aliases of /default until the sunset (product §10).
    route("POST", "/api/webhooks/{provider}", "intake"),
    // The OpenAPI 3.1 description of every /api route (shared/src/openapi.rs).
    route("GET", "/api/openapi.json", "console"),
    // The web console (functions/console): pages and their assets, same origin as the API.
    route("GET", "/", "console"),
    route("GET", "/login", "console"),
    route("GET", "/signup", "console"),
    route("GET", "/forgot-password", "console"),
    route("GET", "/account", "console"),
    route("GET", "/invite/{token}", "console"),
    route("GET", "/verify-email/{token}", "console"),
    route("GET", "/reset-password/{token}", "console"),
    route("GET", "/orgs/new", "console"),
    route("GET", "/orgs/{slug}", "console"),
    route("GET", "/orgs/{slug}/{page}", "console"),
    route("GET", "/orgs/{slug}/repos/{id}", "console"),
    route("GET", "/admin/orgs", "console"),
    route("GET", "/assets/{file}", "console"),
];

/// Result of matching a request against the table.
#[derive(Debug, PartialEq, Eq)]
pub enum Matched {
    Route(Route, HashMap<String, String>),
    /// The path exists but not with this method (405).
    WrongMethod,
    NotFound,
}

fn match_path(pattern: &str, path: &str) -> Option<HashMap<String, String>> {
    let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    let mut params = HashMap::new();
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') => {
                if g.is_empty() {
                    return None;
                }
                params.insert(w[1..w.len() - 1].to_owned(), g.to_owned());
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

/// Finds the route of `function` serving `method path`; literal segments win over
/// parameters (so `/api/orgs/me` is not `/api/orgs/{slug}`).
pub fn find(function: &str, method: &str, path: &str) -> Matched {
    find_in(ROUTES.iter().filter(|r| r.function == function), method, path)
}

/// Finds the route serving `method path` in the whole table, as API Gateway does (the
/// local gateway of `make dev` routes with this).
pub fn resolve(method: &str, path: &str) -> Matched {
    find_in(ROUTES.iter(), method, path)
}

/// The methods `path` accepts (for a 405's `Allow`).
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    let mut methods: Vec<&'static str> = ROUTES
        .iter()
        .filter(|r| match_path(r.path, path).is_some())
        .map(|r| r.method)
        .collect();
    methods.sort_unstable();
    methods.dedup();
    methods
}

fn find_in<'a>(routes: impl Iterator<Item = &'a Route>, method: &str, path: &str) -> Matched {
    let mut candidates: Vec<(Route, HashMap<String, String>)> = routes
        .filter_map(|r| match_path(r.path, path).map(|p| (*r, p)))
        .collect();
    if candidates.is_empty() {
        return Matched::NotFound;
    }
    candidates.sort_by_key(|(r, _)| r.path.matches('{').count());
    match candidates
        .into_iter()
        .find(|(r, _)| r.method.eq_ignore_ascii_case(method))
    {
        Some((r, p)) => Matched::Route(r, p),
        None => Matched::WrongMethod,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_literal_routes() {
        assert!(matches!(find("auth", "POST", "/api/auth/login"), Matched::Route(r, _) if r.path == "/api/auth/login"));
        assert!(matches!(find("auth", "POST", "/api/auth/login/"), Matched::Route(..)));
        assert_eq!(find("auth", "GET", "/api/auth/login"), Matched::WrongMethod);
        assert_eq!(find("auth", "GET", "/api/auth/nope"), Matched::NotFound);
        assert_eq!(find("other", "POST", "/api/auth/login"), Matched::NotFound);
    }

    #[test]
    fn literal_segments_win_over_parameters() {
        assert!(matches!(find("orgs", "GET", "/api/orgs/me"), Matched::Route(r, _) if r.path == "/api/orgs/me"));
        assert!(
            matches!(find("orgs", "GET", "/api/orgs/acme"), Matched::Route(r, p) if r.path == "/api/orgs/{slug}" && p["slug"] == "acme")
        );
        // `me` has GET only; PATCH /api/orgs/me is the {slug} route (and finds no org).
        assert!(matches!(find("orgs", "PATCH", "/api/orgs/me"), Matched::Route(r, _) if r.path == "/api/orgs/{slug}"));
    }

    #[test]
    fn the_whole_table_resolves_across_functions() {
        assert!(
            matches!(resolve("POST", "/api/orgs/acme/members"), Matched::Route(r, p) if r.function == "invites" && p["slug"] == "acme")
        );
        assert!(matches!(resolve("GET", "/api/orgs/acme/members"), Matched::Route(r, _) if r.function == "orgs"));
        assert_eq!(resolve("PUT", "/api/orgs/acme/members"), Matched::WrongMethod);
        assert_eq!(allowed_methods("/api/orgs/acme/members"), ["GET", "POST"]);
        assert_eq!(
            resolve("POST", "/2015-03-31/functions/worker/invocations"),
            Matched::NotFound
        );
        assert!(allowed_methods("/2015-03-31/functions/worker/invocations").is_empty());
    }

    #[test]
    fn parameters_are_extracted() {
        let p = match_path("/api/orgs/{slug}/members/{userId}", "/api/orgs/acme/members/42").unwrap();
        assert_eq!(p["slug"], "acme");
        assert_eq!(p["userId"], "42");
        assert!(match_path("/api/orgs/{slug}", "/api/orgs/").is_none());
        assert!(match_path("/api/orgs/{slug}", "/api/orgs/a/b").is_none());
    }

    #[test]
    fn every_route_is_unique() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(!(a.method == b.method && a.path == b.path), "duplicate route {a:?}");
            }
        }
    }
}
