//! Real records, serialized by their own `Serialize` (with every optional field absent,
//! then present), against their `components/schemas`; and the answers the handlers build
//! from them. The views built in the function crates (`UserView`, `OrgView`, `org_json`,
//! the session, webhook and invitation views) are rebuilt here field for field from the
//! same records: this crate's tests cannot call the function crates.

use serde_json::{Value, json};

use super::{conforms, is_record, refuses};
use crate::crypto::{PasswordHashString, WebhookSecret};
use crate::domain::{OrgId, OrgName, Plan, Provider, Role, SessionId, Slug, UserId};
use crate::email::MailStatus;
use crate::http::page_json;
use crate::review_report::{AnswerReport, Dropped, WalkthroughLine};
use crate::review_settings::{Confidence, Depth, SettingsLayer, Severity};
use crate::rules::{PathGlob, RuleCategory, RuleDescription};
use crate::services::settings::ReviewUsage;
use crate::store::{
    Actor, ApiKeyRecord, AuditRecord, FeedbackStats, IndexFailure, IndexKind, IndexPhase, IndexProgress, IndexRecord,
    IndexStats, IndexStatus, InviteRecord, InviteStatus, MemberRecord, MembershipView, OrgRecord, Page, RepoRecord,
    ReviewJob, RuleFields, RuleRecord, RuleViolation, SealedSecret, SessionRecord, UserRecord,
};
use crate::webhooks::secrets_json;

const NOW: i64 = 1_750_000_000;

fn user() -> UserRecord {
    UserRecord {
        id: UserId::new(),
        email: crate::domain::Email::parse("ada@example.com").expect("email"),
        password_hash: PasswordHashString::from_stored("$argon2id$stored".into()),
        is_system_admin: false,
        session_epoch: 0,
        created_at: NOW,
        email_verified: true,
    }
}

fn org_record(deleted: bool) -> OrgRecord {
    let mut org = OrgRecord::new(
        Slug::parse("acme").expect("slug"),
        OrgName::parse("Acme").expect("name"),
        NOW,
    );
    if deleted {
        org.plan = Plan::Team;
        org.deleted_at = Some(NOW + 1);
        org.purge_after = Some(NOW + 86_400);
    }
    org
}

// ---- the function crates' views, field for field ----

/// functions/auth `UserView`.
fn user_view(u: &UserRecord) -> Value {
    json!({ "id": u.id, "email": u.email.as_str(), "isSystemAdmin": u.is_system_admin, "emailVerified": u.email_verified })
}

/// functions/auth `OrgView`.
fn membership_view(m: &MembershipView) -> Value {
    json!({ "id": m.org.id, "slug": m.org.slug.as_str(), "name": m.org.name.as_str(), "plan": m.org.plan, "role": m.role.as_str() })
}

/// functions/orgs `org_json`.
fn org_view(org: &OrgRecord, role: Option<Role>) -> Value {
    json!({
        "id": org.id, "slug": org.slug.as_str(), "name": org.name.as_str(), "plan": org.plan, "role": role,
        "createdAt": org.created_at, "updatedAt": org.updated_at, "deletedAt": org.deleted_at,
        "purgeAfter": org.purge_after,
    })
}

/// functions/auth `list_sessions`' item.
fn session_view(s: &SessionRecord, current: &SessionId) -> Value {
    json!({
        "id": s.id, "createdAt": s.created_at, "lastSeenAt": s.last_seen_at.unwrap_or(s.created_at),
        "expiresAt": s.expires_at, "current": s.id == *current,
    })
}

fn memberships() -> Vec<MembershipView> {
    vec![
        MembershipView {
            org: org_record(false),
            role: Role::Owner,
            joined_at: NOW,
        },
        MembershipView {
            org: org_record(true),
            role: Role::Member,
            joined_at: NOW,
        },
    ]
}

