//! The document's constraints against the validators: values at every boundary, and
//! random text, get the same verdict from the schema as from the code that parses them.

use proptest::prelude::*;
use regex::{Regex, RegexBuilder};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::*;
use crate::domain::{OrgName, Password, Slug, display_name as parse_name};
use crate::review_settings::{SettingsLayer, patch};
use crate::rules::{PathGlob, RuleDescription};

/// The compiled pattern (cached: the bounded repetitions are large).
fn regex(pattern: &str) -> Regex {
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, Regex>> = Default::default();
    }
    CACHE.with(|cache| {
        cache
            .borrow_mut()
            .entry(pattern.to_owned())
            .or_insert_with(|| {
                RegexBuilder::new(pattern)
                    .size_limit(1 << 30)
                    .dfa_size_limit(1 << 30)
                    .build()
                    .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            })
            .clone()
    })
}

/// Does `value` satisfy `schema`? (The keywords this module uses.)
fn valid(schema: &Value, value: &Value) -> bool {
    let any_of = schema.get("anyOf").and_then(Value::as_array);
    if any_of.is_some_and(|any| !any.iter().any(|s| valid(s, value))) {
        return false;
    }
    if schema.get("not").is_some_and(|not| valid(not, value)) {
        return false;
    }
    let values = schema.get("enum").and_then(Value::as_array);
    if values.is_some_and(|values| !values.contains(value)) {
        return false;
    }
    let type_ok = match schema.get("type").and_then(Value::as_str) {
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some("null") => value.is_null(),
        Some("array") => value.is_array(),
        _ => true,
    };
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    let text_ok = value.as_str().is_none_or(|s| {
        let n = s.chars().count() as f64;
        bound("minLength").is_none_or(|m| n >= m)
            && bound("maxLength").is_none_or(|m| n <= m)
            && schema
                .get("pattern")
                .and_then(Value::as_str)
                .is_none_or(|p| regex(p).is_match(s))
    });
    let number_ok = value
        .as_f64()
        .is_none_or(|n| bound("minimum").is_none_or(|m| n >= m) && bound("maximum").is_none_or(|m| n <= m));
    let items_ok = value.as_array().is_none_or(|items| {
        bound("maxItems").is_none_or(|m| items.len() as f64 <= m)
            && schema
                .get("items")
                .is_none_or(|item| items.iter().all(|v| valid(item, v)))
    });
    type_ok && text_ok && number_ok && items_ok
}

fn same(schema: &Value, raw: &str, accepted: bool) {
    assert_eq!(
        valid(schema, &json!(raw)),
        accepted,
        "{raw:?}: the document says {}, the validator {}",
        if accepted { "no" } else { "yes" },
        if accepted { "yes" } else { "no" },
    );
}

fn names() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        " ",
        "a",
        " a ",
        "\ta\n",
        "a b",
        "a\tb",
        "a\u{0}b",
        "evil\u{202e}gnp.exe",
        "\u{200b}",
        "x\u{feff}",
        "Caf\u{e9}",
        "\u{1f600}",
        "a\u{e0001}",
        "\u{85}a",
        "a\u{a0}",
        "\u{3000}x\u{3000}",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for n in [1, 2, 99, 100, 101, 1999, 2000, 2001] {
        v.push("n".repeat(n));
        v.push(format!("  {}  ", "é".repeat(n)));
        v.push(format!("a{}b", " ".repeat(n.saturating_sub(2))));
    }
    v
}

#[test]
fn names_agree_at_the_boundaries() {
    let org = org_name();
    let key = api_key_name();
    let rule = rule_name();
    for raw in names() {
        same(&org, &raw, OrgName::parse(&raw).is_ok());
        same(
            &key,
            &raw,
            parse_name(&raw, crate::services::apikeys::MAX_NAME_CHARS).is_ok(),
        );
        same(&rule, &raw, parse_name(&raw, crate::rules::MAX_NAME_CHARS).is_ok());
    }
}

#[test]
fn descriptions_agree_at_the_boundaries() {
    let schema = rule_description();
    for raw in names().into_iter().chain(["a\nb".into(), "a\rb".into(), "\n".into()]) {
        same(&schema, &raw, RuleDescription::parse(&raw).is_ok());
    }
}

