//! The single-tenant upgrade (SPEC §10) on its own table: a realistic legacy data set is
//! migrated into the default org, interrupted and resumed, re-run, reversed and redone.

use agnus_cli::migrate::{self, MigrateError, Options};
use agnus_shared::crypto::{PasswordHasher, PasswordParams, SecretBox, generate_api_key, sha256_hex};
use agnus_shared::domain::{OrgId, Password, Provider, Role};
use agnus_shared::store::Store;
use agnus_shared::store::migration::{LegacyApiKey, LegacyRepo, LegacyReview, LegacyUser};
use agnus_tests::*;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

const REPOS: usize = 200;
const REVIEWS_PER_REPO: usize = 2;
const MEMBERS: usize = 14;
const PASSWORD: &str = "legacy admin password";
const LEGACY_SECRET: &str = "legacy-global-webhook-secret-0123456789";

/// A fresh set of stateful resources (own table, queue, key) for this test.
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

struct Legacy {
    admin_email: String,
    member_key: String,
    repo_names: Vec<String>,
}

async fn seed(store: &Store) -> Legacy {
    let hasher = PasswordHasher::new(PasswordParams::OWASP_MIN);
    let hash = hasher
        .hash(&Password::parse(secrecy::SecretString::from(PASSWORD.to_owned())).unwrap())
        .await
        .unwrap();
    let admin_email = unique_email("legacy-admin");
    store
        .put_legacy_user(&LegacyUser {
            id: "u000".into(),
            email: admin_email.clone(),
            password_hash: hash.as_str().to_owned(),
            role: Role::Admin,
            created_at: 1_600_000_000,
            migrated_user_id: None,
        })
        .await
        .unwrap();
    for i in 1..=MEMBERS {
        store
            .put_legacy_user(&LegacyUser {
                id: format!("u{i:03}"),
                email: unique_email(&format!("legacy{i}")),
                password_hash: hash.as_str().to_owned(),
                role: if i % 5 == 0 { Role::Admin } else { Role::Member },
                created_at: 1_600_000_000 + i as i64,
                migrated_user_id: None,
            })
            .await
            .unwrap();
    }
    let mut repo_names = Vec::new();
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    for r in 0..REPOS {
        let name = format!("legacy-{suffix}/repo-{r:03}");
        store
            .put_legacy_repo(&LegacyRepo {
                id: format!("r{r:03}"),
                provider: if r % 4 == 0 { Provider::Azure } else { Provider::Github },
                full_name: if r % 4 == 0 {
                    format!("{name}-az/x")
                } else {
                    name.clone()
                },
                token: Some(format!("ghp_legacytoken{r:03}")),
                created_at: 1_600_000_100 + r as i64,
                migrated_repo_id: None,
            })
            .await
            .unwrap();
        if r % 4 != 0 {
            repo_names.push(name);
        }
        for v in 0..REVIEWS_PER_REPO {
            store
                .put_legacy_review(&LegacyReview {
                    repo_id: format!("r{r:03}"),
                    id: format!("v{v}"),
                    pr_number: (v + 1) as u64,
                    head_sha: Some(format!("{r:03}{v}abcdef")),
                    status: "completed".into(),
                    created_at: 1_600_001_000 + (r * 10 + v) as i64,
                    migrated: false,
                })
                .await
                .unwrap();
        }
    }
    let member_key = generate_api_key();
    for (id, owner, key) in [
        ("k-global", None, generate_api_key()),
        ("k-admin", Some("u000"), generate_api_key()),
        ("k-member", Some("u001"), member_key.clone()),
    ] {
        store
            .put_legacy_api_key(&LegacyApiKey {
                id: id.into(),
                name: format!("key {id}"),
                key_hash: sha256_hex(key.as_bytes()),
                owner: owner.map(str::to_owned),
                created_at: 1_600_000_500,
            })
            .await
            .unwrap();
    }
    store.put_legacy_webhook_secret(LEGACY_SECRET).await.unwrap();
    Legacy {
        admin_email,
        member_key,
        repo_names,
    }
}

