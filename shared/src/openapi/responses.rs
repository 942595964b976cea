//! What every JSON route answers on success: [`ANSWERS`], one entry per (method, path,
//! status), the body's schema built from the records of `records.rs`
//! (`components/schemas`). A route added to [`super::OPS`] without its answer here fails
//! the unit test `every_json_operation_has_its_answer`, which names the ones missing.

use serde_json::{Value, json};

use super::records::{
    array, boolean, integer, mail_status, nullable_ref, nullable_string, object, one_of, provider, r, role, string,
    time, uuid,
};

/// One success answer of an operation.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    pub method: &'static str,
    pub path: &'static str,
    pub status: u16,
    /// The JSON body's schema.
    pub schema: fn() -> Value,
}

const fn answer(method: &'static str, path: &'static str, status: u16, schema: fn() -> Value) -> Answer {
    Answer {
        method,
        path,
        status,
        schema,
    }
}

/// The answers of the operation `method` `path`.
pub fn answers_of(method: &str, path: &str) -> impl Iterator<Item = &'static Answer> {
    let method = method.to_owned();
    let path = path.to_owned();
    ANSWERS.iter().filter(move |a| a.method == method && a.path == path)
}

/// A page of `item` records under `key`, and the cursor of the next one (`null`: the
/// last page): `http::page_json`.
fn page(key: &str, item: &str) -> Value {
    object(
        &[key, "nextCursor"],
        json!({ key: array(r(item)), "nextCursor": nullable_string() }),
    )
}

/// `{key: <item>}`.
fn one(key: &str, item: &str) -> Value {
    object(&[key], json!({ key: r(item) }))
}

/// Signup: the account, its first org, that org's webhook secrets (shown this once).
fn signed_up() -> Value {
    object(
        &["user", "emailVerification", "org", "webhooks"],
        json!({
            "user": r("User"), "emailVerification": email_verification(), "org": r("Membership"),
            "webhooks": array(r("WebhookSecret")),
        }),
    )
}

fn email_verification() -> Value {
    object(&["mailStatus"], json!({ "mailStatus": mail_status() }))
}

fn logged_in() -> Value {
    object(
        &["user", "orgs"],
        json!({ "user": r("User"), "orgs": array(r("Membership")) }),
    )
}

fn me() -> Value {
    object(
        &["user", "orgs", "activeOrg"],
        json!({ "user": r("User"), "orgs": array(r("Membership")), "activeOrg": nullable_ref("Membership") }),
    )
}

fn sessions() -> Value {
    object(&["sessions"], json!({ "sessions": array(r("Session")) }))
}

fn user() -> Value {
    one("user", "User")
}

fn email_change_sent() -> Value {
    object(
        &["status", "mailStatus", "validUntil", "message"],
        json!({
            "status": one_of(&["verification_sent"]), "mailStatus": mail_status(), "validUntil": time(),
            "message": string(),
        }),
    )
}

fn verification_resent() -> Value {
    email_verification()
}

fn reset_requested() -> Value {
    object(
        &["status", "message"],
        json!({ "status": one_of(&["accepted"]), "message": string() }),
    )
}

fn orgs_page() -> Value {
    page("orgs", "Org")
}

fn org() -> Value {
    one("org", "Org")
}

/// A new org and its webhook secrets (shown this once).
fn org_created() -> Value {
    object(
        &["org", "webhooks"],
        json!({ "org": r("Org"), "webhooks": array(r("WebhookSecret")) }),
    )
}

/// An org, its first page of members, and for the org an upgrade created the single-tenant
/// webhook URLs' sunset (`legacyWebhooks`, absent for every other org).
fn org_detail() -> Value {
    let legacy = object(
        &["sunsetAt", "lastDeliveryAt", "urls"],
        json!({
            "sunsetAt": time(), "lastDeliveryAt": { "type": ["integer", "null"], "description": "unix seconds" },
            "urls": object(&["github", "azure"], json!({ "github": string(), "azure": string() })),
        }),
    );
    object(
        &["org", "members", "membersNextCursor"],
        json!({
            "org": r("Org"), "members": array(r("Member")), "membersNextCursor": nullable_string(),
            "legacyWebhooks": legacy,
        }),
    )
}

fn transferred() -> Value {
    object(&["ownerId"], json!({ "ownerId": uuid() }))
}

fn members_page() -> Value {
    page("members", "Member")
}

fn role_changed() -> Value {
    let member = object(&["userId", "role"], json!({ "userId": uuid(), "role": role() }));
    object(&["member"], json!({ "member": member }))
}

fn audit_page() -> Value {
    page("events", "AuditEntry")
}

fn usage() -> Value {
    one("usage", "Usage")
}

fn webhooks() -> Value {
    object(&["webhooks"], json!({ "webhooks": array(r("Webhook")) }))
}

