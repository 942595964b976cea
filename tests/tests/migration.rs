//! The upgrade from a real single-tenant AgnusAI install (product §10): its PostgreSQL
//! schema and data, in a real PostgreSQL (tests/pg/start.sh), migrated into the `default`
//! org on its own table in the emulator; then dry run, interruption and resumption,
//! re-run, `down` and redo, and the old credentials, key and webhook URL at work.

use std::time::Instant;

use agnus_migrate::{DatabaseUrl, Kind, MigrateError, Options};
use agnus_shared::crypto::{SecretBox, WebhookSecret};
use agnus_shared::domain::OrgId;
use agnus_shared::store::Store;
use agnus_shared::store::migration::{ImportedReview, MigratedKind};
use agnus_tests::*;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

const ADMIN_PASSWORD: &str = "legacy admin password";
const MEMBER_PASSWORD: &str = "legacy member password";
const WEBHOOK_SECRET: &str = "legacy-global-webhook-secret-0123456789";
const SYSTEM_KEY: &str = "sk-legacy-6f1c0e9a4b7d2e8f3a5c1b0d9e7f6a2b";

/// A fresh set of stateful resources (own table, queue, key) for one test.
fn provision_own_stack() -> std::collections::HashMap<String, String> {
    ensure_emulator();
    let prefix = format!("agnus-mig-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let out = repo_root().join(format!(".local/{prefix}.env"));
    let status = std::process::Command::new("bash")
        .args([
            "-c",
            &format!(
                "source localstack/config.sh && \"$AGNUS_VENV/bin/python\" localstack/provision.py --prefix {prefix} --env-out {} >/dev/null",
                out.display()
            ),
        ])
        .current_dir(repo_root())
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A fresh database in the test PostgreSQL, with the single-tenant schema loaded.
async fn fresh_legacy_db() -> (String, tokio_postgres::Client) {
    let server = postgres_url();
    let (admin, conn) = tokio_postgres::connect(&server, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let name = format!("legacy_{}", uuid::Uuid::new_v4().simple());
    admin.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    let url = format!("{}/{name}", server.rsplit_once('/').unwrap().0);
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let schema = std::fs::read_to_string(repo_root().join("tests/fixtures/legacy/schema.sql")).unwrap();
    client.batch_execute(&schema).await.unwrap();
    (url, client)
}

/// bcryptjs-style hashes (`$2a$10$…`), as the single-tenant install stored them.
fn bcryptjs(password: &str) -> String {
    bcrypt::hash_with_result(password, 10)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoA)
}

struct Seeded {
    admin_email: String,
    member_email: String,
    invite_token: String,
    github_repo: String,
}

/// Users (1 admin first, `members` more, one of them an admin), invites, `repos` repositories
/// (every 4th on Azure DevOps) with `reviews` reviews each and `comments` comments per
/// review (a third with feedback, some with embeddings), one review with 150 comments, a
/// repository whose URL cannot be used, checkpoints, settings, the system key.
async fn seed(db: &tokio_postgres::Client, repos: i32, reviews: i32, comments: i32, members: usize) -> Seeded {
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let admin_email = format!("admin-{tag}@legacy.example.com");
    let member_email = format!("member-{tag}@legacy.example.com");
    let (admin_hash, member_hash) = (bcryptjs(ADMIN_PASSWORD), bcryptjs(MEMBER_PASSWORD));
    assert!(admin_hash.starts_with("$2a$10$"));
    db.execute(
        "INSERT INTO users VALUES ('u000', $1, $2, 'admin', now() - interval '400 days')",
        &[&admin_email, &admin_hash],
    )
    .await
    .unwrap();
    for i in 1..=members {
        let email = if i == 1 {
            member_email.clone()
        } else {
            format!("user{i}-{tag}@legacy.example.com")
        };
        let role = if i % 5 == 0 { "admin" } else { "member" };
        db.execute(
            "INSERT INTO users VALUES ($1, $2, $3, $4, now() - make_interval(days => 300 - $5))",
            &[&format!("u{i:03}"), &email, &member_hash, &role, &(i as i32)],
        )
        .await
        .unwrap();
    }
    let invite_token = format!("invite-{}", uuid::Uuid::new_v4().simple());
    db.execute(
        "INSERT INTO invites (token, email, created_by) VALUES ($1, $2, 'u000')",
        &[&invite_token, &format!("newcomer-{tag}@legacy.example.com")],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO invites (token, email, created_by, used_at) VALUES ($1, $2, 'u000', now())",
        &[&format!("used-{tag}"), &member_email],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO invites (token, email, created_by) VALUES ($1, $2, 'u000')",
        &[&format!("dup-{tag}"), &member_email],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO repos SELECT 'r' || i,
            CASE WHEN i % 4 = 0 THEN 'https://dev.azure.com/legacy-' || $1 || '/proj/_git/repo-' || i
                 ELSE 'https://github.com/legacy-' || $1 || '/repo-' || i || '.git' END,
            CASE WHEN i % 4 = 0 THEN 'azure' ELSE 'github' END,
            'ghp_legacytoken' || i, '/data/repos/' || i, now() - interval '1 day', i * 10,
            now() - make_interval(mins => i)
         FROM generate_series(1, $2) i",
        &[&tag, &repos],
    )
    .await
    .unwrap();
    db.batch_execute(
        "INSERT INTO repos (repo_id, repo_url, platform) VALUES ('rbad', 'ftp://example.com/x', 'github');
         INSERT INTO reviews VALUES ('vbad1', 'rbad', 1, 'comment', 0), ('vbad2', 'rbad', 2, 'comment', 0);",
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO reviews SELECT 'v' || r || '-' || j, 'r' || r, j,
            CASE WHEN j % 3 = 0 THEN 'approve' ELSE 'comment' END, $3,
            now() - make_interval(secs => r * 100 + j)
         FROM generate_series(1, $1) r, generate_series(1, $2) j",
        &[&repos, &reviews, &comments],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO review_comments SELECT 'c' || v.id || '-' || k, v.id, v.repo_id, v.pr_number,
            'src/file' || k || '.rs', k * 3, 'Consider handling the error case here (' || k || ').',
            CASE WHEN k % 2 = 0 THEN 'warning' ELSE 'info' END, 0.5 + k / 100.0,
            v.created_at + make_interval(secs => k), CASE WHEN k = 1 THEN ARRAY[0.1, 0.2]::real[] END
         FROM reviews v, generate_series(1, $1) k WHERE v.repo_id <> 'rbad'",
        &[&comments],
    )
    .await
    .unwrap();
    db.batch_execute(
        "INSERT INTO reviews VALUES ('vbig', 'r1', 999, 'request_changes', 150, now());
         INSERT INTO review_comments (id, review_id, repo_id, pr_number, path, line, body, created_at)
            SELECT 'cbig-' || lpad(k::text, 3, '0'), 'vbig', 'r1', 999, 'big.rs', k, 'comment ' || k,
                   now() + make_interval(secs => k)
            FROM generate_series(1, 150) k;
         INSERT INTO review_feedback SELECT 'f' || id, id,
            CASE WHEN length(id) % 2 = 0 THEN 'accepted' ELSE 'rejected' END, now()
            FROM review_comments WHERE right(id, 1) IN ('1', '4', '7');
         INSERT INTO pr_review_state SELECT repo_id, pr, platform, pr + 1, now()
            FROM repos, generate_series(1, 2) pr;
         INSERT INTO user_settings VALUES ('u000', 'deep'), ('u001', 'deep'), ('u002', 'fast');",
    )
    .await
    .unwrap();
    db.execute("INSERT INTO system_api_keys VALUES (1, $1)", &[&SYSTEM_KEY])
        .await
        .unwrap();
    Seeded {
        admin_email,
        member_email,
        invite_token,
        github_repo: format!("legacy-{tag}/repo-1"),
    }
}

/// Counts in the old database of what must arrive (the unusable repository excluded).
async fn source_counts(db: &tokio_postgres::Client) -> Vec<(&'static str, usize)> {
    let mut out = Vec::new();
    for (kind, sql) in [
        ("repos", "SELECT count(*) FROM repos WHERE repo_id <> 'rbad'"),
        ("reviews", "SELECT count(*) FROM reviews WHERE repo_id <> 'rbad'"),
        ("comments", "SELECT count(*) FROM review_comments"),
        ("feedback", "SELECT count(*) FROM review_feedback"),
        (
            "checkpoints",
            "SELECT count(*) FROM pr_review_state WHERE repo_id <> 'rbad'",
        ),
        (
            "invites",
            "SELECT count(*) FROM invites WHERE used_at IS NULL AND email NOT IN (SELECT email FROM users)",
        ),
        ("api_keys", "SELECT count(*) FROM system_api_keys"),
    ] {
        let n: i64 = db.query_one(sql, &[]).await.unwrap().get(0);
        out.push((kind, n as usize));
    }
    out
}

async fn target_counts(store: &Store, org: &OrgId) -> Vec<(&'static str, usize)> {
    let mut out = Vec::new();
    for kind in [
        "repos",
        "reviews",
        "comments",
        "feedback",
        "checkpoints",
        "invites",
        "api_keys",
    ] {
        out.push((kind, store.count_org_items(org, kind).await.unwrap()));
    }
    out
}

type State = (Vec<(String, String)>, Vec<(&'static str, usize)>);

async fn state_of(store: &Store, org: &OrgId) -> State {
    let mut members: Vec<(String, String)> = store
        .org_member_ids(org)
        .await
        .unwrap()
        .into_iter()
        .map(|(u, r)| (u.to_string(), r.as_str().to_owned()))
        .collect();
    members.sort();
    (members, target_counts(store, org).await)
}

struct Stack {
    env: std::collections::HashMap<String, String>,
    store: Store,
    sealer: SecretBox,
}

async fn stack() -> Stack {
    let env = provision_own_stack();
    let sdk = sdk().await;
    Stack {
        store: Store::new(aws_sdk_dynamodb::Client::new(&sdk), env["AGNUS_TABLE_NAME"].clone()),
        sealer: SecretBox::new(aws_sdk_kms::Client::new(&sdk), env["AGNUS_KMS_KEY_ID"].clone()),
        env,
    }
}

fn options(until: i64) -> Options {
    Options {
        dry_run: false,
        default_org_name: "Acme (migrated)".into(),
        webhook_secret: Some(WebhookSecret::from_plaintext(WEBHOOK_SECRET.into())),
        legacy_webhooks_until: Some(until),
        stop_after: None,
        progress: false,
    }
}

#[tokio::test]
async fn a_single_tenant_postgres_install_moves_into_the_default_org_and_keeps_working() {
    const MEMBERS: usize = 6;
    let (url, db) = fresh_legacy_db().await;
    let legacy = seed(&db, 24, 3, 4, MEMBERS).await;
    let database = DatabaseUrl::new(url);
    let Stack { env, store, sealer } = stack().await;
    let until = agnus_shared::clock::Clock::system().now_secs() + 30 * 86_400;
    let options = options(until);

    // Dry run: the full summary, nothing written.
    let plan = agnus_migrate::migrate(
        &database,
        &store,
        &sealer,
        &Options {
            dry_run: true,
            ..options.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!(plan.get(Kind::Users).migrated, MEMBERS + 1);
    assert_eq!(plan.get(Kind::Repos).skipped, 1, "the ftp:// repository");
    assert_eq!(plan.get(Kind::Reviews).skipped, 2, "its reviews");
    assert_eq!(plan.get(Kind::Invites).migrated, 1);
    assert_eq!(
        plan.get(Kind::Invites).skipped,
        2,
        "one used, one for an existing account"
    );
    let text = plan.render();
    assert!(
        text.contains("would migrate") && text.contains("dry run: nothing was written"),
        "{text}"
    );
    assert!(text.contains("embeddings: not migrated"), "{text}");
    assert_eq!(store.schema_version().await.unwrap().default_org, None);
    for kind in [MigratedKind::User, MigratedKind::Repo, MigratedKind::Review] {
        assert!(store.migrated(kind).await.unwrap().is_empty(), "dry run wrote {kind:?}");
    }
    let login_before = Api::new(&[
        ("AGNUS_TABLE_NAME", env["AGNUS_TABLE_NAME"].as_str()),
        ("AGNUS_KMS_KEY_ID", env["AGNUS_KMS_KEY_ID"].as_str()),
    ])
    .await
    .call(Call::post("/api/auth/login").json(&json!({"email": legacy.admin_email, "password": ADMIN_PASSWORD})))
    .await;
    assert_eq!(login_before.status, 401, "no account before the migration");

    // Interrupted mid-way (after 20 transactions), then resumed: complete, no duplicates.
    let interrupted = agnus_migrate::migrate(
        &database,
        &store,
        &sealer,
        &Options {
            stop_after: Some(20),
            ..options.clone()
        },
    )
    .await;
    assert!(
        matches!(interrupted, Err(MigrateError::Interrupted(20))),
        "{interrupted:?}"
    );
    let resumed = agnus_migrate::migrate(&database, &store, &sealer, &options)
        .await
        .unwrap();
    assert!(resumed.get(Kind::Users).already > 0, "{}", resumed.render());
    let org = resumed.default_org.unwrap();
    assert_eq!(store.schema_version().await.unwrap().version, 2);

    // Counts before = after, per kind; the members with their roles.
    let (members, counts) = state_of(&store, &org).await;
    assert_eq!(counts, source_counts(&db).await);
    assert_eq!(members.len(), MEMBERS + 1);
    assert_eq!(members.iter().filter(|(_, r)| r == "owner").count(), 1);
    assert_eq!(members.iter().filter(|(_, r)| r == "admin").count(), 1, "u005");

    // Review history in detail: the 150-comment review (split over transactions), in order,
    // with its feedback; indexing metadata; checkpoints; the org's review depth.
    let repos: Vec<String> = store
        .migrated(MigratedKind::Repo)
        .await
        .unwrap()
        .into_iter()
        .filter(|(s, _)| s == "r1")
        .filter_map(|(_, t)| t)
        .collect();
    let r1 = &repos[0];
    let big = store
        .review_comments(&org, r1, &ImportedReview::job_id("vbig"))
        .await
        .unwrap();
    assert_eq!(big.len(), 150);
    assert_eq!(big[0].source_id, "cbig-001");
    assert_eq!(big[149].source_id, "cbig-150");
    assert_eq!(
        big.iter().filter(|c| c.signal.is_some()).count(),
        45,
        "…1, …4, …7 have feedback"
    );
    let meta = store.repo_metadata(&org, r1).await.unwrap().unwrap();
    assert_eq!(meta.repo_path.as_deref(), Some("/data/repos/1"));
    assert_eq!(meta.symbol_count, Some(10));
    assert!(meta.indexed_at.is_some());
    assert_eq!(store.imported_iteration_checkpoint(&org, r1, 2).await.unwrap(), Some(3));
    assert_eq!(store.review_depth(&org).await.unwrap().as_deref(), Some("deep"));

    // A re-run is a no-op.
    let again = agnus_migrate::migrate(&database, &store, &sealer, &options)
        .await
        .unwrap();
    assert_eq!(again.writes, 0, "{}", again.render());
    assert!(
        Kind::ALL.iter().all(|k| again.get(*k).migrated == 0),
        "{}",
        again.render()
    );
    let state = state_of(&store, &org).await;
    assert_eq!(state, (members.clone(), counts.clone()));

    // `down`, then `migrate`: the same state.
    assert_eq!(agnus_migrate::down(&store).await.unwrap(), MEMBERS + 1);
    assert!(state_of(&store, &org).await.0.is_empty());
    agnus_migrate::migrate(&database, &store, &sealer, &options)
        .await
        .unwrap();
    assert_eq!(state_of(&store, &org).await, state);

    // The old admin logs in with the old password and owns `default`; the hash becomes
    // argon2id at that login. A member logs in too.
    let queue = fresh_queue().await;
    let api = Api::new(&[
        ("AGNUS_TABLE_NAME", env["AGNUS_TABLE_NAME"].as_str()),
        ("AGNUS_KMS_KEY_ID", env["AGNUS_KMS_KEY_ID"].as_str()),
        ("AGNUS_REVIEW_QUEUE_URL", queue.as_str()),
    ])
    .await;
    let login = api
        .call(Call::post("/api/auth/login").json(&json!({"email": legacy.admin_email, "password": ADMIN_PASSWORD})))
        .await;
    assert_eq!(login.status, 200, "{:?}", login.json());
    assert_eq!(login.json()["orgs"][0]["slug"], "default");
    assert_eq!(login.json()["orgs"][0]["role"], "owner");
    assert_eq!(login.json()["orgs"][0]["name"], "Acme (migrated)");
    let owner_cookie = login.session_cookie().unwrap();
    let stored = store
        .find_user_by_email(&agnus_shared::domain::Email::parse(&legacy.admin_email).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.password_hash.as_str().starts_with("$argon2id$"),
        "re-hashed at login"
    );
    let again = api
        .call(Call::post("/api/auth/login").json(&json!({"email": legacy.admin_email, "password": ADMIN_PASSWORD})))
        .await;
    assert_eq!(again.status, 200, "the argon2id hash verifies the same password");
    let wrong = api
        .call(Call::post("/api/auth/login").json(&json!({"email": legacy.member_email, "password": ADMIN_PASSWORD})))
        .await;
    assert_eq!(wrong.status, 401);
    let member = api
        .call(Call::post("/api/auth/login").json(&json!({"email": legacy.member_email, "password": MEMBER_PASSWORD})))
        .await;
    assert_eq!(member.status, 200);
    assert_eq!(member.json()["orgs"][0]["role"], "member");

    // The system key keeps working as an admin key of `default` and lists the repos; a
    // key of the same shape that was never migrated does not.
    let listed = api
        .call(Call::get("/api/repos?limit=100").header("authorization", &format!("Bearer {SYSTEM_KEY}")))
        .await;
    assert_eq!(listed.status, 200, "{:?}", listed.json());
    assert_eq!(listed.json()["repos"].as_array().unwrap().len(), 24);
    let forged = api
        .call(Call::get("/api/repos").header("authorization", "Bearer sk-legacy-00000000000000000000000000000000"))
        .await;
    assert_eq!(forged.status, 401);
    // No secret of the old install at rest in plaintext.
    let items = format!("{:?}", scan_table(&env["AGNUS_TABLE_NAME"]).await);
    for secret in ["ghp_legacytoken", SYSTEM_KEY, WEBHOOK_SECRET, &legacy.invite_token] {
        assert!(!items.contains(secret), "{secret} stored in plaintext");
    }

    // The old invite link keeps working (for 7 days).
    let preview = api
        .call(Call::get(&format!("/api/invites/{}", legacy.invite_token)))
        .await;
    assert_eq!(preview.status, 200, "{:?}", preview.json());
    assert_eq!(preview.json()["orgSlug"], "default");

    // A delivery signed with WEBHOOK_SECRET to the single-tenant URL: accepted for
    // `default`, with deprecation headers; the console sees when it arrived.
    let legacy_call = || {
        let text = std::fs::read_to_string(repo_root().join("tests/fixtures/github/pull_request.opened.json")).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["repository"]["full_name"] = serde_json::Value::from(legacy.github_repo.as_str());
        let body = serde_json::to_vec(&v).unwrap();
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
        mac.update(&body);
        Call::post("/api/webhooks/github")
            .header("content-type", "application/json")
            .header("x-github-event", "pull_request")
            .header("x-github-delivery", &uuid::Uuid::new_v4().to_string())
            .header(
                "x-hub-signature-256",
                &format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
            )
            .raw_body(body)
    };
    let before = api.call(Call::get("/api/orgs/default").cookie(&owner_cookie)).await;
    assert_eq!(before.json()["legacyWebhooks"]["sunsetAt"], until);
    assert!(before.json()["legacyWebhooks"]["lastDeliveryAt"].is_null());
    assert!(
        before.json()["legacyWebhooks"]["urls"]["github"]
            .as_str()
            .unwrap()
            .ends_with("/api/webhooks/github/default")
    );
    let a = api.call(legacy_call()).await;
    assert_eq!(a.status, 202, "{:?}", a.json());
    assert_eq!(a.headers["deprecation"], "true");
    assert!(a.headers.contains_key("sunset"));
    assert!(
        a.headers["link"]
            .to_str()
            .unwrap()
            .contains("/api/webhooks/github/default")
    );
    let messages = drain(&queue).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].message_attributes().unwrap()["org_id"]
            .string_value()
            .unwrap(),
        org.to_string(),
        "enqueued for default"
    );
    let after = api.call(Call::get("/api/orgs/default").cookie(&owner_cookie)).await;
    assert!(after.json()["legacyWebhooks"]["lastDeliveryAt"].as_i64().is_some());
    let mut bitbucket = legacy_call();
    bitbucket.path = "/api/webhooks/bitbucket".into();
    assert_eq!(api.call(bitbucket).await.status, 404, "no legacy URL for Bitbucket");

    // Moving the sunset is a re-run with another date (no redeploy): once the intake's
    // cache turns over, the legacy URL answers 410 with the new URL.
    let past = agnus_shared::clock::Clock::system().now_secs() - 1;
    let moved = agnus_migrate::migrate(&database, &store, &sealer, &self::options(past))
        .await
        .unwrap();
    assert_eq!(moved.writes, 1, "only the sunset changed");
    api.intake.clear_cache();
    let gone = api.call(legacy_call()).await;
    assert_eq!(gone.status, 410);
    assert_eq!(gone.json()["error"]["url"], "/api/webhooks/github/default");
}

/// NULLs in columns the schema allows to be NULL but the upgrade needs: each such row is
/// skipped and named in the summary, the others are read (the read panicked before).
#[tokio::test]
async fn a_null_where_the_upgrade_needs_a_value_skips_and_reports_the_row() {
    let (_url, mut db) = fresh_legacy_db().await;
    db.batch_execute(
        "INSERT INTO repos (repo_id, repo_url, platform) VALUES ('r1', 'https://github.com/acme/api', 'github');
         INSERT INTO reviews (id, repo_id, pr_number, created_at) VALUES
             ('ok', 'r1', 7, now()), ('no-repo', NULL, 8, now() + interval '1 s'), ('no-pr', 'r1', NULL, now() + interval '2 s');
         INSERT INTO review_comments (id, review_id, body) VALUES ('c-ok', 'ok', 'fine'), ('c-orphan', NULL, 'lost');",
    )
    .await
    .unwrap();
    let legacy = agnus_migrate::source::read(&mut db).await.unwrap();
    assert_eq!(legacy.reviews.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["ok"]);
    assert_eq!(legacy.comments.len(), 1);
    let report = agnus_migrate::plan::plan(&legacy, &Default::default(), true).report;
    for line in [
        "reviews row 2 \"no-pr\": pr_number is NULL: skipped",
        "reviews row 3 \"no-repo\": repo_id is NULL: skipped",
        "review_comments row 2 \"c-orphan\": review_id is NULL: skipped",
    ] {
        assert!(
            report.skipped.iter().any(|s| s == line),
            "{line} not in {:?}",
            report.skipped
        );
    }
    assert_eq!(report.get(Kind::Reviews).source, 3);
    assert_eq!(report.get(Kind::Reviews).skipped, 2);
    assert_eq!(report.get(Kind::Comments).skipped, 1);
}

#[tokio::test]
async fn without_a_migration_the_legacy_urls_do_not_exist() {
    let Stack { env, .. } = stack().await;
    let api = Api::new(&[("AGNUS_TABLE_NAME", env["AGNUS_TABLE_NAME"].as_str())]).await;
    let a = api
        .call(
            Call::post("/api/webhooks/github")
                .header("x-github-event", "ping")
                .raw_body(b"{}".to_vec()),
        )
        .await;
    assert_eq!(a.status, 404);
}

/// The measurement of the issue (not a test: `cargo test -p agnus-tests --test migration
/// -- --ignored --nocapture`): 1,000 repos / 20,000 reviews / 100,000 comments by default;
/// `AGNUS_MIGRATION_SCALE=0.1` migrates that fraction. Prints time and rates.
#[tokio::test]
#[ignore = "a measurement, run on demand (see BENCHMARKS.md)"]
#[allow(clippy::print_stdout)]
async fn measure_migration_of_1000_repos_20000_reviews_100000_comments() {
    let scale: f64 = std::env::var("AGNUS_MIGRATION_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let repos = ((1000.0 * scale).round() as i32).max(1);
    let (url, db) = fresh_legacy_db().await;
    seed(&db, repos, 20, 5, 20).await;
    let database = DatabaseUrl::new(url);
    let Stack { store, sealer, .. } = stack().await;
    let started = Instant::now();
    let report = agnus_migrate::migrate(
        &database,
        &store,
        &sealer,
        &Options {
            progress: true,
            ..options(agnus_shared::clock::Clock::system().now_secs() + 86_400)
        },
    )
    .await
    .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let c = |k| report.get(k).migrated;
    println!("{}", report.render());
    println!(
        "scale {scale}: {} repos, {} reviews, {} comments, {} feedback in {secs:.1} s ({} transactions): {:.0} reviews/s, {:.0} comments/s",
        c(Kind::Repos),
        c(Kind::Reviews),
        c(Kind::Comments),
        c(Kind::Feedback),
        report.writes,
        c(Kind::Reviews) as f64 / secs,
        c(Kind::Comments) as f64 / secs,
    );
    let started = Instant::now();
    let again = agnus_migrate::migrate(
        &database,
        &store,
        &sealer,
        &options(agnus_shared::clock::Clock::system().now_secs() + 86_400),
    )
    .await
    .unwrap();
    assert!(again.writes <= 1, "at most the sunset moved");
    println!("re-run (no-op): {:.1} s", started.elapsed().as_secs_f64());
}
