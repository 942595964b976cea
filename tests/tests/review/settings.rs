//! The org's review settings and rules shape the review (issue #17).

use super::*;

/// Issue #17: the org's settings change what the engine does, and exactly the rules that
/// apply to this repository and these paths reach the prompt; a comment the model ties to
/// one of them names it.
#[tokio::test]
async fn org_settings_and_rules_shape_the_review() {
    let env = setup(&[]).await;
    let slug = env.user.slug.clone();
    let call = |method: &str, path: String, body: Value| Call::new(method, &path).cookie(&env.user.cookie).json(&body);
    // Drafts are reviewed in this org; nits are not posted; Cargo.toml-like paths ignored.
    let set = env
        .api
        .call(call(
            "PATCH",
            format!("/api/orgs/{slug}/review-settings/{}", env.repo_id),
            json!({"skipDrafts": false, "minSeverity": "minor", "ignoredPaths": ["docs/**"]}),
        ))
        .await;
    assert_eq!(set.status, 200, "{:?}", set.json());
    let mut ids = Vec::new();
    for (name, glob, repo) in [
        ("Parsing is total", Some("src/**"), None),
        ("Docs tone", Some("docs/**"), None),
        ("Other repository only", None, Some("0123456789abcdef0123456789abcdef")),
    ] {
        let mut body = json!({"name": name, "description": format!("{name}: check it."), "category": "correctness"});
        if let Some(g) = glob {
            body["pathGlob"] = Value::from(g);
        }
        if let Some(r) = repo {
            body["repoId"] = Value::from(r);
        }
        let created = env
            .api
            .call(call("POST", format!("/api/orgs/{slug}/rules"), body.clone()))
            .await;
        if repo.is_some() {
            // A rule for a repository this org does not have is refused.
            assert_eq!(created.status, 404);
            continue;
        }
        assert_eq!(created.status, 201, "{:?}", created.json());
        ids.push(created.json()["rule"]["id"].as_str().unwrap().to_owned());
    }
    let disabled = env
        .api
        .call(call(
            "POST",
            format!("/api/orgs/{slug}/rules"),
            json!({"name": "Switched off", "description": "never shown", "category": "style", "enabled": false}),
        ))
        .await;
    assert_eq!(disabled.status, 201);

    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE, "draft": true, "title": "Checked parse"}))
        .await;
    env.standin
        .llm_answers(&[json!({
            "summary": "Parse change.",
            "comments": [
                {"path": "src/parse.rs", "line": 11, "body": "`unwrap` can panic.", "severity": "major", "ruleId": ids[0]},
                {"path": "src/parse.rs", "line": 11, "body": "Name nit.", "severity": "nit", "ruleId": null}
            ]
        })])
        .await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let job = &env.history().await[0];
    assert_eq!(
        job["status"], "posted",
        "a draft is reviewed when the org says so: {job}"
    );

    let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
    let prompt = llm[0]["body"]["messages"][1]["content"].as_str().unwrap();
    assert!(prompt.contains(&format!("<rule id=\"{}\"", ids[0])), "{prompt}");
    assert!(prompt.contains("Parsing is total: check it."));
    assert!(!prompt.contains("Docs tone"), "its glob matches no changed path");
    assert!(!prompt.contains("never shown"), "disabled rules stay out");
    let posted = env.posted().await;
    assert_eq!(
        posted[0]["body"]["comments"],
        json!([{"path": "src/parse.rs", "line": 11, "side": "RIGHT",
                "body": format!("**major** · rule *Parsing is total* (`{}`): `unwrap` can panic.", ids[0])}]),
        "the nit is below the org's minimum severity"
    );
}