#[test]
fn the_account_answers_conform() {
    let u = user();
    let orgs: Vec<Value> = memberships().iter().map(membership_view).collect();
    for active in [None, Some(orgs[0].clone())] {
        conforms(
            "GET",
            "/api/auth/me",
            200,
            &json!({ "user": user_view(&u), "orgs": orgs, "activeOrg": active }),
        );
    }
    conforms(
        "POST",
        "/api/auth/login",
        200,
        &json!({ "user": user_view(&u), "orgs": [] }),
    );
    conforms("POST", "/api/auth/verify-email", 200, &json!({ "user": user_view(&u) }));
    let secrets: Vec<(WebhookSecret, SealedSecret)> = Provider::ALL
        .iter()
        .map(|&p| {
            let sealed = SealedSecret {
                provider: p,
                ciphertext: vec![1],
                preview: "ab…cd".into(),
            };
            (WebhookSecret::generate(p), sealed)
        })
        .collect();
    let slug = Slug::parse("acme").expect("slug");
    conforms(
        "POST",
        "/api/auth/signup",
        201,
        &json!({
            "user": user_view(&u), "emailVerification": { "mailStatus": MailStatus::Failed },
            "org": orgs[0], "webhooks": secrets_json(Some("https://agnus.example"), &slug, &secrets),
        }),
    );
    conforms(
        "POST",
        "/api/orgs",
        201,
        &json!({ "org": org_view(&org_record(false), Some(Role::Owner)), "webhooks": secrets_json(None, &slug, &secrets) }),
    );
    let current = SessionId::new();
    let sessions: Vec<Value> = [None, Some(NOW + 60)]
        .into_iter()
        .enumerate()
        .map(|(i, last_seen_at)| {
            let s = SessionRecord {
                id: if i == 0 { current } else { SessionId::new() },
                user_id: u.id,
                epoch: 0,
                created_at: NOW,
                expires_at: NOW + 3_600,
                last_seen_at,
            };
            session_view(&s, &current)
        })
        .collect();
    conforms("GET", "/api/auth/sessions", 200, &json!({ "sessions": sessions }));
    refuses("Session", json!({ "id": current, "createdAt": NOW }));
}

#[test]
fn org_answers_conform() {
    let members = Page {
        items: vec![MemberRecord {
            user_id: UserId::new(),
            email: "ada@example.com".into(),
            role: Role::Admin,
            joined_at: NOW,
        }],
        next_cursor: Some("abc".into()),
    };
    let member = is_record("Member", &members.items[0]);
    conforms("GET", "/api/orgs/{slug}/members", 200, &page_json("members", &members));
    let org = org_view(&org_record(true), Some(Role::Owner));
    let legacy = json!({ "sunsetAt": NOW, "lastDeliveryAt": null, "urls": { "github": "/api/webhooks/github/acme", "azure": "/api/webhooks/azure/acme" } });
    conforms(
        "GET",
        "/api/orgs/{slug}",
        200,
        &json!({ "org": org, "members": [member], "membersNextCursor": null, "legacyWebhooks": legacy }),
    );
    for path in ["/api/orgs/me", "/api/admin/orgs"] {
        let orgs = [
            org_view(&org_record(false), None),
            org_view(&org_record(true), Some(Role::Member)),
        ];
        conforms("GET", path, 200, &json!({ "orgs": orgs, "nextCursor": null }));
    }
    for (method, path) in [
        ("PATCH", "/api/orgs/{slug}"),
        ("DELETE", "/api/orgs/{slug}"),
        ("POST", "/api/orgs/{slug}/restore"),
    ] {
        conforms(method, path, 200, &json!({ "org": org }));
    }
    refuses("Org", json!({ "id": "x", "slug": "acme" }));
    conforms(
        "PATCH",
        "/api/orgs/{slug}/members/{userId}",
        200,
        &json!({ "member": { "userId": UserId::new(), "role": Role::Admin } }),
    );
    conforms(
        "POST",
        "/api/orgs/{slug}/transfer",
        200,
        &json!({ "ownerId": UserId::new() }),
    );
}

#[test]
fn audit_entries_conform() {
    let entries = Page {
        items: vec![
            AuditRecord {
                id: "a1".into(),
                at: NOW,
                action: "org.create".into(),
                actor: Actor::user(&user()),
                target: Some("acme".into()),
                details: json!({ "name": "Acme" }),
                via_system_admin: false,
            },
            AuditRecord {
                id: "a2".into(),
                at: NOW,
                action: "webhook.rejected".into(),
                actor: Actor::system("intake"),
                target: None,
                details: Value::Null,
                via_system_admin: true,
            },
        ],
        next_cursor: None,
    };
    is_record("AuditEntry", &entries.items[1]);
    conforms("GET", "/api/orgs/{slug}/audit", 200, &page_json("events", &entries));
}

