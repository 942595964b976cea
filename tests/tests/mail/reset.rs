//! Password reset: it ends every session and every other reset link, and it is rate limited.

use super::*;

#[tokio::test]
async fn a_password_reset_ends_every_session() {
    let api = mail_api(&[]).await;
    let user = api.user().await;
    let second = api
        .call(post(
            "/api/auth/login",
            None,
            json!({"email": user.email, "password": user.password}),
        ))
        .await
        .session_cookie()
        .unwrap();
    let asked = api
        .call(post("/api/auth/password-reset", None, json!({"email": user.email})))
        .await;
    let nobody = unique_email("nobody");
    let asked_for_nobody = api
        .call(post("/api/auth/password-reset", None, json!({"email": nobody})))
        .await;
    assert_eq!((asked.status, asked_for_nobody.status), (202, 202));
    assert_eq!(
        asked.body, asked_for_nobody.body,
        "same answer whether or not the account exists"
    );
    assert!(inbox(&nobody).await.is_empty());
    let mail = inbox(&user.email)
        .await
        .into_iter()
        .find(|m| m.subject.contains("Reset"))
        .expect("a reset mail");
    let token = token_in(&mail, "reset-password");

    let short = api
        .call(post(
            "/api/auth/password-reset/confirm",
            None,
            json!({"token": token, "password": "short"}),
        ))
        .await;
    assert_eq!(short.status, 400, "password rules apply; the token is not spent");
    let new_password = "a brand new long password";
    let reset = api
        .call(post(
            "/api/auth/password-reset/confirm",
            None,
            json!({"token": token, "password": new_password}),
        ))
        .await;
    assert_eq!(reset.status, 200, "{:?}", reset.json());
    assert_eq!(
        reset.json()["user"]["emailVerified"],
        true,
        "the link reached the address"
    );
    assert!(reset.set_cookie().unwrap().contains("Max-Age=0"));
    for cookie in [&user.cookie, &second] {
        assert_eq!(me(&api, cookie).await.status, 401, "every session ended");
    }
    let old = api
        .call(post(
            "/api/auth/login",
            None,
            json!({"email": user.email, "password": user.password}),
        ))
        .await;
    assert_eq!(old.status, 401);
    let new = api
        .call(post(
            "/api/auth/login",
            None,
            json!({"email": user.email, "password": new_password}),
        ))
        .await;
    assert_eq!(new.status, 200);
    let reused = api
        .call(post(
            "/api/auth/password-reset/confirm",
            None,
            json!({"token": token, "password": "yet another long password"}),
        ))
        .await;
    assert_eq!((reused.status, reused.error_code().as_str()), (410, "token_gone"));
}

#[tokio::test]
async fn a_reset_kills_the_other_reset_links() {
    let api = mail_api(&[]).await;
    let user = api.user().await;
    for _ in 0..2 {
        let a = api
            .call(post("/api/auth/password-reset", None, json!({"email": user.email})))
            .await;
        assert_eq!(a.status, 202);
    }
    let tokens: Vec<String> = inbox(&user.email)
        .await
        .iter()
        .filter(|m| m.subject.contains("Reset"))
        .map(|m| token_in(m, "reset-password"))
        .collect();
    assert_eq!(tokens.len(), 2);
    let confirm = |t: &str| {
        post(
            "/api/auth/password-reset/confirm",
            None,
            json!({"token": t, "password": "a brand new long password"}),
        )
    };
    assert_eq!(api.call(confirm(&tokens[1])).await.status, 200);
    assert_eq!(
        api.call(confirm(&tokens[0])).await.status,
        410,
        "issued before the reset"
    );
}

