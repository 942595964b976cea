//! Signup: the session cookie, the suggested slug, conflicts, concurrent signups, its rate limit.

use super::*;

#[tokio::test]
async fn signup_sets_a_secure_cookie_and_me_shows_the_owned_org() {
    let state = auth_state(&[]).await;
    let email = unique_email("Alice");
    let slug = unique_slug("acme");
    let a = call_auth(
        &state,
        Call::post("/api/auth/signup").json(&json!({
            "email": format!("  {}  ", email.to_uppercase()), "password": PASSWORD, "orgName": "Acme", "orgSlug": slug
        })),
    )
    .await;
    assert_eq!(a.status, 201, "{:?}", a.json());
    let body = a.json();
    assert_eq!(body["user"]["email"], email.to_lowercase());
    assert_eq!(body["org"]["slug"], slug);
    assert_eq!(body["org"]["role"], "owner");
    let set_cookie = a.set_cookie().expect("Set-Cookie");
    for flag in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=43200",
        "Expires=",
    ] {
        assert!(set_cookie.contains(flag), "{set_cookie} lacks {flag}");
    }
    let cookie = a.session_cookie().unwrap();

    let me = call_auth(&state, Call::get("/api/auth/me").cookie(&cookie)).await;
    assert_eq!(me.status, 200);
    let me = me.json();
    assert_eq!(me["user"]["email"], email.to_lowercase());
    assert_eq!(me["user"]["isSystemAdmin"], false);
    assert_eq!(me["orgs"].as_array().unwrap().len(), 1);
    assert_eq!(me["orgs"][0]["slug"], slug);
    assert_eq!(me["orgs"][0]["role"], "owner");
    assert_eq!(me["activeOrg"]["slug"], slug);
}

#[tokio::test]
async fn omitted_slug_is_suggested_from_the_name() {
    let state = auth_state(&[]).await;
    let name = format!("Globex {}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    let a = call_auth(
        &state,
        Call::post("/api/auth/signup")
            .json(&json!({"email": unique_email("g"), "password": PASSWORD, "orgName": name})),
    )
    .await;
    assert_eq!(a.status, 201);
    let slug = a.json()["org"]["slug"].as_str().unwrap().to_owned();
    assert_eq!(slug, name.to_lowercase().replace(' ', "-"));
    // Same name again: the suggestion is taken, so a suffixed slug is chosen instead of a 409.
    let b = call_auth(
        &state,
        Call::post("/api/auth/signup")
            .json(&json!({"email": unique_email("g"), "password": PASSWORD, "orgName": name})),
    )
    .await;
    assert_eq!(b.status, 201);
    let other = b.json()["org"]["slug"].as_str().unwrap().to_owned();
    assert_ne!(other, slug);
    assert!(other.starts_with(&slug), "{other}");
}

#[tokio::test]
async fn same_email_in_any_case_is_a_conflict() {
    let state = auth_state(&[]).await;
    let (email, _, _, _) = signup(&state).await;
    let before = items_with_email(&email).await;
    let a = call_auth(
        &state,
        Call::post("/api/auth/signup").json(&json!({
            "email": format!(" {} ", email.to_uppercase()), "password": PASSWORD, "orgName": "Dup", "orgSlug": unique_slug("dup")
        })),
    )
    .await;
    assert_eq!(a.status, 409);
    assert_eq!(a.error_code(), "email_taken");
    assert_eq!(items_with_email(&email).await, before, "nothing new written");
}

#[tokio::test]
async fn taken_slug_is_a_conflict_and_leaves_nothing_behind() {
    let state = auth_state(&[]).await;
    let (_, _, slug, _) = signup(&state).await;
    let email = unique_email("late");
    let a = call_auth(
        &state,
        Call::post("/api/auth/signup")
            .json(&json!({"email": email, "password": PASSWORD, "orgName": "Late", "orgSlug": slug})),
    )
    .await;
    assert_eq!(a.status, 409);
    assert_eq!(a.error_code(), "slug_taken");
    assert!(a.set_cookie().is_none());
    assert_eq!(items_with_email(&email).await, 0, "no user or email claim left behind");
    // The email is still free: a retry with another slug succeeds.
    let b = call_auth(
        &state,
        Call::post("/api/auth/signup")
            .json(&json!({"email": email, "password": PASSWORD, "orgName": "Late", "orgSlug": unique_slug("late")})),
    )
    .await;
    assert_eq!(b.status, 201);
}

#[tokio::test]
async fn concurrent_signups_with_one_email_create_one_account() {
    let state = auth_state(&[]).await;
    let email = unique_email("race");
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let state = state.clone();
        let call = Call::post("/api/auth/signup")
            .json(&json!({"email": email, "password": PASSWORD, "orgName": "Race", "orgSlug": unique_slug("race")}));
        set.spawn(async move { call_auth(&state, call).await.status });
    }
    let statuses = set.join_all().await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| [201, 409, 503].contains(s)), "{statuses:?}");
    assert_eq!(
        items_with_email(&email).await,
        3,
        "one user, one email claim, one membership"
    );
}

#[tokio::test]
async fn eleventh_signup_from_one_ip_within_the_hour_is_429() {
    let state = auth_state(&[]).await;
    let ip = random_ip();
    for i in 0..10 {
        let a = call_auth(
            &state,
            Call::post("/api/auth/signup")
                .json(&json!({"email": unique_email("rl"), "password": PASSWORD, "orgName": format!("RL {i}")}))
                .from_ip(&ip),
        )
        .await;
        assert_eq!(a.status, 201, "signup {i}: {:?}", a.json());
    }
    let a = call_auth(
        &state,
        Call::post("/api/auth/signup")
            .json(&json!({"email": unique_email("rl"), "password": PASSWORD, "orgName": "RL 11"}))
            .from_ip(&ip)
            // A client-supplied forwarding header must not reset the limit.
            .header("x-forwarded-for", &random_ip()),
    )
    .await;
    assert_eq!(a.status, 429);
    assert_eq!(a.error_code(), "rate_limited");
    let retry: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry));
    // Another IP is unaffected.
    let b = call_auth(
        &state,
        Call::post("/api/auth/signup")
            .json(&json!({"email": unique_email("rl"), "password": PASSWORD, "orgName": "Other"})),
    )
    .await;
    assert_eq!(b.status, 201);
}

#[tokio::test]
async fn signup_limit_is_configurable() {
    let state = auth_state(&[("AGNUS_SIGNUP_RATE_LIMIT_PER_IP", "1")]).await;
    let ip = random_ip();
    let body = || json!({"email": unique_email("cfg"), "password": PASSWORD, "orgName": "Cfg"});
    assert_eq!(
        call_auth(&state, Call::post("/api/auth/signup").json(&body()).from_ip(&ip))
            .await
            .status,
        201
    );
    assert_eq!(
        call_auth(&state, Call::post("/api/auth/signup").json(&body()).from_ip(&ip))
            .await
            .status,
        429
    );
}