#[test]
fn usage_and_settings_conform() {
    for token_budget in [None, Some(1_000_000)] {
        let usage = ReviewUsage {
            month: "2025-06".into(),
            plan: Plan::Enterprise,
            tokens: 12,
            token_budget,
            budget_exhausted: false,
            llm_reviews: 3,
            reviews_this_hour: 1,
            reviews_per_hour: 20,
        };
        is_record("Usage", &usage);
        conforms("GET", "/api/orgs/{slug}/usage", 200, &json!({ "usage": usage }));
    }
    let full = SettingsLayer {
        auto_review: Some(true),
        review_on_push: Some(false),
        skip_drafts: Some(true),
        ignored_paths: Some(vec![PathGlob::parse("vendor/**").expect("glob")]),
        max_comments: Some(10),
        min_severity: Some(Severity::Major),
        depth: Some(Depth::Deep),
        mention: Some("@agnus".into()),
        reviews_per_hour: Some(5),
        min_confidence: Confidence::new(0.75),
        context_tokens: Some(0),
    };
    let empty = SettingsLayer::default();
    is_record("SettingsLayer", &full);
    conforms(
        "GET",
        "/api/orgs/{slug}/review-settings",
        200,
        &json!({ "settings": empty }),
    );
    conforms(
        "GET",
        "/api/orgs/{slug}/review-settings/{repoId}",
        200,
        &json!({ "settings": empty, "orgDefault": full }),
    );
    conforms(
        "PATCH",
        "/api/orgs/{slug}/review-settings/{repoId}",
        200,
        &json!({ "settings": full }),
    );
    refuses("SettingsLayer", json!({ "depth": "abyssal" }));
    refuses("SettingsLayer", json!({ "maxComments": null }));
}

fn rule(scoped: bool) -> RuleRecord {
    RuleRecord {
        id: "r1".into(),
        fields: RuleFields {
            name: "No SQL by hand".into(),
            description: RuleDescription::parse("Use the query builder.").expect("description"),
            category: RuleCategory::Security,
            repo_id: scoped.then(|| "repo1".to_owned()),
            path_glob: scoped.then(|| PathGlob::parse("src/**").expect("glob")),
            enabled: true,
        },
        created_by: "user".into(),
        created_at: NOW,
        updated_by: "user".into(),
        updated_at: NOW,
    }
}

#[test]
fn rules_and_feedback_conform() {
    let rules = Page {
        items: vec![rule(false), rule(true)],
        next_cursor: None,
    };
    is_record("Rule", &rules.items[0]);
    conforms("GET", "/api/orgs/{slug}/rules", 200, &page_json("rules", &rules));
    conforms("POST", "/api/orgs/{slug}/rules", 201, &json!({ "rule": rule(true) }));
    let violation = RuleViolation {
        comment_id: "c1".into(),
        repo_id: "repo1".into(),
        pr: 7,
        path: "src/a.rs".into(),
        line: 3,
        at: NOW,
        excerpt: "…".into(),
    };
    conforms(
        "GET",
        "/api/orgs/{slug}/rules/{id}/violations",
        200,
        &json!({ "ruleId": "r1", "days": 30, "violations": [violation] }),
    );
    let count = |kind| FeedbackStats {
        kind,
        id: "x".into(),
        helpful: 2,
        not_helpful: 1,
    };
    conforms(
        "GET",
        "/api/orgs/{slug}/feedback",
        200,
        &json!({ "repos": [count("repo")], "rules": [count("rule")] }),
    );
    let signal = crate::feedback::Signal::NotHelpful;
    conforms(
        "POST",
        "/api/feedback",
        200,
        &json!({ "signal": signal.as_str(), "changed": true }),
    );
}

fn api_key(used: bool) -> ApiKeyRecord {
    ApiKeyRecord {
        id: "k1".into(),
        name: "ci".into(),
        role: Role::Member,
        preview: "agn_…abcd".into(),
        created_at: NOW,
        created_by: "user".into(),
        expires_at: used.then_some(NOW + 86_400),
        last_used_at: used.then_some(NOW),
        key_hash: "hash".into(),
    }
}

#[test]
fn credentials_conform() {
    let keys = Page {
        items: vec![api_key(false), api_key(true)],
        next_cursor: None,
    };
    let json = is_record("ApiKey", &keys.items[1]);
    assert!(json.get("keyHash").is_none());
    conforms("GET", "/api/orgs/{slug}/api-keys", 200, &page_json("apiKeys", &keys));
    conforms(
        "POST",
        "/api/orgs/{slug}/api-keys",
        201,
        &json!({ "apiKey": api_key(false), "key": "agn_secret" }),
    );
    // functions/orgs `credentials::webhooks`' item, never delivered then delivered.
    let hooks: Vec<Value> = [false, true]
        .into_iter()
        .map(|seen| {
            json!({
                "provider": Provider::Gitlab, "url": "/api/webhooks/gitlab/acme", "secretPreview": "whsec_…",
                "createdAt": NOW, "rotatedAt": seen.then_some(NOW), "previousSecretValidUntil": seen.then_some(NOW),
                "lastDelivery": seen.then(|| json!({ "at": NOW, "outcome": "accepted", "deliveryId": null })),
                "lastRejected": seen.then(|| json!({ "at": NOW, "reason": Some("bad_signature") })),
                "rejectedCount": 1,
            })
        })
        .collect();
    conforms("GET", "/api/orgs/{slug}/webhooks", 200, &json!({ "webhooks": hooks }));
    let secret = WebhookSecret::generate(Provider::Github);
    conforms(
        "POST",
        "/api/orgs/{slug}/webhooks/rotate",
        200,
        &json!({ "provider": Provider::Github, "url": "/api/webhooks/github/acme", "secret": secret.expose(), "previousSecretValidUntil": NOW }),
    );
}

