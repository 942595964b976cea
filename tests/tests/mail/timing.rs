//! A measurement, run on demand (BENCHMARKS.md, "Equal work for unknown accounts"): how long
//! a reset request and a failed login take for an existing account, an imported (bcrypt)
//! account and an unknown address, in process against the emulator. Nothing is asserted
//! about time: `reset::a_reset_request_does_the_same_work_whether_or_not_the_account_exists`
//! and the unit test `a_login_runs_the_same_hashes_whether_or_not_the_account_exists`
//! prove the equal work.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;

use super::*;

#[allow(clippy::print_stdout)] // a measurement prints its numbers
fn summary(name: &str, mut runs: Vec<Duration>) {
    runs.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<40} median {:6.1} ms   p10 {:6.1}   p90 {:6.1}   (n={})",
        ms(runs[runs.len() / 2]),
        ms(runs[runs.len() / 10]),
        ms(runs[runs.len() * 9 / 10]),
        runs.len()
    );
}

async fn timed(api: &Api, call: impl Fn() -> Call, expected: u16) -> Duration {
    let start = Instant::now();
    let answer = api.call(call()).await;
    let took = start.elapsed();
    assert_eq!(answer.status, expected, "{:?}", answer.json());
    took
}

#[tokio::test]
#[ignore = "a measurement, run on demand (see BENCHMARKS.md)"]
async fn measure_reset_and_login_for_known_imported_and_unknown_accounts() {
    let unlimited = [
        "AGNUS_PASSWORD_RESET_PER_EMAIL",
        "AGNUS_PASSWORD_RESET_PER_IP",
        "AGNUS_LOGIN_RATE_LIMIT_PER_IP",
        "AGNUS_LOGIN_RATE_LIMIT_PER_EMAIL",
        "AGNUS_LOGIN_SLOWDOWN_PER_EMAIL",
    ]
    .map(|name| (name, "0"));
    let api = mail_api(&unlimited).await;
    let member = api.user().await;
    let imported = api.user().await;
    // An account as the upgrade imports it: a bcryptjs hash at cost 10.
    let legacy = bcrypt::hash_with_result(PASSWORD, 10)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoA);
    let item = user_item(&imported.email).await;
    dynamodb()
        .await
        .update_item()
        .table_name(table_name())
        .key("pk", item["pk"].clone())
        .key("sk", item["sk"].clone())
        .update_expression("SET password_hash = :h")
        .expression_attribute_values(":h", AttributeValue::S(legacy))
        .send()
        .await
        .unwrap();
    let nobody = unique_email("nobody");
    let reset = |email: &str| {
        let email = email.to_owned();
        move || post("/api/auth/password-reset", None, json!({"email": email}))
    };
    let wrong = |email: &str| {
        let email = email.to_owned();
        move || {
            post(
                "/api/auth/login",
                None,
                json!({"email": email, "password": "not the password at all"}),
            )
        }
    };
    let rounds = std::env::var("AGNUS_TIMING_ROUNDS").map_or(40, |n| n.parse().unwrap());
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); 5];
    for _ in 0..rounds {
        times[0].push(timed(&api, reset(&member.email), 202).await);
        times[1].push(timed(&api, reset(&nobody), 202).await);
        times[2].push(timed(&api, wrong(&member.email), 401).await);
        times[3].push(timed(&api, wrong(&imported.email), 401).await);
        times[4].push(timed(&api, wrong(&nobody), 401).await);
    }
    let names = [
        "reset request, existing account",
        "reset request, unknown address",
        "wrong password, argon2id account",
        "wrong password, imported bcrypt account",
        "login, unknown address",
    ];
    for (name, runs) in names.into_iter().zip(times) {
        summary(name, runs);
    }
}

/// The password work alone, at the shipped parameters: one argon2id verification (what a
/// login cost before every check also ran bcrypt) and `check_login` for each kind of
/// account.
#[tokio::test]
#[ignore = "a measurement, run on demand (see BENCHMARKS.md)"]
async fn measure_login_checks() {
    use agnus_shared::crypto::{PasswordHashString, PasswordHasher, PasswordParams};
    let hasher = PasswordHasher::new(PasswordParams::OWASP_MIN);
    let password = agnus_shared::domain::Password::parse(PASSWORD.to_owned().into()).unwrap();
    let argon = hasher.hash(&password).await.unwrap();
    let bcrypt = PasswordHashString::from_stored(
        bcrypt::hash_with_result(PASSWORD, 10)
            .unwrap()
            .format_for_version(bcrypt::Version::TwoA),
    );
    let rounds = std::env::var("AGNUS_TIMING_ROUNDS").map_or(40, |n| n.parse().unwrap());
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); 4];
    for _ in 0..rounds {
        let start = Instant::now();
        hasher.verify("not the password", &argon).await.unwrap();
        times[0].push(start.elapsed());
        for (i, stored) in [None, Some(&argon), Some(&bcrypt)].into_iter().enumerate() {
            let start = Instant::now();
            hasher.check_login("not the password", stored).await.unwrap();
            times[i + 1].push(start.elapsed());
        }
    }
    let names = [
        "one argon2id verification",
        "check_login, unknown address",
        "check_login, argon2id account",
        "check_login, imported bcrypt account",
    ];
    for (name, runs) in names.into_iter().zip(times) {
        summary(name, runs);
    }
}