async fn state_of(store: &Store, org: &OrgId) -> (Vec<(String, String)>, usize, usize, usize) {
    let mut members: Vec<(String, String)> = store
        .org_member_ids(org)
        .await
        .unwrap()
        .into_iter()
        .map(|(u, r)| (u.to_string(), r.as_str().to_owned()))
        .collect();
    members.sort();
    (
        members,
        store.count_org_items(org, "REPO#").await.unwrap(),
        store.count_org_items(org, "REVIEW#").await.unwrap(),
        store.count_org_items(org, "APIKEY#").await.unwrap(),
    )
}

#[tokio::test]
async fn single_tenant_data_moves_into_the_default_org_and_keeps_working() {
    let env = provision_own_stack();
    let table = env["AGNUS_TABLE_NAME"].clone();
    let sdk = sdk().await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), table.clone());
    let sealer = SecretBox::new(aws_sdk_kms::Client::new(&sdk), env["AGNUS_KMS_KEY_ID"].clone());
    let legacy = seed(&store).await;
    let options = Options {
        dry_run: false,
        default_org_name: "Acme (migrated)".into(),
        stop_after: None,
    };

    // Dry run: the plan, with counts; nothing written.
    let plan = migrate::migrate(
        &store,
        &sealer,
        &Options {
            dry_run: true,
            ..options.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (plan.users, plan.repos, plan.reviews, plan.api_keys),
        (MEMBERS + 1, REPOS, REPOS * REVIEWS_PER_REPO, 3)
    );
    assert_eq!(plan.api_keys_removed.len(), 1, "the global key cannot be scoped");
    assert!(plan.render(true).contains("would migrate"));
    assert_eq!(store.schema_version().await.unwrap().version, 1);
    assert!(store.schema_version().await.unwrap().default_org.is_none());

    // Killed halfway (after 60 writes), then run again: completes without duplicates.
    let interrupted = migrate::migrate(
        &store,
        &sealer,
        &Options {
            stop_after: Some(60),
            ..options.clone()
        },
    )
    .await;
    assert!(
        matches!(interrupted, Err(MigrateError::Interrupted(60))),
        "{interrupted:?}"
    );
    assert_eq!(store.schema_version().await.unwrap().version, 1);
    let report = migrate::migrate(&store, &sealer, &options).await.unwrap();
    let org = report.default_org.unwrap();
    assert_eq!(store.schema_version().await.unwrap().version, 2);

    // Everything accounted for: counts before = after.
    let (members, repos, reviews, keys) = state_of(&store, &org).await;
    assert_eq!(members.len(), MEMBERS + 1);
    assert_eq!(repos, REPOS);
    assert_eq!(reviews, REPOS * REVIEWS_PER_REPO);
    assert_eq!(keys, 2, "two keys scoped");
    assert_eq!(
        report.api_keys_removed,
        vec!["key k-global (k-global)".to_owned()],
        "reported"
    );
    assert_eq!(members.iter().filter(|(_, r)| r == "owner").count(), 1);

    // Re-running is a no-op.
    let again = migrate::migrate(&store, &sealer, &options).await.unwrap();
    assert!(again.already_migrated);
    assert_eq!(state_of(&store, &org).await, (members.clone(), repos, reviews, keys));

    // `down` reverses the membership backfill; `migrate` again yields the same state.
    let removed = migrate::down(&store).await.unwrap();
    assert_eq!(removed, MEMBERS + 1);
    assert!(state_of(&store, &org).await.0.is_empty());
    migrate::migrate(&store, &sealer, &options).await.unwrap();
    assert_eq!(state_of(&store, &org).await, (members, repos, reviews, keys));

    // The old admin owns `default`, logs in with the old password, sees the repos.
    let queue = fresh_queue().await;
    let future = (agnus_shared::store::now_secs() + 86_400).to_string();
    let api = Api::new(&[
        ("AGNUS_TABLE_NAME", table.as_str()),
        ("AGNUS_KMS_KEY_ID", env["AGNUS_KMS_KEY_ID"].as_str()),
        ("AGNUS_REVIEW_QUEUE_URL", queue.as_str()),
        ("AGNUS_LEGACY_WEBHOOKS_SUNSET_AT", future.as_str()),
    ])
    .await;
    let login = api
        .call(Call::post("/api/auth/login").json(&json!({"email": legacy.admin_email, "password": PASSWORD})))
        .await;
    assert_eq!(login.status, 200, "{:?}", login.json());
    assert_eq!(login.json()["orgs"][0]["slug"], "default");
    assert_eq!(login.json()["orgs"][0]["role"], "owner");
    assert_eq!(login.json()["orgs"][0]["name"], "Acme (migrated)");
    // A scoped legacy key keeps working, in the default org, with its owner's role.
    let listed = api
        .call(Call::get("/api/repos?limit=100").header("authorization", &format!("Bearer {}", legacy.member_key)))
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["repos"].as_array().unwrap().len(), 100);
    let denied = api
        .call(
            Call::post("/api/repos")
                .header("authorization", &format!("Bearer {}", legacy.member_key))
                .json(&json!({"provider":"github","fullName":"a/b"})),
        )
        .await;
    assert_eq!(denied.status, 403, "member-role key");
    // No repo token in plaintext after the move.
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let org_items = ddb
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
        .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("ORG#{org}")))
        .expression_attribute_values(":p", aws_sdk_dynamodb::types::AttributeValue::S("REPO#".into()))
        .send()
        .await
        .unwrap();
    assert!(!format!("{:?}", org_items.items()).contains("ghp_legacytoken"));

    // A delivery signed with the legacy secret, to the legacy URL: accepted for `default`,
    // with deprecation headers.
    let body = {
        let text = std::fs::read_to_string(repo_root().join("tests/fixtures/github/pull_request.opened.json")).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["repository"]["full_name"] = serde_json::Value::from(legacy.repo_names[0].as_str());
        serde_json::to_vec(&v).unwrap()
    };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(LEGACY_SECRET.as_bytes()).unwrap();
    mac.update(&body);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let legacy_call = || {
        Call::post("/api/webhooks/github")
            .header("content-type", "application/json")
            .header("x-github-event", "pull_request")
            .header("x-github-delivery", &uuid::Uuid::new_v4().to_string())
            .header("x-hub-signature-256", &signature)
            .raw_body(body.clone())
    };
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
    let org_attr = messages[0].message_attributes().unwrap()["org_id"]
        .string_value()
        .unwrap()
        .to_owned();
    assert_eq!(org_attr, org.to_string(), "enqueued for default");
    // The new URL works with the imported secret too; Bitbucket has no legacy URL.
    let mut new_url = legacy_call();
    new_url.path = "/api/webhooks/github/default".into();
    assert_eq!(api.call(new_url).await.status, 202);
    let mut bitbucket = legacy_call();
    bitbucket.path = "/api/webhooks/bitbucket".into();
    assert_eq!(api.call(bitbucket).await.status, 404);

    // After the sunset: 410 with the new URL.
    let past = (agnus_shared::store::now_secs() - 1).to_string();
    let retired = Api::new(&[
        ("AGNUS_TABLE_NAME", table.as_str()),
        ("AGNUS_KMS_KEY_ID", env["AGNUS_KMS_KEY_ID"].as_str()),
        ("AGNUS_REVIEW_QUEUE_URL", queue.as_str()),
        ("AGNUS_LEGACY_WEBHOOKS_SUNSET_AT", past.as_str()),
    ])
    .await;
    let gone = retired.call(legacy_call()).await;
    assert_eq!(gone.status, 410);
    assert_eq!(gone.json()["error"]["url"], "/api/webhooks/github/default");
}
