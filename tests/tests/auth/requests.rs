//! What every request is checked for: its input, the CSRF rule, its session token.

use super::*;

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
        if status == 405 {
            assert_eq!(a.headers["allow"], "POST", "{desc}: a 405 says what the path takes");
        }
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
