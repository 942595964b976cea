//! Bot identity: a GitHub App installation registered by the org (its JWT checked by the
//! stand-in with the public key of a key pair made here), repositories connected through it
//! from the picker, reviews posted with installation tokens scoped to the repository — never
//! a PAT — and the app's own comments never asking for a review. Another org never reaches
//! the installation; the private key is in no answer and no log.

use agnus_tests::logs::CapturedLogs;
use agnus_tests::review::app_key;

use super::*;

impl Env {
    async fn as_admin(&self, call: Call) -> Answer {
        self.api.call(call.cookie(&self.user.cookie)).await
    }
}

#[tokio::test]
async fn reviews_are_posted_as_the_app_with_installation_tokens_scoped_to_the_repository() {
    let (logs, _guard) = CapturedLogs::install();
    let mut env = setup(&[]).await;
    let app_repo = repo_name("github");
    let unseen = repo_name("github");
    let app = env.standin.github_app(&[&app_repo]).await;
    let (pem, app_id, slug, installation) = (app.pem.clone(), app.app_id, app.slug.clone(), app.installation);
    let installs = format!("/api/orgs/{}/installations", env.user.slug);
    let register = |key: &str, app: u64, inst: u64| {
        Call::post(&installs).json(&json!({"appId": app, "installationId": inst, "privateKey": key}))
    };

    // Refused before anything is stored: not a key; a key GitHub does not know for the app;
    // an installation the app does not have.
    let a = env.as_admin(register("ghp_notakey", app_id, installation)).await;
    assert_eq!(
        (a.status, a.json()["error"]["code"].clone()),
        (400, json!("invalid_private_key"))
    );
    let (other_pem, _) = app_key();
    let a = env.as_admin(register(&other_pem, app_id, installation)).await;
    assert_eq!(
        (a.status, a.json()["error"]["code"].clone()),
        (400, json!("app_auth_failed")),
        "{:?}",
        a.json()
    );
    let a = env.as_admin(register(&pem, app_id, installation + 1)).await;
    assert_eq!(
        (a.status, a.json()["error"]["code"].clone()),
        (400, json!("installation_not_found"))
    );

    let a = env.as_admin(register(&pem, app_id, installation)).await;
    assert_eq!(a.status, 201, "{:?}", a.json());
    let record = a.json()["installation"].clone();
    assert_eq!(record["id"], installation);
    assert_eq!(record["appId"], app_id);
    assert_eq!(record["appSlug"], slug.as_str());
    assert_eq!(record["botLogin"], format!("{slug}[bot]"));
    assert_eq!(record["account"], "octocat");
    assert!(record["keyFingerprint"].as_str().unwrap().starts_with("SHA256:"));
    let a = env.as_admin(register(&pem, app_id, installation)).await;
    assert_eq!(
        (a.status, a.json()["error"]["code"].clone()),
        (409, json!("installation_exists"))
    );
    let listed = env.as_admin(Call::get(&installs)).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["installations"].as_array().unwrap().len(), 1);

    // The picker: what the installation sees, and whether it is connected here.
    let picker = format!("{installs}/{installation}/repositories");
    let a = env.as_admin(Call::get(&picker)).await;
    assert_eq!(a.status, 200, "{:?}", a.json());
    assert_eq!(a.json()["totalCount"], 1);
    assert_eq!(a.json()["repositories"][0]["fullName"], app_repo.as_str());
    assert_eq!(a.json()["repositories"][0]["connectedRepoId"], Value::Null);
    let a = env.as_admin(Call::get(&format!("{picker}?page=0"))).await;
    assert_eq!(a.status, 400);

    // Connecting: no token; a repository the installation cannot see is refused.
    let connect = |name: &str| {
        Call::post("/api/repos")
            .header("x-org-slug", &env.user.slug)
            .json(&json!({"provider": "github", "fullName": name, "installationId": installation}))
    };
    let a = env.as_admin(connect(&unseen)).await;
    assert_eq!(
        (a.status, a.json()["error"]["code"].clone()),
        (403, json!("repo_access_denied"))
    );
    let a = env.as_admin(connect(&app_repo)).await;
    assert_eq!(a.status, 201, "{:?}", a.json());
    assert_eq!(a.json()["repo"]["installationId"], installation);
    assert_eq!(a.json()["repo"]["tokenPreview"], Value::Null);
    let repo_id = a.json()["repo"]["id"].as_str().unwrap().to_owned();
    let a = env.as_admin(Call::get(&picker)).await;
    assert_eq!(a.json()["repositories"][0]["connectedRepoId"], repo_id.as_str());

    // A review of that repository: posted with an installation token minted for it alone.
    env.repo = app_repo.clone();
    env.repo_id = repo_id.clone();
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.standin.llm_answers(&[answer()]).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let job = &env.history().await[0];
    assert_eq!(job["status"], "posted", "{job}");
    let posted = env.posted().await;
    assert_eq!(posted.len(), 1);
    let auth = posted[0]["headers"]["authorization"].as_str().unwrap().to_owned();
    let minted = env.standin.app_tokens().await;
    let used = minted
        .iter()
        .find(|m| format!("Bearer {}", m["token"].as_str().unwrap()) == auth)
        .unwrap_or_else(|| panic!("the review was posted with {auth}, not an installation token"));
    assert_eq!(used["repos"], json!([app_repo.to_lowercase()]));
    for r in env.standin.requests_to("", &format!("/repos/{app_repo}")).await {
        let used = r["headers"]["authorization"].as_str().unwrap_or_default();
        assert!(
            used.starts_with("Bearer ghs_"),
            "{} {} with {used}",
            r["method"],
            r["path"]
        );
    }
    // The app's JWT went to GitHub; the key itself never did, nor into an answer or a log.
    let key_line = pem.lines().nth(1).unwrap();
    for r in env.standin.requests().await {
        assert!(!r.to_string().contains(key_line));
    }
    let listed_text = String::from_utf8_lossy(&listed.body).into_owned();
    assert!(!listed_text.contains(key_line) && !listed_text.contains("PRIVATE KEY"));
    assert!(!logs.text().contains(key_line), "the private key was logged");
    assert!(
        !logs.text().contains(auth.trim_start_matches("Bearer ")),
        "an installation token was logged"
    );

    // The app's own comments never ask for a review: its login is a bot's, and it is the
    // identity the repository was connected with.
    let bot = json!({"login": format!("{slug}[bot]"), "id": 99, "type": "User"});
    assert_eq!(env.comment("@agnus review", bot).await, Err("bot_comment".into()));
    let scope = env.queue_scope().await;
    let stored = env
        .api
        .worker
        .store
        .repo_in_queue_scope(&scope, &repo_id)
        .await
        .unwrap()
        .unwrap();
    let identity = stored.token_identity.unwrap();
    assert_eq!(identity.login.as_deref(), Some(format!("{slug}[bot]").as_str()));
    assert!(identity.is(agnus_shared::trigger::Commenter {
        id: Some("99"),
        login: Some(&format!("{}[BOT]", slug.to_uppercase())),
        is_bot: false,
    }));

    // Uninstalled on GitHub: the next review fails token_invalid (the cached token is refused).
    env.standin.uninstall(&app).await;
    env.serve_pr(json!({"head_sha": NEWER, "base_sha": BASE})).await;
    env.deliver("pull_request.synchronize.json", NEWER).await;
    env.reviewed_as("failed", "token_invalid").await;
    // Installed again: the refused token was dropped from the cache, a new one is minted.
    env.standin.install(&app, &[&app_repo]).await;
    let third = "2222222222222222222222222222222222222222";
    env.serve_pr(json!({"head_sha": third, "base_sha": BASE})).await;
    env.standin.llm_answers(&[answer()]).await;
    env.deliver("pull_request.synchronize.json", third).await;
    assert_eq!(env.review().await, (1, 1, 0));
    assert_eq!(env.history().await[0]["status"], "posted");
    assert_eq!(env.standin.app_tokens().await.len(), minted.len() + 1, "one new token");
}

