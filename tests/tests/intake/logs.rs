//! No secret, signature, token or password in any log line.

use super::*;

#[tokio::test]
async fn no_log_line_contains_a_secret_signature_token_or_password() {
    let (logs, _guard) = CapturedLogs::install();

    let (api, _queue) = api_with_queue(&[]).await;
    let alice = api.user().await;
    let login = api
        .call(Call::post("/api/auth/login").json(&json!({"email": alice.email, "password": alice.password})))
        .await;
    let session = login.session_cookie().unwrap();
    let body = pr_payload("logs");
    let sig = format!("sha256={}", hmac_hex(alice.secrets["github"].as_bytes(), &body));
    assert_eq!(
        api.call(signed("github", &alice.slug, &alice.secrets["github"], "log-1", &body))
            .await
            .status,
        202
    );
    assert_eq!(
        api.call(signed("github", &alice.slug, "wrong-secret", "log-2", &body))
            .await
            .status,
        401
    );
    assert_eq!(
        api.call(signed("gitlab", &alice.slug, &alice.secrets["gitlab"], "log-3", &body))
            .await
            .status,
        202
    );
    assert_eq!(
        api.call(signed(
            "azure",
            &alice.slug,
            &alice.secrets["azure"],
            "log-4",
            &azure_payload(9)
        ))
        .await
        .status,
        202
    );
    let rotated = api
        .call(
            Call::post(&format!("/api/orgs/{}/webhooks/rotate", alice.slug))
                .cookie(&alice.cookie)
                .json(&json!({"provider": "bitbucket"})),
        )
        .await
        .json();
    let wrong_login = api
        .call(Call::post("/api/auth/login").json(&json!({"email": alice.email, "password": "wrong password here"})))
        .await;
    assert_eq!(wrong_login.status, 401);

    let text = logs.text();
    assert!(text.contains("delivery enqueued"), "logs were captured");
    let token = session.trim_start_matches("agnus_session=");
    let basic = STANDARD.encode(format!("agnus:{}", alice.secrets["azure"]));
    let mut forbidden: Vec<(&str, String)> = alice.secrets.iter().map(|(p, s)| (p.as_str(), s.clone())).collect();
    forbidden.push(("rotated secret", rotated["secret"].as_str().unwrap().to_owned()));
    forbidden.push(("signature", sig.trim_start_matches("sha256=").to_owned()));
    forbidden.push(("session token", token.to_owned()));
    forbidden.push(("password", alice.password.clone()));
    forbidden.push(("wrong password", "wrong password here".to_owned()));
    forbidden.push(("basic credentials", basic));
    for (what, value) in forbidden {
        assert!(!text.contains(&value), "{what} appears in the logs");
    }
}
