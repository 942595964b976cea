//! Review rules and review settings: who writes and reads them, their limits, their layers.

use super::*;

#[tokio::test]
async fn review_rules_are_admin_written_member_read_and_org_scoped() {
    let api = Api::new(&[]).await;
    let alice = api.user().await;
    let bob = api.user().await;
    let mallory = api.user().await;
    api.add_member(&alice, &alice.slug, &bob, "member").await;
    let rules = format!("/api/orgs/{}/rules", alice.slug);

    let created = api
        .call(post(
            &rules,
            &alice,
            json!({"name": "Parameterised SQL", "description": "No SQL built by string concatenation.\nUse bind parameters.",
                   "category": "security", "pathGlob": "src/db/**"}),
        ))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let rule = created.json()["rule"].clone();
    let id = rule["id"].as_str().unwrap().to_owned();
    assert_eq!(rule["enabled"], true);
    assert_eq!(rule["pathGlob"], "src/db/**");
    assert_eq!(rule["repoId"], Value::Null);
    assert_eq!(rule["createdBy"], alice.id.as_str());

    // Members read; they cannot write.
    let listed = api.call(get(&rules, &bob)).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["rules"][0]["id"], id.as_str());
    let one = format!("{rules}/{id}");
    assert_eq!(api.call(get(&one, &bob)).await.status, 200);
    for call in [
        post(
            &rules,
            &bob,
            json!({"name": "x", "description": "y", "category": "style"}),
        ),
        patch(&one, &bob, json!({"enabled": false})),
        delete(&one, &bob),
    ] {
        let a = api.call(call).await;
        assert_eq!(a.status, 403, "{:?}", a.json());
    }

    // Another org's member sees nothing, with the same 404 as for a missing org.
    for call in [
        get(&rules, &mallory),
        get(&one, &mallory),
        patch(&one, &mallory, json!({"enabled": false})),
    ] {
        let a = api.call(call).await;
        assert_eq!(a.status, 404);
        assert_eq!(a.error_code(), "org_not_found");
    }
    // An id from another org is not found in one's own.
    let other = api
        .call(get(&format!("/api/orgs/{}/rules/{id}", mallory.slug), &mallory))
        .await;
    assert_eq!(other.status, 404);
    assert_eq!(other.error_code(), "rule_not_found");

    // Validation: clear 4xx, nothing written.
    for (body, code) in [
        (
            json!({"name": "n", "description": "d", "category": "sql"}),
            "invalid_category",
        ),
        (
            json!({"name": "n", "description": "x".repeat(2001), "category": "style"}),
            "invalid_description",
        ),
        (
            json!({"name": "n", "description": "hidden\u{202e}text", "category": "style"}),
            "invalid_description",
        ),
        (
            json!({"name": "n", "description": "d", "category": "style", "pathGlob": "/abs"}),
            "invalid_path_glob",
        ),
        (json!({"description": "d", "category": "style"}), "missing_field"),
        (
            json!({"name": "n", "description": "d", "category": "style", "owner": "me"}),
            "unknown_field",
        ),
    ] {
        let a = api.call(post(&rules, &alice, body)).await;
        assert_eq!(a.status, 400, "{:?}", a.json());
        assert_eq!(a.error_code(), code);
    }
    let a = api
        .call(post(
            &rules,
            &alice,
            json!({"name": "n", "description": "d", "category": "style", "repoId": "0123456789abcdef0123456789abcdef"}),
        ))
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.error_code(), "repo_not_found");

    // Disable, edit, delete — each audited.
    let disabled = api.call(patch(&one, &alice, json!({"enabled": false}))).await;
    assert_eq!(disabled.status, 200);
    assert_eq!(disabled.json()["rule"]["enabled"], false);
    assert_eq!(
        disabled.json()["rule"]["pathGlob"],
        "src/db/**",
        "untouched fields stay"
    );
    let edited = api
        .call(patch(
            &one,
            &alice,
            json!({"pathGlob": null, "category": "correctness"}),
        ))
        .await;
    assert_eq!(edited.json()["rule"]["pathGlob"], Value::Null);
    assert_eq!(edited.json()["rule"]["category"], "correctness");
    assert_eq!(api.call(delete(&one, &alice)).await.status, 204);
    assert_eq!(api.call(get(&one, &alice)).await.status, 404);
    assert_eq!(api.call(delete(&one, &alice)).await.status, 404);
    let actions = api.audit_actions(&alice.slug, &alice).await;
    for action in ["rule.created", "rule.disabled", "rule.updated", "rule.deleted"] {
        assert!(actions.iter().any(|a| a == action), "{action} missing from {actions:?}");
    }
}

