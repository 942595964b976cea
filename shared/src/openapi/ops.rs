//! Every JSON route, described: its summary, who may call it, its body fields, its success
//! status and whether it is paged.

use super::Caller::{Member, Person, Provider, Public, SignedLink};
use super::schemas as s;
use super::{Field, Op, closed, non_empty, op, paged, with};

/// A rule's fields; a create needs the first three (`services::rules::apply`).
const fn rule_fields(create: bool) -> [Field; 6] {
    [
        ("name", s::rule_name, create),
        ("description", s::rule_description, create),
        ("category", s::rule_category, create),
        ("repoId", s::nullable_repo_id, false),
        ("pathGlob", s::nullable_path_glob, false),
        ("enabled", s::boolean, false),
    ]
}
const NEW_RULE: &[Field] = &rule_fields(true);
const RULE_CHANGE: &[Field] = &rule_fields(false);
/// `review_settings::FIELDS`; `null` clears one.
const SETTINGS_FIELDS: &[Field] = &[
    ("autoReview", s::nullable_bool, false),
    ("reviewOnPush", s::nullable_bool, false),
    ("skipDrafts", s::nullable_bool, false),
    ("ignoredPaths", s::ignored_paths, false),
    ("maxComments", s::max_comments, false),
    ("minSeverity", s::min_severity, false),
    ("depth", s::depth, false),
    ("mention", s::mention, false),
];

