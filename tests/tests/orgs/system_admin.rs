//! The system admin: reads, deletes and restores any org, lists every org; each access audited.

use super::*;

#[tokio::test]
async fn system_admin_reads_any_org_and_each_access_is_audited() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    let root = api.system_admin().await;
    let a = api.call(get(&format!("/api/orgs/{}", owner.slug), &root)).await;
    assert_eq!(a.status, 200);
    assert!(a.json()["org"]["role"].is_null(), "not a member");
    let audit = api
        .call(get(&format!("/api/orgs/{}/audit", owner.slug), &owner))
        .await
        .json();
    let reads: Vec<&Value> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "system_admin.read")
        .collect();
    assert!(!reads.is_empty());
    assert_eq!(reads[0]["actor"]["email"], root.email.as_str());
    // Not listed among the orgs of the admin, nor as a member.
    let mine = api.call(get("/api/orgs/me", &root)).await.json();
    assert_eq!(mine["orgs"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn system_admin_can_delete_and_restore_any_org() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    let root = api.system_admin().await;
    let s = owner.slug.clone();
    assert_eq!(api.call(delete(&format!("/api/orgs/{s}"), &root)).await.status, 200);
    assert_eq!(
        api.call(post(&format!("/api/orgs/{s}/restore"), &root, json!({})))
            .await
            .status,
        200
    );
    let audit = api.call(get(&format!("/api/orgs/{s}/audit"), &owner)).await.json();
    let by_root: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["viaSystemAdmin"] == true)
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        by_root.contains(&"org.deleted") && by_root.contains(&"org.restored"),
        "{by_root:?}"
    );
}

#[tokio::test]
async fn system_admins_list_every_org_with_search_and_pages() {
    let api = Api::new(&[]).await;
    let root = api.system_admin().await;
    let owner = api.user().await;
    let tag = unique_slug("every");
    // Found by name only: the slug does not contain it.
    let marker = format!("Named{}", &unique_slug("x")[2..]);
    for (slug, name) in [
        (format!("{tag}-one"), marker.as_str()),
        (format!("{tag}-two"), "Listed Two"),
    ] {
        let made = api
            .call(post("/api/orgs", &owner, json!({"name": name, "slug": slug})))
            .await;
        assert_eq!(made.status, 201, "{:?}", made.json());
    }
    // Deleted orgs are listed too (with their purge date), for a restore.
    let gone = api
        .call(Call::new("DELETE", &format!("/api/orgs/{tag}-two")).cookie(&owner.cookie))
        .await;
    assert_eq!(gone.status, 200, "{:?}", gone.json());

    let list = |query: String| api.call(get(&format!("/api/admin/orgs{query}"), &root));
    let all = list(format!("?q={tag}")).await;
    assert_eq!(all.status, 200, "{:?}", all.json());
    let slugs: Vec<String> = all.json()["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(slugs.len(), 2, "{slugs:?}");
    assert!(slugs.contains(&format!("{tag}-one")) && slugs.contains(&format!("{tag}-two")));
    let deleted = all.json()["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["slug"] == format!("{tag}-two").as_str())
        .unwrap()
        .clone();
    assert!(deleted["purgeAfter"].as_i64().is_some(), "{deleted}");
    assert!(deleted["role"].is_null(), "the admin is no member");

    // One at a time: the cursor leads to the other, then to nothing more.
    let first = list(format!("?q={tag}&limit=1")).await.json();
    assert_eq!(first["orgs"].as_array().unwrap().len(), 1);
    let cursor = first["nextCursor"].as_str().expect("a next page").to_owned();
    let second = list(format!("?q={tag}&limit=1&cursor={cursor}")).await.json();
    assert_eq!(second["orgs"].as_array().unwrap().len(), 1);
    assert_ne!(first["orgs"][0]["slug"], second["orgs"][0]["slug"]);
    if let Some(c) = second["nextCursor"].as_str() {
        let third = list(format!("?q={tag}&limit=1&cursor={c}")).await.json();
        assert!(third["orgs"].as_array().unwrap().is_empty());
    }
    assert_eq!(list("?cursor=%21%21".into()).await.status, 400, "a bad cursor");
    // Search by name too.
    let by_name = list(format!("?q={marker}")).await.json();
    assert_eq!(by_name["orgs"].as_array().unwrap().len(), 1, "{by_name}");
    assert_eq!(by_name["orgs"][0]["slug"], format!("{tag}-one").as_str());

    // Not for members, owners or API keys.
    let refused = api.call(get("/api/admin/orgs", &owner)).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error_code(), "system_admin_required");
    assert_eq!(api.call(Call::get("/api/admin/orgs")).await.status, 401);
}
