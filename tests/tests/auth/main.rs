//! Black-box tests of the auth function (product §3, §4) against the AWS emulator.

use agnus_tests::*;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";

async fn items_with_email(email: &str) -> usize {
    let ddb = dynamodb().await;
    let mut count = 0;
    let mut start = None;
    loop {
        let out = ddb
            .scan()
            .table_name(table_name())
            .filter_expression("email = :e OR pk = :pk")
            .expression_attribute_values(":e", AttributeValue::S(email.to_owned()))
            .expression_attribute_values(":pk", AttributeValue::S(format!("EMAIL#{email}")))
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        count += out.items().len();
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return count,
        }
    }
}

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

#[tokio::test]
async fn wrong_password_and_unknown_email_get_identical_answers() {
    let state = auth_state(&[]).await;
    let (email, _, _, _) = signup(&state).await;
    let wrong = call_auth(
        &state,
        Call::post("/api/auth/login").json(&json!({"email": email, "password": "not the right password"})),
    )
    .await;
    let unknown = call_auth(
        &state,
        Call::post("/api/auth/login")
            .json(&json!({"email": unique_email("nobody"), "password": "not the right password"})),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.body, unknown.body, "bodies must be byte-identical");
    assert_eq!(wrong.error_code(), "invalid_credentials");
    assert!(wrong.set_cookie().is_none());
}

#[tokio::test]
async fn login_works_with_any_case_and_lists_orgs() {
    let state = auth_state(&[]).await;
    let (email, password, slug, _) = signup(&state).await;
    let a = call_auth(
        &state,
        Call::post("/api/auth/login")
            .json(&json!({"email": format!(" {} ", email.to_uppercase()), "password": password})),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["orgs"][0]["slug"], slug);
    assert!(a.session_cookie().is_some());
}