fn invite(sent: Option<MailStatus>) -> InviteRecord {
    InviteRecord {
        id: "i1".into(),
        org_id: OrgId::new(),
        email: "bob@example.com".into(),
        role: Role::Admin,
        status: InviteStatus::Pending,
        invited_by: "user".into(),
        invited_by_email: sent.map(|_| "ada@example.com".to_owned()),
        created_at: NOW,
        expires_at: NOW + 7 * 86_400,
        token_hash: "hash".into(),
        mail_status: sent,
    }
}

#[test]
fn invitations_conform() {
    let invites = Page {
        items: vec![invite(None), invite(Some(MailStatus::Sent))],
        next_cursor: Some("c".into()),
    };
    is_record("Invite", &invites.items[0]);
    conforms("GET", "/api/orgs/{slug}/invites", 200, &page_json("invites", &invites));
    // functions/invites `issued_json`.
    let issued =
        json!({ "invite": invite(Some(MailStatus::Failed)), "acceptUrl": "https://app/invite#t", "mailSent": false });
    for (path, status) in [
        ("/api/orgs/{slug}/invites", 201),
        ("/api/orgs/{slug}/members", 201),
        ("/api/orgs/{slug}/invites/{id}/resend", 200),
    ] {
        conforms("POST", path, status, &issued);
    }
    let i = invite(None);
    conforms(
        "GET",
        "/api/invites/{token}",
        200,
        &json!({ "orgName": "Acme", "orgSlug": "acme", "invitedBy": i.invited_by_email, "email": i.email, "role": i.role, "expiresAt": i.expires_at }),
    );
    let org = json!({ "id": OrgId::new(), "slug": "acme", "name": "Acme", "role": Role::Member });
    let u = json!({ "id": UserId::new(), "email": "bob@example.com" });
    conforms(
        "POST",
        "/api/auth/accept-invite",
        200,
        &json!({ "org": org, "user": u }),
    );
    conforms(
        "POST",
        "/api/auth/accept-invite",
        201,
        &json!({ "org": org, "user": u, "emailVerification": { "mailStatus": MailStatus::Sent } }),
    );
}

fn repo(url: bool) -> RepoRecord {
    RepoRecord {
        id: "repo1".into(),
        provider: Provider::Azure,
        full_name: "org/project/repo".into(),
        url: url.then(|| "https://dev.azure.com/org/project/_git/repo".to_owned()),
        token_preview: url.then(|| "…abcd".to_owned()),
        installation_id: (!url).then_some(42),
        created_at: NOW,
        created_by: "user".into(),
        token_ciphertext: Some(vec![1, 2]),
        token_identity: None,
    }
}

fn review(done: bool) -> ReviewJob {
    let some = |s: &str| done.then(|| s.to_owned());
    ReviewJob {
        id: "j1".into(),
        repo_id: "repo1".into(),
        provider: Provider::Github,
        pr_number: 12,
        head_sha: some("abc"),
        action: "opened".into(),
        title: some("Fix"),
        author: some("ada"),
        delivery_id: "d1".into(),
        source: "webhook".into(),
        status: if done { "posted" } else { "queued" }.into(),
        created_at: NOW,
        reason: some("stale"),
        comment_count: done.then_some(3),
        model: some("model"),
        prompt_tokens: done.then_some(100),
        completion_tokens: done.then_some(20),
        duration_ms: done.then_some(900),
        review_url: some("https://github.com/o/r/pull/12#review"),
        reviewed_sha: some("abc"),
        diff_base_sha: some("def"),
        context: done.then(|| json!({ "mode": "graph" })),
        finished_at: done.then_some(NOW + 5),
        dropped: done.then_some(Dropped {
            low_confidence: 1,
            ..Dropped::default()
        }),
        walkthrough: done.then(|| {
            vec![WalkthroughLine {
                path: "src/a.rs".into(),
                text: "adds a check".into(),
            }]
        }),
        llm_answer: done.then_some(AnswerReport {
            truncated: true,
            salvaged: Some(2),
            retried_smaller: false,
        }),
        sort_key: "sk".into(),
        answer: None,
    }
}