#[tokio::test]
async fn a_removed_installation_stops_its_repositories_and_another_org_never_reaches_it() {
    let mut env = setup(&[]).await;
    let app_repo = repo_name("github");
    let app = env.standin.github_app(&[&app_repo]).await;
    let (pem, app_id, installation) = (app.pem.clone(), app.app_id, app.installation);
    let installs = format!("/api/orgs/{}/installations", env.user.slug);
    let a = env
        .as_admin(
            Call::post(&installs).json(&json!({"appId": app_id, "installationId": installation, "privateKey": pem})),
        )
        .await;
    assert_eq!(a.status, 201, "{:?}", a.json());
    let a = env
        .as_admin(
            Call::post("/api/repos")
                .header("x-org-slug", &env.user.slug)
                .json(&json!({"provider": "github", "fullName": app_repo, "installationId": installation})),
        )
        .await;
    assert_eq!(a.status, 201, "{:?}", a.json());
    env.repo = app_repo.clone();
    env.repo_id = a.json()["repo"]["id"].as_str().unwrap().to_owned();

    // Another org: the installation is not there, by any route.
    let other = env.api.user().await;
    let theirs = format!("/api/orgs/{}/installations", other.slug);
    let a = env.api.call(Call::get(&theirs).cookie(&other.cookie)).await;
    assert_eq!((a.status, a.json()["installations"].clone()), (200, json!([])));
    for call in [
        Call::get(&format!("{theirs}/{installation}/repositories")),
        Call::new("DELETE", &format!("{theirs}/{installation}")),
        Call::post("/api/repos")
            .header("x-org-slug", &other.slug)
            .json(&json!({"provider": "github", "fullName": repo_name("github"), "installationId": installation})),
    ] {
        let a = env.api.call(call.cookie(&other.cookie)).await;
        assert_eq!(
            (a.status, a.json()["error"]["code"].clone()),
            (404, json!("installation_not_found"))
        );
    }
    // Their own installation of another app cannot take this org's repository.
    let theirs_app = env.standin.github_app(&[&repo_name("github")]).await;
    let (their_pem, their_app, their_installation) = (theirs_app.pem, theirs_app.app_id, theirs_app.installation);
    let a = env
        .api
        .call(
            Call::post(&theirs)
                .cookie(&other.cookie)
                .json(&json!({"appId": their_app, "installationId": their_installation, "privateKey": their_pem})),
        )
        .await;
    assert_eq!(a.status, 201, "{:?}", a.json());
    let a = env
        .api
        .call(
            Call::post("/api/repos")
                .cookie(&other.cookie)
                .header("x-org-slug", &other.slug)
                .json(&json!({"provider": "github", "fullName": app_repo, "installationId": their_installation})),
        )
        .await;
    assert_eq!(
        (a.status, a.json()["error"]["code"].clone()),
        (403, json!("repo_access_denied"))
    );
    // Removed here: its repositories stay, their reviews fail with a clear reason.
    let a = env
        .as_admin(Call::new("DELETE", &format!("{installs}/{installation}")))
        .await;
    assert_eq!(a.status, 204);
    let a = env
        .as_admin(Call::new("DELETE", &format!("{installs}/{installation}")))
        .await;
    assert_eq!(a.status, 404);
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    env.reviewed_as("failed", "installation_removed").await;
    let audit = env
        .as_admin(Call::get(&format!("/api/orgs/{}/audit", env.user.slug)))
        .await;
    let events = audit.json()["events"].as_array().unwrap().clone();
    let actions: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(
        actions.contains(&"installation.added") && actions.contains(&"installation.removed"),
        "{actions:?}"
    );
}