#[test]
fn globs_agree_at_the_boundaries() {
    let schema = path_glob();
    let mut globs: Vec<String> = [
        "src/**",
        "**/*.sql",
        "/abs",
        " /abs",
        "a",
        "**/**/**/x",
        "**/**/**/**",
        "a/**/b/**/c/**/d/**",
        "** /**/**/**",
        "**/**/**/** ",
        " **/**/**/**",
        "x**/**/**/**",
        "**/**/**/**x",
        "a\tb",
        "a\u{7f}",
        "",
        "  ",
        "***/**/**/**",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for n in [199, 200, 201] {
        globs.push("g".repeat(n));
        globs.push(format!(" {} ", "g".repeat(n)));
    }
    for raw in globs {
        same(&schema, &raw, PathGlob::parse(&raw).is_ok());
    }
}

#[test]
fn slugs_agree_at_the_boundaries() {
    let schema = new_slug();
    let path = slug_in_path();
    for raw in [
        "",
        "ab",
        "abc",
        "acme-corp",
        "-acme",
        "acme-",
        "ac--me",
        "Acme",
        "ac_me",
        "api",
        "admin",
        "default",
        "a1-b2",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([40, 41].map(|n| "s".repeat(n)))
    {
        // Empty asks for a suggested slug (`services::orgs::OrgRequest`).
        let accepted = raw.is_empty() || Slug::parse(&raw).is_ok();
        same(&schema, &raw, accepted);
        same(&path, &raw, Slug::system(&raw).is_ok());
    }
}

#[test]
fn passwords_count_characters_like_the_validator() {
    let schema = password();
    for raw in [
        "x".repeat(11),
        "x".repeat(12),
        "é".repeat(11),
        "é".repeat(256),
        "x".repeat(257),
    ] {
        let ok = Password::parse(SecretString::from(raw.clone())).is_ok();
        same(&schema, &raw, ok);
    }
}

#[test]
fn settings_agree_with_the_patch_rules() {
    let fields: Vec<(&str, Value)> = vec![
        ("maxComments", max_comments()),
        ("ignoredPaths", ignored_paths()),
        ("minSeverity", min_severity()),
        ("depth", depth()),
        ("mention", mention()),
        ("autoReview", nullable_bool()),
        ("minConfidence", min_confidence()),
        ("contextTokens", context_tokens()),
    ];
    let values = [
        json!(null),
        json!(0),
        json!(1),
        json!(100),
        json!(101),
        json!(-1),
        json!(0.5),
        json!(0.25),
        json!(1.5),
        json!(8000),
        json!(8001),
        json!(true),
        json!("nit"),
        json!("critical"),
        json!("urgent"),
        json!("fast"),
        json!("thorough"),
        json!("@agnus"),
        json!("@"),
        json!("agnus"),
        json!(format!("@{}", "a".repeat(39))),
        json!(format!("@{}", "a".repeat(40))),
        json!(["src/**"]),
        json!(["/abs"]),
        json!(vec!["a"; 50]),
        json!(vec!["a"; 51]),
        json!([1]),
    ];
    for (name, schema) in &fields {
        for value in &values {
            let body = json!({ *name: value });
            let ok = patch(SettingsLayer::default(), body.as_object().unwrap()).is_ok();
            assert_eq!(valid(schema, value), ok, "{name} = {value}");
        }
    }
}

#[test]
fn slug_and_names_patterns_read_the_same_in_every_engine() {
    // `\uXXXX` escapes only for the Basic Multilingual Plane; the rest literally.
    let class = class_of(|c| c == 'a' || c == 'b' || c == '\u{1f600}', false);
    assert_eq!(class, "[\\u0061-\\u0062\u{1f600}]");
    assert!(regex(SLUG_PATTERN).is_match("acme-corp"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_names_get_the_same_verdict(raw in "\\PC{0,3}[\\s\\x00-\\x1f\u{200b}\u{202e}]?\\PC{0,3}") {
        let schema = org_name();
        prop_assert_eq!(valid(&schema, &json!(raw)), OrgName::parse(&raw).is_ok(), "{:?}", raw);
    }
}

#[test]
fn repository_names_the_document_allows_are_accepted() {
    use crate::domain::{Provider, RepoRef};
    let cases = repo_full_name_by_provider();
    for case in cases.as_array().unwrap() {
        let providers = case["properties"]["provider"]["enum"].as_array().unwrap();
        let schema = &case["properties"]["fullName"];
        for provider in providers {
            let p: Provider = provider.as_str().unwrap().parse().unwrap();
            for raw in [
                "o/r", "o/r/x", "a.b/c d", "O-1/_r.", "./r", "../r", "o/..", "o/ r", "o /r", "o//r", "o/r/", "a/b/c/d",
            ] {
                if valid(schema, &json!(raw)) {
                    assert!(
                        RepoRef::parse(p, raw).is_ok(),
                        "{p} {raw:?}: allowed by the document, refused"
                    );
                }
            }
            let long = format!("{}/{}", "a".repeat(99), "b".repeat(99));
            assert_eq!(
                valid(schema, &json!(long)),
                RepoRef::parse(p, &long).is_ok() && p != Provider::Azure
            );
        }
    }
}