#[tokio::test]
async fn repeated_login_failures_lock_out_that_source_only() {
    let state = auth_state(&[("AGNUS_LOGIN_RATE_LIMIT_PER_EMAIL", "3")]).await;
    let (email, password, _, _) = signup(&state).await;
    let attacker = random_ip();
    for _ in 0..3 {
        let a = call_auth(
            &state,
            Call::post("/api/auth/login")
                .json(&json!({"email": email, "password": "wrong password!!"}))
                .from_ip(&attacker),
        )
        .await;
        assert_eq!(a.status, 401);
    }
    // From the attacker's address even the right password is refused until the window passes…
    let a = call_auth(
        &state,
        Call::post("/api/auth/login")
            .json(&json!({"email": email, "password": password}))
            .from_ip(&attacker),
    )
    .await;
    assert_eq!(a.status, 429);
    assert!(a.headers.contains_key("retry-after"));
    // …but the owner, elsewhere, is not locked out by a stranger (SECURITY #33).
    let a = call_auth(
        &state,
        Call::post("/api/auth/login")
            .json(&json!({"email": email, "password": password}))
            .from_ip(&random_ip()),
    )
    .await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn login_attempts_per_ip_are_rate_limited() {
    let state = auth_state(&[("AGNUS_LOGIN_RATE_LIMIT_PER_IP", "2")]).await;
    let ip = random_ip();
    let call = || {
        Call::post("/api/auth/login")
            .json(&json!({"email": unique_email("x"), "password": "whatever pass"}))
            .from_ip(&ip)
    };
    assert_eq!(call_auth(&state, call()).await.status, 401);
    assert_eq!(call_auth(&state, call()).await.status, 401);
    assert_eq!(call_auth(&state, call()).await.status, 429);
}

#[tokio::test]
async fn stored_password_is_an_argon2id_phc_string_at_owasp_strength() {
    let state = auth_state(&[]).await;
    let (email, _, _, _) = signup(&state).await;
    let hash = user_item(&email).await["password_hash"].as_s().unwrap().clone();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    let params = hash.split('$').nth(3).unwrap();
    let get = |k: &str| -> u32 {
        params
            .split(',')
            .find_map(|p| p.strip_prefix(&format!("{k}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(get("m") >= 19_456 && get("t") >= 2 && get("p") >= 1, "{params}");
    // And the table holds no plaintext password anywhere.
    assert!(!format!("{:?}", scan_all().await).contains(PASSWORD));
}

#[tokio::test]
async fn weaker_hashes_are_upgraded_on_the_next_login() {
    let weak = auth_state(&[]).await;
    let (email, password, _, _) = signup(&weak).await;
    let strong = auth_state(&[("AGNUS_ARGON2_ITERATIONS", "3")]).await;
    let a = call_auth(
        &strong,
        Call::post("/api/auth/login").json(&json!({"email": email, "password": password})),
    )
    .await;
    assert_eq!(a.status, 200);
    let user = strong
        .store
        .find_user_by_email(&agnus_shared::domain::Email::parse(&email).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        user.password_hash.as_str().contains("t=3"),
        "{}",
        user.password_hash.as_str()
    );
    // Still logs in with the new hash.
    let b = call_auth(
        &strong,
        Call::post("/api/auth/login").json(&json!({"email": email, "password": password})),
    )
    .await;
    assert_eq!(b.status, 200);
}

#[tokio::test]
async fn bad_input_gets_clear_4xx_json_errors() {
    let state = auth_state(&[]).await;
    let good = || json!({"email": unique_email("v"), "password": PASSWORD, "orgName": "Valid"});
    let cases: Vec<(Call, u16, &str)> = vec![
        (
            Call::post("/api/auth/signup")
                .header("content-type", "application/json")
                .raw_body(b"{not json".to_vec()),
            400,
            "invalid_json",
        ),
        (
            Call::post("/api/auth/signup").header("content-type", "application/json"),
            400,
            "missing_body",
        ),
        (
            Call::post("/api/auth/signup")
                .header("content-type", "text/plain")
                .raw_body(good().to_string().into_bytes()),
            403,
            "csrf_rejected",
        ),
        (
            Call::post("/api/auth/signup").raw_body(good().to_string().into_bytes()),
            403,
            "csrf_rejected",
        ),
        (
            Call::post("/api/auth/signup").json(&json!({"password": PASSWORD, "orgName": "x"})),
            400,
            "invalid_field",
        ),
        (
            Call::post("/api/auth/signup").json(&json!({"email": 42, "password": PASSWORD, "orgName": "x"})),
            400,
            "invalid_field",
        ),
        (
            Call::post("/api/auth/signup").json(&json!([1, 2])),
            400,
            "invalid_field",
        ),
        (
            Call::post("/api/auth/signup").json(&json!({"email": "nope", "password": PASSWORD, "orgName": "x"})),
            400,
            "invalid_email",
        ),
        (
            Call::post("/api/auth/signup")
                .json(&json!({"email": unique_email("v"), "password": "short", "orgName": "x"})),
            400,
            "password_too_short",
        ),
        (
            Call::post("/api/auth/signup")
                .json(&json!({"email": unique_email("v"), "password": "p".repeat(257), "orgName": "x"})),
            400,
            "password_too_long",
        ),
        (
            Call::post("/api/auth/signup")
                .json(&json!({"email": unique_email("v"), "password": PASSWORD, "orgName": "  "})),
            400,
            "invalid_org_name",
        ),
        (
            Call::post("/api/auth/signup").json(
                &json!({"email": unique_email("v"), "password": PASSWORD, "orgName": "x", "orgSlug": "Bad Slug"}),
            ),
            400,
            "invalid_slug",
        ),
        (
            Call::post("/api/auth/signup")
                .json(&json!({"email": unique_email("v"), "password": PASSWORD, "orgName": "x", "orgSlug": "ab"})),
            400,
            "invalid_slug",
        ),
        (
            Call::post("/api/auth/signup")
                .json(&json!({"email": unique_email("v"), "password": PASSWORD, "orgName": "x", "orgSlug": "admin"})),
            400,
            "reserved_slug",
        ),
        (
            Call::post("/api/auth/signup")
                .header("content-type", "application/json")
                .raw_body(vec![b' '; 70_000]),
            413,
            "payload_too_large",
        ),
        (
            Call::post("/api/auth/signup")
                .json(&good())
                .header("sec-fetch-site", "cross-site"),
            403,
            "csrf_rejected",
        ),
        (
            Call::post("/api/auth/login").json(&json!({"email": "x@example.com"})),
            400,
            "invalid_field",
        ),
        (Call::get("/api/auth/signup"), 405, "method_not_allowed"),
        (Call::get("/api/auth/nothing-here"), 404, "not_found"),
        (Call::get("/api/auth/me"), 401, "unauthenticated"),
        (
            Call::post("/api/auth/logout-all").json(&json!({})),
            401,
            "unauthenticated",
        ),
    ];
    for (call, status, code) in cases {
        let desc = format!("{} {}", call.method, call.path);
        let a = call_auth(&state, call).await;
        assert_eq!(a.status, status, "{desc}: {:?}", String::from_utf8_lossy(&a.body));
        assert_eq!(a.headers["content-type"], "application/json", "{desc}");
        assert_eq!(a.error_code(), code, "{desc}");
        assert!(
            a.json()["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{desc}"
        );
    }
}

#[tokio::test]
async fn cookie_authenticated_state_changes_follow_the_csrf_rule() {
    let state = auth_state(&[]).await;
    let (_, _, _, cookie) = signup(&state).await;
    let cross = call_auth(
        &state,
        Call::post("/api/auth/logout-all")
            .json(&json!({}))
            .cookie(&cookie)
            .header("sec-fetch-site", "cross-site"),
    )
    .await;
    assert_eq!(cross.status, 403);
    let form = call_auth(
        &state,
        Call::post("/api/auth/logout-all")
            .header("content-type", "application/x-www-form-urlencoded")
            .raw_body(b"a=b".to_vec())
            .cookie(&cookie),
    )
    .await;
    assert_eq!(form.status, 403);
    // Neither request did anything: the session is still alive.
    assert_eq!(
        call_auth(&state, Call::get("/api/auth/me").cookie(&cookie))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn tampered_expired_and_foreign_tokens_are_401() {
    let state = auth_state(&[]).await;
    let (_, _, _, cookie) = signup(&state).await;
    let token = cookie.trim_start_matches("agnus_session=").to_owned();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    // Flip a payload character.
    let mut payload = parts[1].clone().into_bytes();
    payload[5] = if payload[5] == b'A' { b'B' } else { b'A' };
    parts[1] = String::from_utf8(payload).unwrap();
    let tampered = format!("agnus_session={}", parts.join("."));
    assert_eq!(
        call_auth(&state, Call::get("/api/auth/me").cookie(&tampered))
            .await
            .status,
        401
    );

    // A token signed with another key.
    let other_key = agnus_shared::crypto::SessionTokens::new(b"another-key-0123456789abcdef0123456789");
    let now = jsonwebtoken_now();
    let me = call_auth(&state, Call::get("/api/auth/me").cookie(&cookie))
        .await
        .json();
    let user_id: agnus_shared::domain::UserId = me["user"]["id"].as_str().unwrap().parse().unwrap();
    let forged = other_key
        .issue(&agnus_shared::crypto::SessionClaims {
            sub: user_id,
            sid: agnus_shared::domain::SessionId::new(),
            ep: 0,
            iat: now,
            exp: now + 600,
        })
        .unwrap();
    assert_eq!(
        call_auth(
            &state,
            Call::get("/api/auth/me").cookie(&format!("agnus_session={forged}"))
        )
        .await
        .status,
        401
    );

    // An expired token signed with the right key, for a session that exists.
    let expired_state = auth_state(&[("AGNUS_SESSION_TTL_SECS", "60")]).await;
    let expired = state
        .tokens
        .issue(&agnus_shared::crypto::SessionClaims {
            sub: user_id,
            sid: agnus_shared::domain::SessionId::new(),
            ep: 0,
            iat: now - 120,
            exp: now - 60,
        })
        .unwrap();
    assert_eq!(
        call_auth(
            &expired_state,
            Call::get("/api/auth/me").cookie(&format!("agnus_session={expired}"))
        )
        .await
        .status,
        401
    );

    // A validly signed token whose session record does not exist.
    let orphan = state
        .tokens
        .issue(&agnus_shared::crypto::SessionClaims {
            sub: user_id,
            sid: agnus_shared::domain::SessionId::new(),
            ep: 0,
            iat: now,
            exp: now + 600,
        })
        .unwrap();
    assert_eq!(
        call_auth(
            &state,
            Call::get("/api/auth/me").cookie(&format!("agnus_session={orphan}"))
        )
        .await
        .status,
        401
    );
}

fn jsonwebtoken_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
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

#[tokio::test]
async fn access_policy_applies_at_signup_and_login() {
    let domain = format!("{}.example.org", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let owner = format!("boss@{domain}");
    let open = auth_state(&[]).await;
    // An account in a domain that later becomes disallowed.
    let outsider = unique_email("out");
    assert_eq!(
        call_auth(
            &open,
            Call::post("/api/auth/signup").json(&json!({"email": outsider, "password": PASSWORD, "orgName": "Out"}))
        )
        .await
        .status,
        201
    );

    let strict = auth_state(&[
        ("AGNUS_ACCESS_ALLOWED_DOMAINS", &domain),
        ("AGNUS_ACCESS_ALLOWED_OWNER_EMAILS", &owner),
        ("AGNUS_ACCESS_BLOCKED_EMAILS", &format!("mallory@{domain}")),
    ])
    .await;
    let signup_as = |email: String| {
        Call::post("/api/auth/signup").json(&json!({"email": email, "password": PASSWORD, "orgName": "P"}))
    };
    let a = call_auth(&strict, signup_as(format!("dev@{domain}"))).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.error_code(), "org_creation_not_allowed");
    assert!(a.json()["error"]["message"].as_str().unwrap().contains("invitation"));
    let b = call_auth(&strict, signup_as(unique_email("elsewhere"))).await;
    assert_eq!(b.status, 403);
    assert_eq!(b.error_code(), "domain_not_allowed");
    let c = call_auth(&strict, signup_as(format!("mallory@{domain}"))).await;
    assert_eq!(c.error_code(), "access_blocked");
    assert_eq!(call_auth(&strict, signup_as(owner.to_uppercase())).await.status, 201);
    let d = call_auth(
        &strict,
        Call::post("/api/auth/login").json(&json!({"email": outsider, "password": PASSWORD})),
    )
    .await;
    assert_eq!(d.status, 403);
    assert_eq!(d.error_code(), "domain_not_allowed");
}

#[tokio::test]
async fn system_admin_bootstrap_is_idempotent() {
    let email = unique_email("root");
    let state = auth_state(&[("ADMIN_EMAIL", &email), ("ADMIN_PASSWORD", "admin password 123")]).await;
    agnus_auth::bootstrap_admin(&state).await.unwrap();
    agnus_auth::bootstrap_admin(&state).await.unwrap();
    let again = auth_state(&[("ADMIN_EMAIL", &email), ("ADMIN_PASSWORD", "a different password")]).await;
    agnus_auth::bootstrap_admin(&again).await.unwrap();
    assert_eq!(items_with_email(&email).await, 2, "one user item and one email claim");
    let a = call_auth(
        &state,
        Call::post("/api/auth/login").json(&json!({"email": email, "password": "admin password 123"})),
    )
    .await;
    assert_eq!(a.status, 200, "the original password still works");
    assert_eq!(a.json()["user"]["isSystemAdmin"], true);
    assert_eq!(a.json()["orgs"].as_array().unwrap().len(), 0, "not a member of any org");

    // An existing ordinary account named as admin is NOT promoted while its address is
    // unverified (whoever registers ADMIN_EMAIL first must not become system admin);
    // tests/tests/mail.rs shows it is promoted once its owner verifies the address.
    let (user_email, password, _, _) = signup(&state).await;
    let promote = auth_state(&[("ADMIN_EMAIL", &user_email), ("ADMIN_PASSWORD", "ignored password 1")]).await;
    agnus_auth::bootstrap_admin(&promote).await.unwrap();
    let b = call_auth(
        &promote,
        Call::post("/api/auth/login").json(&json!({"email": user_email, "password": password})),
    )
    .await;
    assert_eq!(b.status, 200, "its own password still works");
    assert_eq!(b.json()["user"]["isSystemAdmin"], false);
    assert_eq!(b.json()["user"]["emailVerified"], false);
}
