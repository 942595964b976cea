//! Repositories: exclusive, validated, org scoped; connecting proves write access first.

use super::*;

#[tokio::test]
async fn repos_are_exclusive_validated_and_org_scoped() {
    let (api, _queue, _esm) = setup(&[]).await;
    let alice = api.user().await;
    let bob = api.user().await;
    let member = api.user().await;
    api.add_member(&alice, &alice.slug, &member, "member").await;
    let name = unique_repo();
    let created = connect(&api, &alice, &name.to_uppercase(), None).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.json()["repo"]["fullName"], name, "identity is case-insensitive");
    let repo_id = created.json()["repo"]["id"].as_str().unwrap().to_owned();
    let taken = connect(&api, &bob, &format!("https://github.com/{name}.git"), None).await;
    assert_eq!((taken.status, taken.error_code().as_str()), (409, "repo_taken"));
    let bad = connect(&api, &alice, "not a repo", None).await;
    assert_eq!((bad.status, bad.error_code().as_str()), (400, "invalid_repo"));
    let by_member = api
        .call(
            Call::post("/api/repos")
                .cookie(&member.cookie)
                .header("x-org-slug", &alice.slug)
                .json(&json!({"provider":"github","fullName": unique_repo()})),
        )
        .await;
    assert_eq!(by_member.status, 403);
    // Members read; other orgs see nothing.
    let get = |who: &TestUser, slug: &str| {
        Call::get(&format!("/api/repos/{repo_id}"))
            .cookie(&who.cookie)
            .header("x-org-slug", slug)
    };
    assert_eq!(api.call(get(&member, &alice.slug)).await.status, 200);
    assert_eq!(api.call(get(&bob, &bob.slug)).await.status, 404);
    assert_eq!(
        api.call(get(&bob, &alice.slug)).await.status,
        404,
        "not a member of alice's org"
    );
    // Without X-Org-Slug and with several orgs: asked to choose.
    let several = api.call(Call::get("/api/repos").cookie(&member.cookie)).await;
    assert_eq!((several.status, several.error_code().as_str()), (400, "org_required"));
    // Disconnect (admin) frees the identity.
    let del = Call::new("DELETE", &format!("/api/repos/{repo_id}"))
        .cookie(&alice.cookie)
        .header("x-org-slug", &alice.slug)
        .header("content-type", "application/json");
    assert_eq!(api.call(del).await.status, 204);
    assert_eq!(connect(&api, &bob, &name, None).await.status, 201);
    let audit = api
        .call(Call::get(&format!("/api/orgs/{}/audit", alice.slug)).cookie(&alice.cookie))
        .await
        .json();
    let actions: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"repo.connected") && actions.contains(&"repo.deleted"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn connecting_proves_write_access_before_a_repository_is_claimed() {
    let (api, _queue, _esm) = setup(&[]).await;
    let owner = api.user().await;
    let squatter = api.user().await;
    let standin = review::shared_standin();
    let name = unique_repo();
    let owner_token = format!("ghp_owner_{}", owner.slug);
    standin.grant("github", &name, &owner_token, "write").await;
    let reader = format!("ghp_reader_{}", squatter.slug);
    standin.grant("github", &name, &reader, "read").await;

    // Another org with a made-up token, with none, or with a read-only one: refused, nothing claimed.
    let denied = |a: &Answer| (a.status, a.error_code());
    let fake = connect_with(&api, &squatter, "github", &name, "not-a-real-token").await;
    assert_eq!(denied(&fake), (403, "repo_access_denied".to_owned()));
    let read_only = connect_with(&api, &squatter, "github", &name, &reader).await;
    assert_eq!(denied(&read_only), (403, "repo_access_denied".to_owned()));
    let none = api
        .call(
            Call::post("/api/repos")
                .cookie(&squatter.cookie)
                .header("x-org-slug", &squatter.slug)
                .json(&json!({"provider": "github", "fullName": name})),
        )
        .await;
    assert_eq!(denied(&none), (400, "token_required".to_owned()));
    // A token that can never be an HTTP header value is refused before any provider call.
    let asked = standin.requests_to("GET", &name).await.len();
    for bad in ["x\u{20ac}yy", "tok en", "tab\there"] {
        let refused = connect_with(&api, &squatter, "github", &name, bad).await;
        assert_eq!(denied(&refused), (400, "invalid_token".to_owned()), "{bad:?}");
    }
    assert_eq!(
        standin.requests_to("GET", &name).await.len(),
        asked,
        "no provider call for a bad token"
    );
    let listed = api
        .call(
            Call::get("/api/repos")
                .cookie(&squatter.cookie)
                .header("x-org-slug", &squatter.slug),
        )
        .await;
    assert_eq!(listed.json()["repos"], json!([]), "nothing written for the squatter");

    // The owner connects (no 409: nobody claimed it).
    let owned = connect_with(&api, &owner, "github", &name, &owner_token).await;
    assert_eq!(owned.status, 201, "{:?}", owned.json());
    // Now taken: a stranger still learns only that the token proves nothing (no 409 leak).
    let probe = connect_with(&api, &squatter, "github", &name, "not-a-real-token").await;
    assert_eq!(denied(&probe), (403, "repo_access_denied".to_owned()));
    let probe = connect_with(&api, &squatter, "github", &name, &reader).await;
    assert_eq!(denied(&probe), (403, "repo_access_denied".to_owned()));
    // The token was used as GitHub's credential on GET /repos/{owner}/{repo}.
    let checks: Vec<Value> = standin
        .requests_to("GET", &format!("/repos/{name}"))
        .await
        .into_iter()
        .filter(|r| r["path"] == format!("/repos/{name}").as_str())
        .collect();
    assert!(
        checks
            .iter()
            .any(|r| r["headers"]["authorization"] == format!("Bearer {owner_token}").as_str())
    );
}

#[tokio::test]
async fn gitlab_azure_and_bitbucket_connections_prove_write_access_too() {
    let (api, _queue, _esm) = setup(&[]).await;
    let admin = api.user().await;
    let standin = review::shared_standin();
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..10];
    for (provider, name) in [
        ("gitlab", format!("group/sub/proj-{tag}")),
        ("azure", format!("fabrikam/proj-{tag}/repo")),
        ("bitbucket", format!("workspace/repo-{tag}")),
    ] {
        let reader = format!("{provider}-reader-{tag}");
        let writer = format!("{provider}-writer-{tag}");
        standin.grant(provider, &name, &reader, "read").await;
        standin.grant(provider, &name, &writer, "write").await;
        let unknown = connect_with(&api, &admin, provider, &name, "unknown-token").await;
        assert_eq!(
            (unknown.status, unknown.error_code().as_str()),
            (403, "repo_access_denied"),
            "{provider}"
        );
        if provider != "azure" {
            // Azure DevOps shows a token no per-repository write permission: seeing it is the proof.
            let read = connect_with(&api, &admin, provider, &name, &reader).await;
            assert_eq!(
                (read.status, read.error_code().as_str()),
                (403, "repo_access_denied"),
                "{provider}"
            );
        }
        let ok = connect_with(&api, &admin, provider, &name, &writer).await;
        assert_eq!(ok.status, 201, "{provider}: {:?}", ok.json());
    }
}