/// The new secret, shown once; the previous one works until `previousSecretValidUntil`.
fn webhook_rotated() -> Value {
    object(
        &["provider", "url", "secret", "previousSecretValidUntil"],
        json!({ "provider": provider(), "url": string(), "secret": string(), "previousSecretValidUntil": time() }),
    )
}

fn api_keys_page() -> Value {
    page("apiKeys", "ApiKey")
}

/// The key itself is in `key`, shown once.
fn api_key_created() -> Value {
    object(&["apiKey", "key"], json!({ "apiKey": r("ApiKey"), "key": string() }))
}

fn settings() -> Value {
    one("settings", "SettingsLayer")
}

/// A repository's override, and the org default it falls back to.
fn repo_settings() -> Value {
    object(
        &["settings", "orgDefault"],
        json!({ "settings": r("SettingsLayer"), "orgDefault": r("SettingsLayer") }),
    )
}

fn rules_page() -> Value {
    page("rules", "Rule")
}

fn rule() -> Value {
    one("rule", "Rule")
}

fn violations() -> Value {
    object(
        &["ruleId", "days", "violations"],
        json!({ "ruleId": string(), "days": integer(), "violations": array(r("RuleViolation")) }),
    )
}

fn feedback_stats() -> Value {
    object(
        &["repos", "rules"],
        json!({ "repos": array(r("FeedbackCount")), "rules": array(r("FeedbackCount")) }),
    )
}

/// A vote recorded (`changed`: false when the comment already had this signal).
fn vote() -> Value {
    object(
        &["signal", "changed"],
        json!({ "signal": one_of(&["helpful", "not_helpful"]), "changed": boolean() }),
    )
}

fn invite_issued() -> Value {
    r("InviteIssued")
}

fn invites_page() -> Value {
    page("invites", "Invite")
}

fn invite_preview() -> Value {
    object(
        &["orgName", "orgSlug", "invitedBy", "email", "role", "expiresAt"],
        json!({
            "orgName": string(), "orgSlug": string(), "invitedBy": nullable_string(), "email": string(),
            "role": role(), "expiresAt": time(),
        }),
    )
}

fn accepted_org() -> Value {
    object(
        &["id", "slug", "name", "role"],
        json!({ "id": uuid(), "slug": string(), "name": string(), "role": role() }),
    )
}

fn accepted_user() -> Value {
    object(&["id", "email"], json!({ "id": uuid(), "email": string() }))
}

/// Accepted with the caller's session: the org joined and the account.
fn invite_accepted() -> Value {
    object(
        &["org", "user"],
        json!({ "org": accepted_org(), "user": accepted_user() }),
    )
}

/// Accepted with a new account (logged in): also whether its verification mail went out.
fn invite_accepted_new_account() -> Value {
    object(
        &["org", "user", "emailVerification"],
        json!({ "org": accepted_org(), "user": accepted_user(), "emailVerification": email_verification() }),
    )
}

fn repos_page() -> Value {
    page("repos", "Repo")
}

fn repo() -> Value {
    one("repo", "Repo")
}

fn installations() -> Value {
    object(&["installations"], json!({ "installations": array(r("Installation")) }))
}

fn installation() -> Value {
    one("installation", "Installation")
}

/// `services::installations::PickerPage`.
fn installation_repositories() -> Value {
    let repository = object(
        &["fullName", "private", "connectedRepoId"],
        json!({ "fullName": string(), "private": boolean(), "connectedRepoId": nullable_string() }),
    );
    object(
        &["repositories", "totalCount", "page", "nextPage"],
        json!({
            "repositories": array(repository), "totalCount": integer(), "page": integer(),
            "nextPage": { "type": ["integer", "null"] },
        }),
    )
}

fn review_queued() -> Value {
    object(
        &["status", "deliveryId"],
        json!({ "status": one_of(&["queued"]), "deliveryId": string() }),
    )
}

fn reviews_page() -> Value {
    page("reviews", "Review")
}

/// `null`: never indexed.
fn index_status() -> Value {
    object(&["index"], json!({ "index": nullable_ref("Index") }))
}

fn index_queued() -> Value {
    one("index", "Index")
}

/// Durably queued, or already seen (`duplicate`, not queued again).
fn delivery_accepted() -> Value {
    object(
        &["status", "deliveryId"],
        json!({ "status": one_of(&["accepted", "duplicate"]), "deliveryId": string() }),
    )
}

/// A provider's ping (GitHub `ping`, …): recorded, nothing queued.
fn ping() -> Value {
    object(
        &["ok", "event"],
        json!({ "ok": { "type": "boolean", "enum": [true] }, "event": one_of(&["ping"]) }),
    )
}

fn document() -> Value {
    object(
        &["openapi", "info", "paths", "components"],
        json!({
            "openapi": string(), "info": { "type": "object" }, "paths": { "type": "object" },
            "components": { "type": "object" },
        }),
    )
}