#[tokio::test]
async fn reset_requests_are_limited_per_address_and_per_ip() {
    let api = mail_api(&[
        ("AGNUS_PASSWORD_RESET_PER_EMAIL", "2"),
        ("AGNUS_PASSWORD_RESET_PER_IP", "3"),
    ])
    .await;
    let user = api.user().await;
    let ip = random_ip();
    let ask = |ip: &str| post("/api/auth/password-reset", None, json!({"email": user.email})).from_ip(ip);
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let a = api.call(ask(&ip)).await;
        assert_eq!(a.status, 202);
        bodies.push(a.body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "the answer never changes");
    let limited = api.call(ask(&ip)).await;
    assert_eq!(limited.status, 429, "per source IP");
    assert!(limited.headers.contains_key("retry-after"));
    // From elsewhere: still 202, but the address gets no more than its limit.
    assert_eq!(api.call(ask(&random_ip())).await.status, 202);
    let resets = inbox(&user.email)
        .await
        .into_iter()
        .filter(|m| m.subject.contains("Reset"))
        .count();
    assert_eq!(resets, 2, "per address");
    let invalid = api
        .call(post("/api/auth/password-reset", None, json!({"email": "not an email"})))
        .await;
    assert_eq!(invalid.status, 400);
}

/// The `MAILTOKEN#` keys of the stored reset tokens that name `address` (by its SHA-256).
async fn reset_tokens_for(address: &str) -> Vec<String> {
    let digest = agnus_shared::crypto::sha256_hex(address.as_bytes());
    scan_all()
        .await
        .into_iter()
        .filter(|item| {
            item.get("purpose").and_then(|v| v.as_s().ok()).map(String::as_str) == Some("password_reset")
                && item.get("address_sha256").and_then(|v| v.as_s().ok()) == Some(&digest)
        })
        .map(|item| item["pk"].as_s().unwrap().clone())
        .collect()
}

/// The key of the token in a reset mail's link.
fn key_of_link(mail: &agnus_cli::mail::SentMail) -> String {
    let token = token_in(mail, "reset-password");
    format!("MAILTOKEN#{}", agnus_shared::crypto::sha256_hex(token.as_bytes()))
}

/// [`key_of_link`] for a mailbox other instances share (the SES mailbox simulator's
/// address): `None` for a message whose link is another instance's (a `make dev` run on
/// the same emulator links to its own console).
fn key_of_our_link(mail: &agnus_cli::mail::SentMail) -> Option<String> {
    let prefix = format!("{APP}/reset-password/");
    let token = mail.links.iter().find_map(|l| l.strip_prefix(&prefix))?;
    Some(format!(
        "MAILTOKEN#{}",
        agnus_shared::crypto::sha256_hex(token.as_bytes())
    ))
}

#[tokio::test]
async fn a_reset_request_does_the_same_work_whether_or_not_the_account_exists() {
    let api = mail_api(&[]).await;
    let user = api.user().await;
    let nobody = unique_email("nobody");
    for address in [&user.email, &nobody] {
        let asked = api
            .call(post("/api/auth/password-reset", None, json!({"email": address})))
            .await;
        assert_eq!(asked.status, 202);
    }
    // The same steps on both paths: one reset token stored for the address…
    let (mine, nobodys) = (reset_tokens_for(&user.email).await, reset_tokens_for(&nobody).await);
    assert_eq!(
        (mine.len(), nobodys.len()),
        (1, 1),
        "one token each: {mine:?} {nobodys:?}"
    );
    // …and one reset mail carrying its link: to the account's owner, or, for no account,
    // to the SES mailbox simulator — never to the address.
    let to_owner: Vec<_> = inbox(&user.email)
        .await
        .into_iter()
        .filter(|m| m.subject.contains("Reset"))
        .collect();
    assert_eq!(to_owner.len(), 1);
    assert_eq!(key_of_link(&to_owner[0]), mine[0]);
    assert!(inbox(&nobody).await.is_empty());
    let stand_in = inbox(agnus_shared::email::DECOY_RECIPIENT)
        .await
        .into_iter()
        .filter(|m| m.subject.contains("Reset"))
        .find(|m| key_of_our_link(m).as_ref() == Some(&nobodys[0]))
        .expect("the stand-in reset mail");
    assert_eq!(stand_in.subject, to_owner[0].subject);
    // Its link resets nothing.
    let used = api
        .call(post(
            "/api/auth/password-reset/confirm",
            None,
            json!({"token": token_in(&stand_in, "reset-password"), "password": "a brand new long password"}),
        ))
        .await;
    assert_eq!(used.status, 410);
}
