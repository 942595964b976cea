//! Sessions: logout, logout everywhere, the session list, the active org.

use super::*;

#[tokio::test]
async fn logout_makes_the_captured_cookie_useless() {
    let state = auth_state(&[]).await;
    let (_, _, _, cookie) = signup(&state).await;
    let out = call_auth(&state, Call::post("/api/auth/logout").json(&json!({})).cookie(&cookie)).await;
    assert_eq!(out.status, 204);
    assert!(out.set_cookie().unwrap().contains("Max-Age=0"));
    let me = call_auth(&state, Call::get("/api/auth/me").cookie(&cookie)).await;
    assert_eq!(me.status, 401);
    assert_eq!(me.error_code(), "unauthenticated");
}

#[tokio::test]
async fn logout_everywhere_ends_every_session() {
    let state = auth_state(&[]).await;
    let (email, password, _, first) = signup(&state).await;
    let login = call_auth(
        &state,
        Call::post("/api/auth/login").json(&json!({"email": email, "password": password})),
    )
    .await;
    assert_eq!(login.status, 200);
    let second = login.session_cookie().unwrap();
    assert_eq!(
        call_auth(&state, Call::get("/api/auth/me").cookie(&first)).await.status,
        200
    );
    let out = call_auth(
        &state,
        Call::post("/api/auth/logout-all").json(&json!({})).cookie(&second),
    )
    .await;
    assert_eq!(out.status, 204);
    assert_eq!(
        call_auth(&state, Call::get("/api/auth/me").cookie(&first)).await.status,
        401
    );
    assert_eq!(
        call_auth(&state, Call::get("/api/auth/me").cookie(&second))
            .await
            .status,
        401
    );
    // A fresh login works again.
    let again = call_auth(
        &state,
        Call::post("/api/auth/login").json(&json!({"email": email, "password": password})),
    )
    .await;
    let third = again.session_cookie().unwrap();
    assert_eq!(
        call_auth(&state, Call::get("/api/auth/me").cookie(&third)).await.status,
        200
    );
}

#[tokio::test]
async fn sessions_are_listed_with_last_use_and_ended_one_by_one() {
    let state = auth_state(&[]).await;
    let (email, password, _, first) = signup(&state).await;
    let login = |_: ()| {
        call_auth(
            &state,
            Call::post("/api/auth/login").json(&json!({"email": email, "password": password})),
        )
    };
    let second = login(()).await.session_cookie().unwrap();
    let list = |cookie: String| call_auth(&state, Call::get("/api/auth/sessions").cookie(&cookie));
    let listed = list(first.clone()).await;
    assert_eq!(listed.status, 200, "{:?}", listed.json());
    let sessions = listed.json()["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    for s in &sessions {
        assert!(s["createdAt"].as_i64().unwrap() <= s["lastSeenAt"].as_i64().unwrap());
        assert!(s["expiresAt"].as_i64().unwrap() > s["createdAt"].as_i64().unwrap());
    }
    let body = String::from_utf8_lossy(&listed.body).into_owned();
    for cookie in [&first, &second] {
        let token = cookie.split_once('=').unwrap().1;
        assert!(!body.contains(token), "a session token is listed");
    }
    let other_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // "Last seen" moves when the session is used (written at most once a minute).
    let user_id = call_auth(&state, Call::get("/api/auth/me").cookie(&second))
        .await
        .json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    dynamodb()
        .await
        .update_item()
        .table_name(table_name())
        .key("pk", AttributeValue::S(format!("USER#{user_id}")))
        .key("sk", AttributeValue::S(format!("SESSION#{other_id}")))
        .update_expression("SET created_at = :old, last_seen_at = :old")
        .expression_attribute_values(":old", AttributeValue::N("1000".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        call_auth(&state, Call::get("/api/auth/me").cookie(&second))
            .await
            .status,
        200
    );
    let seen = list(first.clone()).await.json()["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == other_id.as_str())
        .unwrap()["lastSeenAt"]
        .as_i64()
        .unwrap();
    assert!(seen > 1000, "last seen was recorded: {seen}");

    // Ending another session of mine: that cookie stops working, mine goes on.
    let end = |id: String, cookie: String| {
        call_auth(
            &state,
            Call::new("DELETE", &format!("/api/auth/sessions/{id}"))
                .json(&json!({}))
                .cookie(&cookie),
        )
    };
    let ended = end(other_id.clone(), first.clone()).await;
    assert_eq!(ended.status, 204);
    assert!(ended.set_cookie().is_none(), "my own cookie is kept");
    assert_eq!(
        call_auth(&state, Call::get("/api/auth/me").cookie(&second))
            .await
            .status,
        401
    );
    assert_eq!(
        call_auth(&state, Call::get("/api/auth/me").cookie(&first)).await.status,
        200
    );
    assert_eq!(
        list(first.clone()).await.json()["sessions"].as_array().unwrap().len(),
        1
    );
    // Gone, unknown, malformed, or someone else's: 404.
    assert_eq!(end(other_id.clone(), first.clone()).await.status, 404);
    assert_eq!(end("nope".into(), first.clone()).await.status, 404);
    let (_, _, _, stranger) = signup(&state).await;
    let theirs = list(stranger.clone()).await.json()["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(end(theirs, first.clone()).await.error_code(), "session_not_found");
    assert_eq!(
        call_auth(&state, Call::get("/api/auth/me").cookie(&stranger))
            .await
            .status,
        200
    );
    // Ending the current session logs out here.
    let mine = list(first.clone()).await.json()["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = end(mine, first.clone()).await;
    assert_eq!(out.status, 204);
    assert!(out.set_cookie().unwrap().contains("Max-Age=0"));
    assert_eq!(list(first).await.status, 401);
}

#[tokio::test]
async fn me_switches_active_org_with_the_header_and_hides_foreign_orgs() {
    let state = auth_state(&[]).await;
    let (_, _, slug, cookie) = signup(&state).await;
    let (_, _, foreign_slug, _) = signup(&state).await;
    let mine = call_auth(
        &state,
        Call::get("/api/auth/me").cookie(&cookie).header("x-org-slug", &slug),
    )
    .await;
    assert_eq!(mine.json()["activeOrg"]["slug"], slug);
    let foreign = call_auth(
        &state,
        Call::get("/api/auth/me")
            .cookie(&cookie)
            .header("x-org-slug", &foreign_slug),
    )
    .await;
    let missing = call_auth(
        &state,
        Call::get("/api/auth/me")
            .cookie(&cookie)
            .header("x-org-slug", "no-such-org-here"),
    )
    .await;
    assert_eq!(foreign.status, 403);
    assert_eq!(foreign.body, missing.body, "existence of other orgs is not revealed");
}
