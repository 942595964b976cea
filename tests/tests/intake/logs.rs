//! No secret, signature, token or password in any log line.

use std::sync::{Arc, Mutex};

use super::*;

/// A `tracing` writer that keeps everything written, for inspecting log lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_log_line_contains_a_secret_signature_token_or_password() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "debug,aws_smithy_runtime=info,aws_smithy_runtime_api=info,hyper=info,aws_config=info",
        ))
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
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
