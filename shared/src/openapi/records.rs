//! The records the success answers carry, as the document's `components/schemas`: each
//! one the JSON its Rust type serializes to (`store::*Record`, `review_settings`,
//! `services::settings::ReviewUsage`, …) or the view a handler builds (`functions/*`).
//! Objects list the fields that are always present as `required`, nullable fields as
//! `["…", "null"]`, and leave `additionalProperties` open (fields may be added). Enums only
//! where the Rust type is a closed set.

use serde_json::{Map, Value, json};

use crate::domain::Provider;

/// `{"$ref": "#/components/schemas/<name>"}`.
pub(super) fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The record `name`, or `null`.
pub(super) fn nullable_ref(name: &str) -> Value {
    json!({ "anyOf": [r(name), { "type": "null" }] })
}

/// An object with `properties` (a JSON object), the `required` ones always present.
pub(super) fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
}

pub(super) fn array(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

pub(super) fn string() -> Value {
    json!({ "type": "string" })
}

pub(super) fn nullable_string() -> Value {
    json!({ "type": ["string", "null"] })
}

pub(super) fn integer() -> Value {
    json!({ "type": "integer" })
}

pub(super) fn boolean() -> Value {
    json!({ "type": "boolean" })
}

/// A time: unix seconds, like every time in the API.
pub(super) fn time() -> Value {
    json!({ "type": "integer", "description": "unix seconds" })
}

pub(super) fn nullable_time() -> Value {
    json!({ "type": ["integer", "null"], "description": "unix seconds" })
}

/// A UUID (`UserId`, `OrgId`, `SessionId`).
pub(super) fn uuid() -> Value {
    json!({ "type": "string", "format": "uuid" })
}

/// One of `values` (a closed Rust enum's serialized names).
pub(super) fn one_of(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

/// One of `values`, or `null`.
fn nullable_one_of(values: &[&str]) -> Value {
    let mut all: Vec<Value> = values.iter().map(|v| json!(v)).collect();
    all.push(Value::Null);
    json!({ "type": ["string", "null"], "enum": all })
}

/// `domain::Role`.
pub(super) fn role() -> Value {
    one_of(&["owner", "admin", "member"])
}

/// `domain::Plan`.
fn plan() -> Value {
    one_of(&["free", "team", "enterprise"])
}

/// `domain::Provider`.
pub(super) fn provider() -> Value {
    let names: Vec<&str> = Provider::ALL.iter().map(|p| p.as_str()).collect();
    one_of(&names)
}

/// `email::MailStatus`.
pub(super) fn mail_status() -> Value {
    one_of(&["sent", "failed"])
}

/// `review_settings::Severity`.
fn severity() -> Value {
    one_of(&["nit", "minor", "major", "critical"])
}

/// `review_settings::Depth`.
fn depth() -> Value {
    one_of(&["fast", "standard", "deep"])
}

/// `functions/auth`'s `UserView`: the account as its owner sees it.
fn user() -> Value {
    object(
        &["id", "email", "isSystemAdmin", "emailVerified"],
        json!({ "id": uuid(), "email": string(), "isSystemAdmin": boolean(), "emailVerified": boolean() }),
    )
}

/// `functions/auth`'s `OrgView`: an org the caller belongs to, with their role (signup,
/// login, me).
fn membership() -> Value {
    object(
        &["id", "slug", "name", "plan", "role"],
        json!({ "id": uuid(), "slug": string(), "name": string(), "plan": plan(), "role": role() }),
    )
}

/// `functions/orgs`'s `org_json`: the org record, with the caller's role (`null` in the
/// system admins' list of every org).
fn org() -> Value {
    object(
        &[
            "id",
            "slug",
            "name",
            "plan",
            "role",
            "createdAt",
            "updatedAt",
            "deletedAt",
            "purgeAfter",
        ],
        json!({
            "id": uuid(), "slug": string(), "name": string(), "plan": plan(),
            "role": nullable_one_of(&["owner", "admin", "member"]),
            "createdAt": time(), "updatedAt": time(), "deletedAt": nullable_time(), "purgeAfter": nullable_time(),
        }),
    )
}

/// `store::MemberRecord`.
fn member() -> Value {
    object(
        &["userId", "email", "role", "joinedAt"],
        json!({ "userId": uuid(), "email": string(), "role": role(), "joinedAt": time() }),
    )
}

/// `webhooks::secrets_json`: a provider's webhook URL and secret, shown in full once.
fn webhook_secret() -> Value {
    object(
        &["provider", "url", "secret"],
        json!({ "provider": provider(), "url": string(), "secret": string() }),
    )
}

/// `functions/orgs`'s webhook view: URL, secret preview, rotation and delivery health.
fn webhook() -> Value {
    let last_delivery = object(
        &["at", "outcome", "deliveryId"],
        json!({ "at": time(), "outcome": nullable_string(), "deliveryId": nullable_string() }),
    );
    let last_rejected = object(&["at", "reason"], json!({ "at": time(), "reason": nullable_string() }));
    let or_null = |mut v: Value| {
        v["type"] = json!(["object", "null"]);
        v
    };
    object(
        &[
            "provider",
            "url",
            "secretPreview",
            "createdAt",
            "rotatedAt",
            "previousSecretValidUntil",
            "lastDelivery",
            "lastRejected",
            "rejectedCount",
        ],
        json!({
            "provider": provider(), "url": string(), "secretPreview": string(), "createdAt": time(),
            "rotatedAt": nullable_time(), "previousSecretValidUntil": nullable_time(),
            "lastDelivery": or_null(last_delivery), "lastRejected": or_null(last_rejected),
            "rejectedCount": integer(),
        }),
    )
}

/// `store::ApiKeyRecord` (never the key).
fn api_key() -> Value {
    object(
        &[
            "id",
            "name",
            "role",
            "preview",
            "createdAt",
            "createdBy",
            "expiresAt",
            "lastUsedAt",
        ],
        json!({
            "id": string(), "name": string(), "role": role(), "preview": string(), "createdAt": time(),
            "createdBy": string(), "expiresAt": nullable_time(), "lastUsedAt": nullable_time(),
        }),
    )
}

/// `store::AuditRecord` (`details`: any JSON the action recorded, `null` when none).
fn audit_entry() -> Value {
    let actor = object(
        &["type", "id"],
        json!({ "type": one_of(&["user", "api_key", "system"]), "id": string(), "email": string() }),
    );
    object(
        &["id", "at", "action", "actor", "target", "details", "viaSystemAdmin"],
        json!({
            "id": string(), "at": time(), "action": string(), "actor": actor, "target": nullable_string(),
            "details": { "description": "what the action recorded (any JSON; null: nothing)" },
            "viaSystemAdmin": boolean(),
        }),
    )
}

/// `services::settings::ReviewUsage`.
fn usage() -> Value {
    object(
        &[
            "month",
            "plan",
            "tokens",
            "tokenBudget",
            "budgetExhausted",
            "llmReviews",
            "reviewsThisHour",
            "reviewsPerHour",
        ],
        json!({
            "month": { "type": "string", "description": "yyyy-mm (UTC)" }, "plan": plan(), "tokens": integer(),
            "tokenBudget": { "type": ["integer", "null"], "description": "null: unlimited" },
            "budgetExhausted": boolean(), "llmReviews": integer(), "reviewsThisHour": integer(),
            "reviewsPerHour": integer(),
        }),
    )
}

/// `review_settings::SettingsLayer`: only the fields the layer sets.
fn settings_layer() -> Value {
    object(
        &[],
        json!({
            "autoReview": boolean(), "reviewOnPush": boolean(), "skipDrafts": boolean(),
            "ignoredPaths": array(string()), "maxComments": integer(), "minSeverity": severity(),
            "depth": depth(), "mention": string(), "reviewsPerHour": integer(),
            "minConfidence": { "type": "number" }, "contextTokens": integer(),
        }),
    )
}

/// `store::RuleRecord` (its `RuleFields` flattened).
fn rule() -> Value {
    object(
        &[
            "id",
            "name",
            "description",
            "category",
            "repoId",
            "pathGlob",
            "enabled",
            "createdBy",
            "createdAt",
            "updatedBy",
            "updatedAt",
        ],
        json!({
            "id": string(), "name": string(), "description": string(),
            "category": one_of(&["security", "correctness", "performance", "style", "custom"]),
            "repoId": { "type": ["string", "null"], "description": "null: the whole org" },
            "pathGlob": nullable_string(), "enabled": boolean(), "createdBy": string(), "createdAt": time(),
            "updatedBy": string(), "updatedAt": time(),
        }),
    )
}

/// `store::RuleViolation`.
fn rule_violation() -> Value {
    object(
        &["commentId", "repoId", "pr", "path", "line", "at", "excerpt"],
        json!({
            "commentId": string(), "repoId": string(), "pr": integer(), "path": string(), "line": integer(),
            "at": time(), "excerpt": string(),
        }),
    )
}

/// `store::FeedbackStats`: the signal counts of one repository or rule.
fn feedback_count() -> Value {
    object(
        &["kind", "id", "helpful", "notHelpful"],
        json!({ "kind": one_of(&["repo", "rule"]), "id": string(), "helpful": integer(), "notHelpful": integer() }),
    )
}

/// `store::InviteRecord` (`mailStatus` null: created before mail existed).
fn invite() -> Value {
    object(
        &[
            "id",
            "email",
            "role",
            "status",
            "invitedBy",
            "invitedByEmail",
            "createdAt",
            "expiresAt",
            "mailStatus",
        ],
        json!({
            "id": string(), "email": string(), "role": role(),
            "status": one_of(&["pending", "accepted", "revoked"]), "invitedBy": string(),
            "invitedByEmail": nullable_string(), "createdAt": time(), "expiresAt": time(),
            "mailStatus": nullable_one_of(&["sent", "failed"]),
        }),
    )
}

/// `store::RepoRecord` (never the token).
fn repo() -> Value {
    object(
        &[
            "id",
            "provider",
            "fullName",
            "url",
            "tokenPreview",
            "installationId",
            "createdAt",
            "createdBy",
        ],
        json!({
            "id": string(), "provider": provider(), "fullName": string(), "url": nullable_string(),
            "tokenPreview": nullable_string(), "installationId": { "type": ["integer", "null"] },
            "createdAt": time(), "createdBy": string(),
        }),
    )
}

/// `store::InstallationRecord` (never the key).
fn installation() -> Value {
    let names = [
        "id",
        "appId",
        "appSlug",
        "account",
        "repositorySelection",
        "botLogin",
        "keyFingerprint",
        "createdAt",
        "createdBy",
    ];
    object(
        &names,
        json!({
            "id": integer(), "appId": integer(), "appSlug": string(), "account": string(),
            "repositorySelection": string(), "botLogin": string(), "keyFingerprint": string(),
            "createdAt": time(), "createdBy": string(),
        }),
    )
}

/// `store::ReviewJob`: the fields after `createdAt` appear once the job got that far.
fn review() -> Value {
    let dropped_names = [
        "lowConfidence",
        "unverified",
        "invalidAnchor",
        "belowSeverity",
        "duplicate",
        "overCap",
    ];
    let mut dropped_props = Map::new();
    for name in dropped_names {
        dropped_props.insert(name.to_owned(), integer());
    }
    let dropped = object(&dropped_names, Value::Object(dropped_props));
    let walkthrough = array(object(&["path", "text"], json!({ "path": string(), "text": string() })));
    let llm_answer = object(
        &["truncated", "retriedSmaller"],
        json!({ "truncated": boolean(), "salvaged": integer(), "retriedSmaller": boolean() }),
    );
    object(
        &[
            "id",
            "repoId",
            "provider",
            "prNumber",
            "headSha",
            "action",
            "title",
            "author",
            "deliveryId",
            "source",
            "status",
            "createdAt",
        ],
        json!({
            "id": string(), "repoId": string(), "provider": provider(), "prNumber": integer(),
            "headSha": nullable_string(), "action": string(), "title": nullable_string(),
            "author": nullable_string(), "deliveryId": string(), "source": string(),
            "status": { "type": "string", "description": "queued, running, posted, skipped, failed, …" },
            "createdAt": time(), "reason": string(), "commentCount": integer(), "model": string(),
            "promptTokens": integer(), "completionTokens": integer(), "durationMs": integer(),
            "reviewUrl": string(), "reviewedSha": string(), "diffBaseSha": string(),
            "context": { "type": "object", "description": "what the codebase index gave the review" },
            "finishedAt": time(), "dropped": dropped, "walkthrough": walkthrough, "llmAnswer": llm_answer,
        }),
    )
}

/// `store::IndexStats`.
fn index_stats() -> Value {
    object(
        &[
            "files",
            "symbols",
            "edges",
            "bytes",
            "lines",
            "languages",
            "skipped",
            "graphBytes",
            "vectors",
        ],
        json!({
            "files": integer(), "symbols": integer(), "edges": integer(), "bytes": integer(), "lines": integer(),
            "languages": { "type": "object", "description": "files per language", "additionalProperties": integer() },
            "skipped": integer(), "graphBytes": integer(), "vectors": integer(),
        }),
    )
}

/// `store::IndexRecord`.
fn index() -> Value {
    let progress = object(
        &["filesDone", "filesTotal"],
        json!({ "filesDone": integer(), "filesTotal": { "type": ["integer", "null"] } }),
    );
    let error = object(&["code", "message"], json!({ "code": string(), "message": string() }));
    let mut nullable_error = error;
    nullable_error["type"] = json!(["object", "null"]);
    object(
        &[
            "status",
            "kind",
            "phase",
            "progress",
            "commit",
            "stats",
            "queuedAt",
            "startedAt",
            "finishedAt",
            "error",
        ],
        json!({
            "status": one_of(&["queued", "indexing", "ready", "failed"]),
            "kind": one_of(&["full", "incremental"]),
            "phase": nullable_one_of(&["parsing", "graph", "embeddings"]),
            "progress": progress, "commit": nullable_string(), "stats": nullable_ref("IndexStats"),
            "queuedAt": time(), "startedAt": nullable_time(), "finishedAt": nullable_time(),
            "error": nullable_error,
        }),
    )
}

/// `functions/auth`'s session view: one of the caller's live sessions.
fn session() -> Value {
    object(
        &["id", "createdAt", "lastSeenAt", "expiresAt", "current"],
        json!({
            "id": uuid(), "createdAt": time(), "lastSeenAt": time(), "expiresAt": time(), "current": boolean(),
        }),
    )
}

/// `functions/invites`'s `issued_json`: an invitation sent (or sent again).
fn invite_issued() -> Value {
    object(
        &["invite", "acceptUrl", "mailSent"],
        json!({ "invite": r("Invite"), "acceptUrl": string(), "mailSent": boolean() }),
    )
}

/// A record: its name in `components/schemas`, its schema.
type Record = (&'static str, fn() -> Value);

/// Every record, by its name in `components/schemas`.
pub fn components() -> Value {
    let records: [Record; 21] = [
        ("User", user),
        ("Membership", membership),
        ("Org", org),
        ("Member", member),
        ("WebhookSecret", webhook_secret),
        ("Webhook", webhook),
        ("ApiKey", api_key),
        ("AuditEntry", audit_entry),
        ("Usage", usage),
        ("SettingsLayer", settings_layer),
        ("Rule", rule),
        ("RuleViolation", rule_violation),
        ("FeedbackCount", feedback_count),
        ("Invite", invite),
        ("InviteIssued", invite_issued),
        ("Repo", repo),
        ("Installation", installation),
        ("Review", review),
        ("IndexStats", index_stats),
        ("Index", index),
        ("Session", session),
    ];
    Value::Object(
        records
            .into_iter()
            .map(|(name, schema)| (name.to_owned(), schema()))
            .collect(),
    )
}