fn index(ready: bool) -> IndexRecord {
    IndexRecord {
        status: if ready {
            IndexStatus::Ready
        } else {
            IndexStatus::Indexing
        },
        kind: IndexKind::Incremental,
        phase: (!ready).then_some(IndexPhase::Embeddings),
        progress: IndexProgress {
            files_done: 3,
            files_total: ready.then_some(3),
        },
        commit: ready.then(|| "abc".to_owned()),
        stats: ready.then(|| IndexStats {
            files: 3,
            languages: [("rust".to_owned(), 3)].into_iter().collect(),
            ..IndexStats::default()
        }),
        queued_at: NOW,
        started_at: ready.then_some(NOW),
        finished_at: ready.then_some(NOW),
        error: ready.then(|| IndexFailure {
            code: "too_large".into(),
            message: "…".into(),
        }),
        job_id: "job".into(),
        target: None,
        graph_key: None,
    }
}

#[test]
fn repository_answers_conform() {
    let repos = Page {
        items: vec![repo(false), repo(true)],
        next_cursor: None,
    };
    let json = is_record("Repo", &repos.items[0]);
    assert!(json.get("tokenCiphertext").is_none());
    conforms("GET", "/api/repos", 200, &page_json("repos", &repos));
    conforms("POST", "/api/repos", 201, &json!({ "repo": repo(true) }));
    let reviews = Page {
        items: vec![review(false), review(true)],
        next_cursor: Some("n".into()),
    };
    is_record("Review", &reviews.items[1]);
    conforms("GET", "/api/repos/{id}/reviews", 200, &page_json("reviews", &reviews));
    conforms(
        "POST",
        "/api/repos/{id}/review",
        202,
        &json!({ "status": "queued", "deliveryId": "manual-1" }),
    );
    for record in [None, Some(index(false)), Some(index(true))] {
        conforms("GET", "/api/repos/{id}/index/status", 200, &json!({ "index": record }));
    }
    is_record("Index", &index(true));
    conforms("POST", "/api/repos/{id}/index", 202, &json!({ "index": index(false) }));
    refuses("Index", json!({ "status": "gone" }));
}

#[test]
fn intake_and_document_answers_conform() {
    for path in ["/api/webhooks/{provider}/{orgSlug}", "/api/webhooks/{provider}"] {
        for status in ["accepted", "duplicate"] {
            conforms("POST", path, 202, &json!({ "status": status, "deliveryId": "d1" }));
        }
        conforms("POST", path, 200, &json!({ "ok": true, "event": "ping" }));
    }
    conforms("GET", "/api/openapi.json", 200, &crate::openapi::document());
}

/// Every variant of the closed enums the schemas list serializes to a listed name.
#[test]
fn enums_list_every_variant() {
    for (record, field, values) in [
        (
            "Member",
            "role",
            vec![json!(Role::Owner), json!(Role::Admin), json!(Role::Member)],
        ),
        ("Repo", "provider", Provider::ALL.iter().map(|p| json!(p)).collect()),
        (
            "Rule",
            "category",
            vec![
                json!(RuleCategory::Security),
                json!(RuleCategory::Correctness),
                json!(RuleCategory::Performance),
                json!(RuleCategory::Style),
                json!(RuleCategory::Custom),
            ],
        ),
        (
            "Invite",
            "status",
            vec![
                json!(InviteStatus::Pending),
                json!(InviteStatus::Accepted),
                json!(InviteStatus::Revoked),
            ],
        ),
        (
            "Index",
            "status",
            vec![
                json!(IndexStatus::Queued),
                json!(IndexStatus::Indexing),
                json!(IndexStatus::Ready),
                json!(IndexStatus::Failed),
            ],
        ),
        (
            "SettingsLayer",
            "minSeverity",
            vec![
                json!(Severity::Nit),
                json!(Severity::Minor),
                json!(Severity::Major),
                json!(Severity::Critical),
            ],
        ),
        (
            "SettingsLayer",
            "depth",
            vec![json!(Depth::Fast), json!(Depth::Standard), json!(Depth::Deep)],
        ),
        (
            "Usage",
            "plan",
            vec![json!(Plan::Free), json!(Plan::Team), json!(Plan::Enterprise)],
        ),
    ] {
        let doc = crate::openapi::document();
        let listed = &doc["components"]["schemas"][record]["properties"][field]["enum"];
        for v in values {
            assert!(
                listed.as_array().is_some_and(|l| l.contains(&v)),
                "{record}.{field}: {v} not in {listed}"
            );
        }
    }
}