#[tokio::test]
async fn the_rule_limit_is_enforced_in_the_write() {
    let api = Api::new(&[("AGNUS_RULES_PER_ORG", "2")]).await;
    let alice = api.user().await;
    let rules = format!("/api/orgs/{}/rules", alice.slug);
    let body = json!({"name": "n", "description": "d", "category": "style"});
    let first = api.call(post(&rules, &alice, body.clone())).await;
    assert_eq!(first.status, 201);
    assert_eq!(api.call(post(&rules, &alice, body.clone())).await.status, 201);
    let third = api.call(post(&rules, &alice, body.clone())).await;
    assert_eq!(third.status, 409);
    assert_eq!(third.error_code(), "too_many_rules");
    // Deleting one frees its place.
    let id = first.json()["rule"]["id"].as_str().unwrap().to_owned();
    assert_eq!(api.call(delete(&format!("{rules}/{id}"), &alice)).await.status, 204);
    assert_eq!(api.call(post(&rules, &alice, body)).await.status, 201);
    assert_eq!(
        api.call(get(&rules, &alice)).await.json()["rules"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn review_settings_are_admin_written_layered_and_validated() {
    let api = Api::new(&[]).await;
    let alice = api.user().await;
    let bob = api.user().await;
    let mallory = api.user().await;
    api.add_member(&alice, &alice.slug, &bob, "member").await;
    let path = format!("/api/orgs/{}/review-settings", alice.slug);

    let empty = api.call(get(&path, &bob)).await;
    assert_eq!(empty.status, 200);
    assert_eq!(
        empty.json()["settings"],
        json!({}),
        "nothing set: the system's defaults apply"
    );

    let set = api
        .call(patch(
            &path,
            &alice,
            json!({"maxComments": 10, "depth": "deep", "ignoredPaths": ["docs/**", "**/*.lock"], "skipDrafts": false, "mention": "@reviewbot"}),
        ))
        .await;
    assert_eq!(set.status, 200, "{:?}", set.json());
    let read = api.call(get(&path, &bob)).await.json()["settings"].clone();
    assert_eq!(read["maxComments"], 10);
    assert_eq!(read["depth"], "deep");
    assert_eq!(read["ignoredPaths"], json!(["docs/**", "**/*.lock"]));
    assert_eq!(read["skipDrafts"], false);
    assert_eq!(read["mention"], "@reviewbot");

    // null clears one field; the others stay.
    api.call(patch(&path, &alice, json!({"maxComments": null}))).await;
    let read = api.call(get(&path, &alice)).await.json()["settings"].clone();
    assert!(read.get("maxComments").is_none(), "{read}");
    assert_eq!(read["depth"], "deep");

    // Members read only; other orgs see nothing; bad values are 400 and change nothing.
    assert_eq!(api.call(patch(&path, &bob, json!({"depth": "fast"}))).await.status, 403);
    let outside = api.call(get(&path, &mallory)).await;
    assert_eq!((outside.status, outside.error_code().as_str()), (404, "org_not_found"));
    for bad in [
        json!({"maxComments": 0}),
        json!({"depth": "bottomless"}),
        json!({"colour": "blue"}),
    ] {
        assert_eq!(api.call(patch(&path, &alice, bad)).await.status, 400);
    }
    assert_eq!(api.call(get(&path, &alice)).await.json()["settings"]["depth"], "deep");

    // A repository override needs a repository of this org.
    let unknown = api
        .call(patch(
            &format!("{path}/0123456789abcdef0123456789abcdef"),
            &alice,
            json!({"depth": "fast"}),
        ))
        .await;
    assert_eq!((unknown.status, unknown.error_code().as_str()), (404, "repo_not_found"));
    let actions = api.audit_actions(&alice.slug, &alice).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "review_settings.updated").count(),
        2,
        "{actions:?}"
    );
}
