//! The route table: every HTTP route, the function that serves it, and the name the
//! function dispatches on. `make dev`'s gateway (`agnus gateway`) routes with it,
//! infra/template.yaml must list exactly these routes (tests/tests/routes.rs proves it),
//! and each function gets an enum of its own routes ([`AuthRoute`], [`OrgsRoute`], …) so
//! its dispatch is an exhaustive `match`: a route added here without a handler does not
//! compile.

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

/// The routes one function serves, as a closed set it can `match` on.
pub trait FunctionRoutes: Copy + std::fmt::Debug + Send + Sync + 'static {
    /// The function's name in the table (and in infra/template.yaml).
    const FUNCTION: &'static str;
    /// Every route of the function, in table order.
    const ALL: &'static [Self];
    /// The method and path of this route.
    fn route(self) -> Route;
}

/// Declares the table once: the per-function enums and [`ROUTES`] follow from it.
macro_rules! table {
    ($(
        $(#[$edoc:meta])*
        $function:literal => $Enum:ident {
            $( $(#[$doc:meta])* $Variant:ident = $method:literal $path:literal, )*
        }
    )*) => {
        $(
            $(#[$edoc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            pub enum $Enum {
                $( $(#[$doc])* #[doc = concat!("`", $method, " ", $path, "`")] $Variant, )*
            }

            impl FunctionRoutes for $Enum {
                const FUNCTION: &'static str = $function;
                const ALL: &'static [Self] = &[ $( Self::$Variant, )* ];
                fn route(self) -> Route {
                    match self {
                        $( Self::$Variant => route($method, $path, $function), )*
                    }
                }
            }
        )*

        /// Every route, grouped by function.
        pub const ROUTES: &[Route] = &[ $( $( route($method, $path, $function), )* )* ];
    };
}

table! {
    /// Identity: accounts, sessions, addresses.
    "auth" => AuthRoute {
        Signup = "POST" "/api/auth/signup",
        Login = "POST" "/api/auth/login",
        Logout = "POST" "/api/auth/logout",
        LogoutAll = "POST" "/api/auth/logout-all",
        Me = "GET" "/api/auth/me",
        /// The caller's own sessions: list (created, last seen) and end one.
        Sessions = "GET" "/api/auth/sessions",
        EndSession = "DELETE" "/api/auth/sessions/{id}",
        VerifyEmail = "POST" "/api/auth/verify-email",
        ChangeEmail = "POST" "/api/auth/change-email",
        ResendVerification = "POST" "/api/auth/resend-verification",
        PasswordReset = "POST" "/api/auth/password-reset",
        PasswordResetConfirm = "POST" "/api/auth/password-reset/confirm",
    }
    /// Organizations, members, credentials, review rules and settings, feedback.
    "orgs" => OrgsRoute {
        MyOrgs = "GET" "/api/orgs/me",
        /// System admins: every organization (search by slug or name, paginated).
        AllOrgs = "GET" "/api/admin/orgs",
        CreateOrg = "POST" "/api/orgs",
        OrgDetail = "GET" "/api/orgs/{slug}",
        UpdateOrg = "PATCH" "/api/orgs/{slug}",
        DeleteOrg = "DELETE" "/api/orgs/{slug}",
        RestoreOrg = "POST" "/api/orgs/{slug}/restore",
        Transfer = "POST" "/api/orgs/{slug}/transfer",
        Members = "GET" "/api/orgs/{slug}/members",
        ChangeRole = "PATCH" "/api/orgs/{slug}/members/{userId}",
        RemoveMember = "DELETE" "/api/orgs/{slug}/members/{userId}",
        Leave = "POST" "/api/orgs/{slug}/leave",
        Audit = "GET" "/api/orgs/{slug}/audit",
        /// This month's LLM tokens against the plan's budget, this hour's reviews.
        Usage = "GET" "/api/orgs/{slug}/usage",
        Webhooks = "GET" "/api/orgs/{slug}/webhooks",
        RotateWebhook = "POST" "/api/orgs/{slug}/webhooks/rotate",
        ApiKeys = "GET" "/api/orgs/{slug}/api-keys",
        CreateApiKey = "POST" "/api/orgs/{slug}/api-keys",
        RevokeApiKey = "DELETE" "/api/orgs/{slug}/api-keys/{id}",
        OrgSettings = "GET" "/api/orgs/{slug}/review-settings",
        UpdateOrgSettings = "PATCH" "/api/orgs/{slug}/review-settings",
        RepoSettings = "GET" "/api/orgs/{slug}/review-settings/{repoId}",
        UpdateRepoSettings = "PATCH" "/api/orgs/{slug}/review-settings/{repoId}",
        Rules = "GET" "/api/orgs/{slug}/rules",
        CreateRule = "POST" "/api/orgs/{slug}/rules",
        Rule = "GET" "/api/orgs/{slug}/rules/{id}",
        UpdateRule = "PATCH" "/api/orgs/{slug}/rules/{id}",
        DeleteRule = "DELETE" "/api/orgs/{slug}/rules/{id}",
        /// The feedback loop: a rule's violations (30 days), helpful shares, and the
        /// signed link on every posted comment (no session): the GET is a page that
        /// changes nothing, its form POSTs the vote.
        RuleViolations = "GET" "/api/orgs/{slug}/rules/{id}/violations",
        FeedbackStats = "GET" "/api/orgs/{slug}/feedback",
        FeedbackLink = "GET" "/api/feedback",
        FeedbackVote = "POST" "/api/feedback",
    }
    /// Invitations (adding a member is an invitation they accept: never membership
    /// without consent).
    "invites" => InvitesRoute {
        AddMember = "POST" "/api/orgs/{slug}/members",
        Create = "POST" "/api/orgs/{slug}/invites",
        List = "GET" "/api/orgs/{slug}/invites",
        Revoke = "DELETE" "/api/orgs/{slug}/invites/{id}",
        Resend = "POST" "/api/orgs/{slug}/invites/{id}/resend",
        Preview = "GET" "/api/invites/{token}",
        Accept = "POST" "/api/auth/accept-invite",
    }
    /// Repositories, manual reviews, review history, GitHub App installations.
    "repos" => ReposRoute {
        List = "GET" "/api/repos",
        Connect = "POST" "/api/repos",
        Get = "GET" "/api/repos/{id}",
        Delete = "DELETE" "/api/repos/{id}",
        Review = "POST" "/api/repos/{id}/review",
        Reviews = "GET" "/api/repos/{id}/reviews",
        /// The repository's codebase index: where it stands, and a full re-index (admins).
        IndexStatus = "GET" "/api/repos/{id}/index/status",
        Reindex = "POST" "/api/repos/{id}/index",
        /// The org's GitHub App installations (bot identity) and what each can see.
        Installations = "GET" "/api/orgs/{slug}/installations",
        AddInstallation = "POST" "/api/orgs/{slug}/installations",
        RemoveInstallation = "DELETE" "/api/orgs/{slug}/installations/{installationId}",
        InstallationRepos = "GET" "/api/orgs/{slug}/installations/{installationId}/repositories",
    }
    /// Webhook deliveries.
    "intake" => IntakeRoute {
        Delivery = "POST" "/api/webhooks/{provider}/{orgSlug}",
        /// Single-tenant URLs (github, azure), aliases of /default until the sunset
        /// (product §10).
        LegacyDelivery = "POST" "/api/webhooks/{provider}",
    }
    /// The web console: pages and their assets, same origin as the API, and the OpenAPI
    /// 3.1 description of every /api route (shared/src/openapi.rs).
    "console" => ConsoleRoute {
        OpenApi = "GET" "/api/openapi.json",
        Home = "GET" "/",
        Login = "GET" "/login",
        Signup = "GET" "/signup",
        ForgotPassword = "GET" "/forgot-password",
        Account = "GET" "/account",
        Invite = "GET" "/invite/{token}",
        VerifyEmail = "GET" "/verify-email/{token}",
        ResetPassword = "GET" "/reset-password/{token}",
        NewOrg = "GET" "/orgs/new",
        Org = "GET" "/orgs/{slug}",
        OrgPage = "GET" "/orgs/{slug}/{page}",
        Repo = "GET" "/orgs/{slug}/repos/{id}",
        AdminOrgs = "GET" "/admin/orgs",
        Asset = "GET" "/assets/{file}",
    }
}

/// Routes authenticated only by a signed capability in the request itself (the feedback
/// link's HMAC over org, comment and signal), never by a cookie or an API key. The CSRF
/// rule guards ambient credentials, which these do not read: a page that could forge such
/// a request must already hold the signed parameters, and with them could send it itself.
/// So they skip it, and the feedback page's plain HTML form (no script, no JSON) works.
pub const SIGNED_LINK_ROUTES: &[Route] = &[route("POST", "/api/feedback", "orgs")];

/// Result of matching a request against the table.
#[derive(Debug, PartialEq, Eq)]
pub enum Matched<R = Route> {
    Route(R, HashMap<String, String>),
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
/// parameters for every method (so `/api/orgs/me` is never `/api/orgs/{slug}`: `DELETE
/// /api/orgs/me` is a 405, as API Gateway may hand it to the `{slug}` route's function).
pub fn find(function: &str, method: &str, path: &str) -> Matched {
    match resolve(method, path) {
        Matched::Route(route, _) if route.function != function => Matched::NotFound,
        found => found,
    }
}

/// [`find`] for the function whose routes are `R`, answering the route's name.
pub fn find_typed<R: FunctionRoutes>(method: &str, path: &str) -> Matched<R> {
    match find(R::FUNCTION, method, path) {
        Matched::Route(found, params) => match R::ALL.iter().find(|r| r.route() == found) {
            Some(r) => Matched::Route(*r, params),
            None => Matched::NotFound,
        },
        Matched::WrongMethod => Matched::WrongMethod,
        Matched::NotFound => Matched::NotFound,
    }
}

/// Finds the route serving `method path` in the whole table, as API Gateway does (the
/// local gateway of `make dev` routes with this).
pub fn resolve(method: &str, path: &str) -> Matched {
    find_in(ROUTES.iter(), method, path)
}

/// The methods `path` accepts (for a 405's `Allow`).
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    let mut methods: Vec<&'static str> = most_specific(ROUTES.iter(), path)
        .into_iter()
        .map(|(r, _)| r.method)
        .collect();
    methods.sort_unstable();
    methods.dedup();
    methods
}

/// The routes whose pattern matches `path` with the fewest parameters: a path a literal
/// route matches belongs to that route's pattern alone.
fn most_specific<'a>(routes: impl Iterator<Item = &'a Route>, path: &str) -> Vec<(Route, HashMap<String, String>)> {
    let candidates: Vec<(Route, HashMap<String, String>)> = routes
        .filter_map(|r| match_path(r.path, path).map(|p| (*r, p)))
        .collect();
    let fewest = candidates.iter().map(|(r, _)| r.path.matches('{').count()).min();
    candidates
        .into_iter()
        .filter(|(r, _)| Some(r.path.matches('{').count()) == fewest)
        .collect()
}

fn find_in<'a>(routes: impl Iterator<Item = &'a Route>, method: &str, path: &str) -> Matched {
    let candidates = most_specific(routes, path);
    if candidates.is_empty() {
        return Matched::NotFound;
    }
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
        // `me` has GET only, and no org can be called `me`: its other methods are 405s,
        // whichever function the gateway handed them to, and `Allow` says GET.
        assert_eq!(find("orgs", "PATCH", "/api/orgs/me"), Matched::WrongMethod);
        assert_eq!(find("orgs", "DELETE", "/api/orgs/me/"), Matched::WrongMethod);
        assert_eq!(resolve("DELETE", "/api/orgs/me"), Matched::WrongMethod);
        assert_eq!(allowed_methods("/api/orgs/me"), ["GET"]);
        assert_eq!(allowed_methods("/api/orgs/acme"), ["DELETE", "GET", "PATCH"]);
        // Deeper paths under `me` are still the {slug} routes (which find no org `me`).
        assert!(
            matches!(find("orgs", "GET", "/api/orgs/me/members"), Matched::Route(r, _) if r.path == "/api/orgs/{slug}/members")
        );
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
    fn each_function_enum_is_its_slice_of_the_table() {
        fn check<R: FunctionRoutes>() {
            let mine: Vec<Route> = ROUTES.iter().filter(|r| r.function == R::FUNCTION).copied().collect();
            let named: Vec<Route> = R::ALL.iter().map(|r| r.route()).collect();
            assert_eq!(mine, named, "{}", R::FUNCTION);
        }
        check::<AuthRoute>();
        check::<OrgsRoute>();
        check::<InvitesRoute>();
        check::<ReposRoute>();
        check::<IntakeRoute>();
        check::<ConsoleRoute>();
        assert!(matches!(
            find_typed::<OrgsRoute>("GET", "/api/orgs/me"),
            Matched::Route(OrgsRoute::MyOrgs, _)
        ));
        assert!(
            matches!(find_typed::<OrgsRoute>("GET", "/api/orgs/acme"), Matched::Route(OrgsRoute::OrgDetail, p) if p["slug"] == "acme")
        );
        assert_eq!(find_typed::<ReposRoute>("PUT", "/api/repos"), Matched::WrongMethod);
        assert_eq!(find_typed::<ReposRoute>("GET", "/api/orgs/me"), Matched::NotFound);
    }

    #[test]
    fn signed_link_routes_are_in_the_table() {
        for r in SIGNED_LINK_ROUTES {
            assert!(ROUTES.contains(r), "{r:?}");
        }
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
