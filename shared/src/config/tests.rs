use std::collections::HashMap;

use super::*;

fn src(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    let mut m: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    m.entry("AGNUS_KMS_KEY_ID".into())
        .or_insert_with(|| "alias/test".into());
    m
}

const KEY: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn missing_required_names_the_variable() {
    let err = AuthConfig::from_source(&src(&[("AGNUS_JWT_SECRET", KEY)])).unwrap_err();
    assert!(err.to_string().contains("AGNUS_TABLE_NAME"), "{err}");
    let err = AuthConfig::from_source(&src(&[("AGNUS_TABLE_NAME", "t")])).unwrap_err();
    assert!(err.to_string().contains("AGNUS_JWT_SECRET"), "{err}");
}

#[test]
fn short_jwt_key_is_refused() {
    let err = AuthConfig::from_source(&src(&[("AGNUS_TABLE_NAME", "t"), ("AGNUS_JWT_SECRET", "short")])).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Invalid {
            name: "AGNUS_JWT_SECRET",
            ..
        }
    ));
}

#[test]
fn defaults_and_overrides() {
    let c = AuthConfig::from_source(&src(&[("AGNUS_TABLE_NAME", "t"), ("AGNUS_JWT_SECRET", KEY)])).unwrap();
    assert_eq!(c.signup_per_ip, RateLimit::hourly(10));
    assert_eq!(c.session_ttl, Duration::from_secs(43_200));
    assert!(c.admin.is_none());
    let c = AuthConfig::from_source(&src(&[
        ("AGNUS_TABLE_NAME", "t"),
        ("AGNUS_JWT_SECRET", KEY),
        ("AGNUS_SIGNUP_RATE_LIMIT_PER_IP", "0"),
    ]))
    .unwrap();
    assert!(c.signup_per_ip.is_disabled());
    let err = AuthConfig::from_source(&src(&[
        ("AGNUS_TABLE_NAME", "t"),
        ("AGNUS_JWT_SECRET", KEY),
        ("AGNUS_SIGNUP_RATE_LIMIT_PER_IP", "ten"),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("AGNUS_SIGNUP_RATE_LIMIT_PER_IP"));
}

#[test]
fn weak_argon2_parameters_are_refused() {
    let err = AuthConfig::from_source(&src(&[
        ("AGNUS_TABLE_NAME", "t"),
        ("AGNUS_JWT_SECRET", KEY),
        ("AGNUS_ARGON2_MEMORY_KIB", "4096"),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("AGNUS_ARGON2"), "{err}");
}

#[test]
fn admin_needs_both_values() {
    let err = AuthConfig::from_source(&src(&[
        ("AGNUS_TABLE_NAME", "t"),
        ("AGNUS_JWT_SECRET", KEY),
        ("ADMIN_EMAIL", "root@example.com"),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("ADMIN_EMAIL/ADMIN_PASSWORD"));
}
#[test]
fn reviewer_defaults_and_refusals() {
    let base = [("AGNUS_TABLE_NAME", "t"), ("AGNUS_REVIEW_JOBS_QUEUE_URL", "http://q")];
    let c = ReviewerConfig::from_source(&src(&base)).unwrap();
    assert_eq!(c.providers.github_api_url, "https://api.github.com");
    assert!(matches!(&c.llm, LlmApi::OpenAi { base_url, api_key: None } if base_url == "https://api.openai.com/v1"));
    assert_eq!(
        (c.max_comments, c.max_comments_per_file, c.max_diff_bytes),
        (25, 5, 60_000)
    );
    assert_eq!((c.min_confidence.get(), c.context_tokens), (0.5, 1_500));
    let mut tuned = base.to_vec();
    tuned.push(("AGNUS_REVIEW_MIN_CONFIDENCE", "0.8"));
    tuned.push(("AGNUS_REVIEW_CONTEXT_TOKENS", "0"));
    let c = ReviewerConfig::from_source(&src(&tuned)).unwrap();
    assert_eq!((c.min_confidence.get(), c.context_tokens), (0.8, 0));
    let mut with = base.to_vec();
    with.push(("AGNUS_GITHUB_API_URL", "https://ghe.example.com/api/v3/"));
    with.push(("AGNUS_LLM_API_KEY", "sk-secret-value"));
    let c = ReviewerConfig::from_source(&src(&with)).unwrap();
    assert_eq!(c.providers.github_api_url, "https://ghe.example.com/api/v3");
    assert!(!format!("{c:?}").contains("sk-secret-value"), "the key never prints");
    for bad in [
        ("AGNUS_LLM_BASE_URL", "ftp://x"),
        ("AGNUS_LLM_PROVIDER", "bedrock"),
        ("AGNUS_LLM_PROVIDER", "anthropic"),
        ("AGNUS_REVIEW_MAX_COMMENTS", "0"),
        ("AGNUS_REVIEW_MIN_CONFIDENCE", "1.5"),
        ("AGNUS_REVIEW_MIN_CONFIDENCE", "high"),
        ("AGNUS_REVIEW_CONTEXT_TOKENS", "8001"),
        ("AGNUS_REVIEW_CONTEXT_TOKENS", "-1"),
    ] {
        let mut v = base.to_vec();
        v.push(bad);
        assert!(ReviewerConfig::from_source(&src(&v)).is_err(), "{bad:?}");
    }
    assert!(ReviewerConfig::from_source(&src(&base[..1])).is_err(), "queue required");
}

#[test]
fn bedrock_endpoint_follows_the_sdk_convention() {
    let base = [
        ("AGNUS_TABLE_NAME", "t"),
        ("AGNUS_REVIEW_JOBS_QUEUE_URL", "http://q"),
        ("AGNUS_LLM_PROVIDER", "bedrock"),
        ("AGNUS_LLM_MODEL", "anthropic.claude-3-5-haiku-20241022-v1:0"),
        ("AWS_REGION", "eu-west-1"),
    ];
    let endpoint = |extra: &[(&str, &str)]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        match ReviewerConfig::from_source(&src(&v)).unwrap().llm {
            LlmApi::Bedrock { endpoint, region } => (endpoint.as_str().to_owned(), region.as_str().to_owned()),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        endpoint(&[]),
        (
            "https://bedrock-runtime.eu-west-1.amazonaws.com".into(),
            "eu-west-1".into()
        )
    );
    assert_eq!(
        endpoint(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/")]).0,
        "http://127.0.0.1:4566"
    );
    assert_eq!(
        endpoint(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
            ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:8089"),
        ])
        .0,
        "http://127.0.0.1:8089",
        "the service-specific variable wins"
    );
    let mut v = base.to_vec();
    v.retain(|(k, _)| *k != "AWS_REGION");
    let err = ReviewerConfig::from_source(&src(&v)).unwrap_err();
    assert!(err.to_string().contains("AWS_REGION"), "{err}");
    v.push(("AWS_DEFAULT_REGION", "us-west-2"));
    assert!(ReviewerConfig::from_source(&src(&v)).is_ok());
}

#[test]
fn review_limits_default_per_plan_and_an_org_may_only_lower_its_hourly_limit() {
    use crate::domain::Plan;
    let env = std::collections::HashMap::from([("AGNUS_TOKEN_BUDGET_ENTERPRISE".to_owned(), "0".to_owned())]);
    let limits = super::ReviewLimits::from_source(&env).unwrap();
    assert_eq!(limits.monthly_tokens.of(Plan::Free), Some(500_000));
    assert_eq!(limits.monthly_tokens.of(Plan::Team), Some(10_000_000));
    assert_eq!(limits.monthly_tokens.of(Plan::Enterprise), None, "0 is unlimited");
    assert_eq!(limits.repeat_window_secs, 3_600);
    assert_eq!(limits.reviews_per_hour(None), 60);
    assert_eq!(limits.reviews_per_hour(Some(5)), 5);
    assert_eq!(limits.reviews_per_hour(Some(500)), 60);
    let zero = std::collections::HashMap::from([("AGNUS_REVIEWS_PER_ORG_PER_HOUR".to_owned(), "0".to_owned())]);
    assert!(super::ReviewLimits::from_source(&zero).is_err());
}