/// Every JSON route, described.
pub const OPS: &[Op] = &[
    with(
        op(
            "POST",
            "/api/auth/signup",
            "Create an account and its first organization; logs in",
            Public,
            201,
        ),
        &[
            ("email", s::email, true),
            ("password", s::password, true),
            ("orgName", s::org_name, true),
            ("orgSlug", s::new_slug, false),
        ],
    ),
    with(
        op(
            "POST",
            "/api/auth/login",
            "Log in (sets the session cookie)",
            Public,
            200,
        ),
        &[("email", s::string, true), ("password", s::string, true)],
    ),
    op("POST", "/api/auth/logout", "End this session", Person, 204),
    op(
        "POST",
        "/api/auth/logout-all",
        "End every session of the account",
        Person,
        204,
    ),
    op(
        "GET",
        "/api/auth/me",
        "The caller, their organizations and the active one",
        Person,
        200,
    ),
    op("GET", "/api/auth/sessions", "The caller's live sessions", Person, 200),
    op(
        "DELETE",
        "/api/auth/sessions/{id}",
        "End one of the caller's sessions",
        Person,
        204,
    ),
    with(
        op(
            "POST",
            "/api/auth/verify-email",
            "Confirm an address with the emailed token",
            Public,
            200,
        ),
        &[("token", s::link_token, true)],
    ),
    with(
        op(
            "POST",
            "/api/auth/change-email",
            "Mail a confirmation link to a new address",
            Person,
            202,
        ),
        &[("newEmail", s::email, true), ("password", s::string, true)],
    ),
    op(
        "POST",
        "/api/auth/resend-verification",
        "Mail the verification link again",
        Person,
        202,
    ),
    with(
        op(
            "POST",
            "/api/auth/password-reset",
            "Mail a password-reset link (same answer for any address)",
            Public,
            202,
        ),
        &[("email", s::email, true)],
    ),
    with(
        op(
            "POST",
            "/api/auth/password-reset/confirm",
            "Set a new password with the emailed token; ends every session",
            Public,
            200,
        ),
        &[("token", s::link_token, true), ("password", s::password, true)],
    ),
    paged(op(
        "GET",
        "/api/orgs/me",
        "The caller's organizations with their role",
        Person,
        200,
    )),
    paged(op(
        "GET",
        "/api/admin/orgs",
        "Every organization (system admins; `q` searches)",
        Person,
        200,
    )),
    with(
        op(
            "POST",
            "/api/orgs",
            "Create an organization (the caller is its owner)",
            Person,
            201,
        ),
        &[("name", s::org_name, true), ("slug", s::new_slug, false)],
    ),
    op(
        "GET",
        "/api/orgs/{slug}",
        "An organization and its first members",
        Member,
        200,
    ),
    closed(non_empty(with(
        op(
            "PATCH",
            "/api/orgs/{slug}",
            "Rename (admins) or change the plan (system admins)",
            Member,
            200,
        ),
        &[("name", s::org_name, false), ("plan", s::plan, false)],
    ))),
    op(
        "DELETE",
        "/api/orgs/{slug}",
        "Soft-delete (owner); restorable during the grace period",
        Member,
        200,
    ),
    op(
        "POST",
        "/api/orgs/{slug}/restore",
        "Restore a soft-deleted organization (owner)",
        Person,
        200,
    ),
    with(
        op(
            "POST",
            "/api/orgs/{slug}/transfer",
            "Transfer ownership to a member (owner)",
            Person,
            200,
        ),
        &[("userId", s::uuid, true)],
    ),
    paged(op(
        "GET",
        "/api/orgs/{slug}/members",
        "Members with their roles",
        Member,
        200,
    )),
    with(
        op(
            "POST",
            "/api/orgs/{slug}/members",
            "Add a member: sends an invitation (admins)",
            Person,
            201,
        ),
        &[("email", s::email, true), ("role", s::assignable_role, true)],
    ),
    with(
        op(
            "PATCH",
            "/api/orgs/{slug}/members/{userId}",
            "Change a member's role (admins)",
            Person,
            200,
        ),
        &[("role", s::assignable_role, true)],
    ),
    op(
        "DELETE",
        "/api/orgs/{slug}/members/{userId}",
        "Remove a member (admins)",
        Person,
        204,
    ),
    op("POST", "/api/orgs/{slug}/leave", "Leave the organization", Person, 204),
    paged(op(
        "GET",
        "/api/orgs/{slug}/audit",
        "The audit log, newest first (admins)",
        Member,
        200,
    )),
    op(
        "GET",
        "/api/orgs/{slug}/usage",
        "Review usage: this month's LLM tokens against the plan's budget, this hour's reviews against the limit",
        Member,
        200,
    ),
    op(
        "GET",
        "/api/orgs/{slug}/webhooks",
        "Webhook URLs, secret previews and delivery health (admins)",
        Member,
        200,
    ),
    with(
        op(
            "POST",
            "/api/orgs/{slug}/webhooks/rotate",
            "Rotate a provider's secret; the new one is shown once (admins)",
            Member,
            200,
        ),
        &[("provider", s::provider, true)],
    ),
    paged(op(
        "GET",
        "/api/orgs/{slug}/api-keys",
        "API keys with last use and expiry (admins)",
        Person,
        200,
    )),
    with(
        op(
            "POST",
            "/api/orgs/{slug}/api-keys",
            "Create an API key; shown once (admins)",
            Person,
            201,
        ),
        &[
            ("name", s::api_key_name, true),
            ("role", s::assignable_role, true),
            ("expiresInDays", s::expires_in_days, false),
        ],
    ),
    op(
        "DELETE",
        "/api/orgs/{slug}/api-keys/{id}",
        "Revoke an API key (admins)",
        Person,
        204,
    ),
    op(
        "GET",
        "/api/orgs/{slug}/review-settings",
        "The org's review settings",
        Member,
        200,
    ),
    closed(with(
        op(
            "PATCH",
            "/api/orgs/{slug}/review-settings",
            "Change the org's review settings; null clears (admins)",
            Member,
            200,
        ),
        SETTINGS_FIELDS,
    )),
    op(
        "GET",
        "/api/orgs/{slug}/review-settings/{repoId}",
        "A repository's override and the org default",
        Member,
        200,
    ),
    closed(with(
        op(
            "PATCH",
            "/api/orgs/{slug}/review-settings/{repoId}",
            "Change a repository's override (admins)",
            Member,
            200,
        ),
        SETTINGS_FIELDS,
    )),
    paged(op("GET", "/api/orgs/{slug}/rules", "Review rules", Member, 200)),
    closed(with(
        op(
            "POST",
            "/api/orgs/{slug}/rules",
            "Create a review rule (admins)",
            Member,
            201,
        ),
        NEW_RULE,
    )),
    op("GET", "/api/orgs/{slug}/rules/{id}", "One review rule", Member, 200),
    closed(with(
        op(
            "PATCH",
            "/api/orgs/{slug}/rules/{id}",
            "Edit, enable or disable a rule (admins)",
            Member,
            200,
        ),
        RULE_CHANGE,
    )),
    op(
        "DELETE",
        "/api/orgs/{slug}/rules/{id}",
        "Delete a rule (admins)",
        Member,
        204,
    ),
    op(
        "GET",
        "/api/orgs/{slug}/rules/{id}/violations",
        "Comments attributed to the rule, last 30 days",
        Member,
        200,
    ),
    op(
        "GET",
        "/api/orgs/{slug}/feedback",
        "Helpful / not-helpful counts per repository and rule",
        Member,
        200,
    ),
    op(
        "GET",
        "/api/feedback",
        "The signed link on a posted review comment: a page saying what is rated, whose form POSTs the vote (changes nothing)",
        SignedLink,
        200,
    ),
    op(
        "POST",
        "/api/feedback",
        "Rate a posted review comment: the link's signed parameters as a form, JSON or the query string",
        SignedLink,
        200,
    ),
    with(
        op(
            "POST",
            "/api/orgs/{slug}/invites",
            "Invite someone by email with a role (admins)",
            Person,
            201,
        ),
        &[("email", s::email, true), ("role", s::assignable_role, true)],
    ),
    paged(op(
        "GET",
        "/api/orgs/{slug}/invites",
        "Pending invitations (admins)",
        Member,
        200,
    )),
    op(
        "DELETE",
        "/api/orgs/{slug}/invites/{id}",
        "Revoke an invitation (admins)",
        Person,
        204,
    ),
    op(
        "POST",
        "/api/orgs/{slug}/invites/{id}/resend",
        "Re-send an invitation with a new link (admins)",
        Person,
        200,
    ),
    op(
        "GET",
        "/api/invites/{token}",
        "Preview an invitation: org, inviter, role, expiry",
        Public,
        200,
    ),
    with(
        op(
            "POST",
            "/api/auth/accept-invite",
            "Accept an invitation (new password, or the current session)",
            Public,
            200,
        ),
        &[("token", s::link_token, true), ("password", s::password, false)],
    ),
    paged(op(
        "GET",
        "/api/repos",
        "Connected repositories of the active org",
        Member,
        200,
    )),
    with(
        op(
            "POST",
            "/api/repos",
            "Connect a repository; the token must be able to write to it (admins)",
            Member,
            201,
        ),
        &[
            ("provider", s::provider, true),
            ("fullName", s::string, true),
            ("url", s::string, false),
            ("token", s::access_token, true),
        ],
    ),
    op("GET", "/api/repos/{id}", "One repository", Member, 200),
    op(
        "DELETE",
        "/api/repos/{id}",
        "Disconnect a repository (admins)",
        Member,
        204,
    ),
    with(
        op(
            "POST",
            "/api/repos/{id}/review",
            "Ask for a review of a pull request",
            Member,
            202,
        ),
        &[("prNumber", s::pr_number, true), ("headSha", s::head_sha, false)],
    ),
    paged(op(
        "GET",
        "/api/repos/{id}/reviews",
        "Review history: status, reason, comments, tokens, link",
        Member,
        200,
    )),
    op(
        "GET",
        "/api/repos/{id}/index/status",
        "The repository's codebase index: status, phase, progress, commit, stats, error (null: never indexed)",
        Member,
        200,
    ),
    op(
        "POST",
        "/api/repos/{id}/index",
        "A full re-index of the repository (admins; 409 index_in_progress while a job is queued or running)",
        Member,
        202,
    ),
    op(
        "POST",
        "/api/webhooks/{provider}/{orgSlug}",
        "A provider's webhook delivery (202 once durably queued)",
        Provider,
        202,
    ),
    op(
        "POST",
        "/api/webhooks/{provider}",
        "Single-tenant webhook URL of an upgraded install (alias of /default)",
        Provider,
        202,
    ),
    op("GET", "/api/openapi.json", "This document", Public, 200),
];