/// Every success answer with a JSON body (204s have none; `GET /api/feedback` answers a
/// page).
pub const ANSWERS: &[Answer] = &[
    answer("POST", "/api/auth/signup", 201, signed_up),
    answer("POST", "/api/auth/login", 200, logged_in),
    answer("GET", "/api/auth/me", 200, me),
    answer("GET", "/api/auth/sessions", 200, sessions),
    answer("POST", "/api/auth/verify-email", 200, user),
    answer("POST", "/api/auth/change-email", 202, email_change_sent),
    answer("POST", "/api/auth/resend-verification", 202, verification_resent),
    answer("POST", "/api/auth/password-reset", 202, reset_requested),
    answer("POST", "/api/auth/password-reset/confirm", 200, user),
    answer("GET", "/api/orgs/me", 200, orgs_page),
    answer("GET", "/api/admin/orgs", 200, orgs_page),
    answer("POST", "/api/orgs", 201, org_created),
    answer("GET", "/api/orgs/{slug}", 200, org_detail),
    answer("PATCH", "/api/orgs/{slug}", 200, org),
    answer("DELETE", "/api/orgs/{slug}", 200, org),
    answer("POST", "/api/orgs/{slug}/restore", 200, org),
    answer("POST", "/api/orgs/{slug}/transfer", 200, transferred),
    answer("GET", "/api/orgs/{slug}/members", 200, members_page),
    // Adding a member invites them: the same answer as POST …/invites.
    answer("POST", "/api/orgs/{slug}/members", 201, invite_issued),
    answer("PATCH", "/api/orgs/{slug}/members/{userId}", 200, role_changed),
    answer("GET", "/api/orgs/{slug}/audit", 200, audit_page),
    answer("GET", "/api/orgs/{slug}/usage", 200, usage),
    answer("GET", "/api/orgs/{slug}/webhooks", 200, webhooks),
    answer("POST", "/api/orgs/{slug}/webhooks/rotate", 200, webhook_rotated),
    answer("GET", "/api/orgs/{slug}/api-keys", 200, api_keys_page),
    answer("POST", "/api/orgs/{slug}/api-keys", 201, api_key_created),
    answer("GET", "/api/orgs/{slug}/review-settings", 200, settings),
    answer("PATCH", "/api/orgs/{slug}/review-settings", 200, settings),
    answer("GET", "/api/orgs/{slug}/review-settings/{repoId}", 200, repo_settings),
    answer("PATCH", "/api/orgs/{slug}/review-settings/{repoId}", 200, settings),
    answer("GET", "/api/orgs/{slug}/rules", 200, rules_page),
    answer("POST", "/api/orgs/{slug}/rules", 201, rule),
    answer("GET", "/api/orgs/{slug}/rules/{id}", 200, rule),
    answer("PATCH", "/api/orgs/{slug}/rules/{id}", 200, rule),
    answer("GET", "/api/orgs/{slug}/rules/{id}/violations", 200, violations),
    answer("GET", "/api/orgs/{slug}/feedback", 200, feedback_stats),
    answer("POST", "/api/feedback", 200, vote),
    answer("POST", "/api/orgs/{slug}/invites", 201, invite_issued),
    answer("GET", "/api/orgs/{slug}/invites", 200, invites_page),
    answer("POST", "/api/orgs/{slug}/invites/{id}/resend", 200, invite_issued),
    answer("GET", "/api/invites/{token}", 200, invite_preview),
    answer("POST", "/api/auth/accept-invite", 200, invite_accepted),
    answer("POST", "/api/auth/accept-invite", 201, invite_accepted_new_account),
    answer("GET", "/api/repos", 200, repos_page),
    answer("POST", "/api/repos", 201, repo),
    answer("GET", "/api/repos/{id}", 200, repo),
    answer("POST", "/api/repos/{id}/review", 202, review_queued),
    answer("GET", "/api/repos/{id}/reviews", 200, reviews_page),
    answer("GET", "/api/repos/{id}/index/status", 200, index_status),
    answer("POST", "/api/repos/{id}/index", 202, index_queued),
    answer("GET", "/api/orgs/{slug}/installations", 200, installations),
    answer("POST", "/api/orgs/{slug}/installations", 201, installation),
    answer(
        "GET",
        "/api/orgs/{slug}/installations/{installationId}/repositories",
        200,
        installation_repositories,
    ),
    answer("POST", "/api/webhooks/{provider}/{orgSlug}", 202, delivery_accepted),
    answer("POST", "/api/webhooks/{provider}/{orgSlug}", 200, ping),
    answer("POST", "/api/webhooks/{provider}", 202, delivery_accepted),
    answer("POST", "/api/webhooks/{provider}", 200, ping),
    answer("GET", "/api/openapi.json", 200, document),
];

#[cfg(test)]
#[path = "responses_tests.rs"]
mod tests;
