//! Login: identical failures, lockout, rate limits, the stored password hash and its upgrade.

use super::*;

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
async fn parallel_wrong_passwords_get_no_more_checks_than_the_lockout_allows() {
    let state = auth_state(&[("AGNUS_LOGIN_RATE_LIMIT_PER_EMAIL", "3")]).await;
    let (email, password, _, _) = signup(&state).await;
    let attacker = random_ip();
    // Ten guesses sent at once: each is counted before its password is checked, so only
    // three are checked (401) and the rest are lockout answers, however they interleave.
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..10 {
        let (state, email, ip) = (state.clone(), email.clone(), attacker.clone());
        guesses.spawn(async move {
            let call = Call::post("/api/auth/login")
                .json(&json!({"email": email, "password": format!("wrong password {i}")}))
                .from_ip(&ip);
            call_auth(&state, call).await.status
        });
    }
    let mut statuses = guesses.join_all().await;
    statuses.sort_unstable();
    assert_eq!(statuses, [vec![401; 3], vec![429; 7]].concat());
    // The lockout holds for the right password too; elsewhere, the owner logs in.
    let locked = call_auth(
        &state,
        Call::post("/api/auth/login")
            .json(&json!({"email": email, "password": password}))
            .from_ip(&attacker),
    )
    .await;
    assert_eq!(locked.status, 429);
    let owner = call_auth(
        &state,
        Call::post("/api/auth/login").json(&json!({"email": email, "password": password})),
    )
    .await;
    assert_eq!(owner.status, 200);
}

#[tokio::test]
async fn a_successful_login_does_not_use_up_the_failure_allowance() {
    let state = auth_state(&[("AGNUS_LOGIN_RATE_LIMIT_PER_EMAIL", "2")]).await;
    let (email, password, _, _) = signup(&state).await;
    let ip = random_ip();
    let login = |password: &str| {
        Call::post("/api/auth/login")
            .json(&json!({"email": email, "password": password}))
            .from_ip(&ip)
    };
    // Attempts are counted before the check; a success gives its count back.
    for _ in 0..3 {
        assert_eq!(call_auth(&state, login(&password)).await.status, 200);
    }
    assert_eq!(call_auth(&state, login("wrong password!!")).await.status, 401);
    assert_eq!(call_auth(&state, login(&password)).await.status, 200);
    assert_eq!(call_auth(&state, login("wrong password!!")).await.status, 401);
    assert_eq!(call_auth(&state, login(&password)).await.status, 429);
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
