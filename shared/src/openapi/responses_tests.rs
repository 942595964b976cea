//! The success answers against the code: every JSON operation has one, none is a bare
//! object, and real values of the records (serialized by their own `Serialize`) conform
//! to the document, checked by a small validator of the subset the answers use.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::*;
use crate::openapi::{OPS, Op, document, records};

// ---- the validator ----

/// The keywords the answers may use; any other fails the check (so a schema cannot
/// promise something this validator would silently skip).
const KEYWORDS: &[&str] = &[
    "type",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "$ref",
    "enum",
    "anyOf",
    "description",
    "format",
];

fn is_type(value: &Value, ty: &str) -> bool {
    match ty {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => panic!("unknown type {other}"),
    }
}

fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("not a local $ref: {reference}"));
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("$ref {reference} names nothing"))
}

/// `Err`: where `value` breaks `schema` (resolved in `doc`) first.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = schema
        .as_object()
        .unwrap_or_else(|| panic!("{at}: a schema is an object"));
    if let Some(k) = schema.keys().find(|k| !KEYWORDS.contains(&k.as_str())) {
        panic!("{at}: keyword {k} is not supported by this validator");
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        check(doc, resolve(doc, reference), value, at)?;
    }
    if let Some(ty) = schema.get("type") {
        let types: Vec<&str> = match ty {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            other => panic!("{at}: type {other}"),
        };
        if !types.iter().any(|t| is_type(value, t)) {
            return Err(format!("{at}: {value} is not {ty}"));
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {values:?}"));
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        let errors: Vec<String> = options.iter().filter_map(|s| check(doc, s, value, at).err()).collect();
        if errors.len() == options.len() {
            return Err(format!("{at}: no option of anyOf holds: {errors:?}"));
        }
    }
    if let Some(object) = value.as_object() {
        for name in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                return Err(format!("{at}: {name} is missing"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, v) in object {
            let path = format!("{at}.{name}");
            match (properties.and_then(|p| p.get(name)), schema.get("additionalProperties")) {
                (Some(s), _) => check(doc, s, v, &path)?,
                (None, Some(Value::Bool(false))) => return Err(format!("{path} is not allowed")),
                (None, Some(s)) if s.is_object() => check(doc, s, v, &path)?,
                (None, _) => {}
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            check(doc, items, v, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// The schema of the answer `status` of `method` `path` in the document.
fn answer_schema(doc: &Value, method: &str, path: &str, status: u16) -> Value {
    let schema = &doc["paths"][path][method.to_ascii_lowercase()]["responses"][status.to_string()]["content"]["application/json"]
        ["schema"];
    assert!(schema.is_object(), "{method} {path} {status} has no JSON answer");
    schema.clone()
}

/// Panics unless `body` conforms to the answer `status` of `method` `path`.
fn conforms(method: &str, path: &str, status: u16, body: &Value) {
    let doc = document();
    let schema = answer_schema(&doc, method, path, status);
    if let Err(e) = check(&doc, &schema, body, "$") {
        panic!("{method} {path} {status}: {e}\n{body:#}");
    }
}

/// Panics unless `value`, serialized, is the record `name` of `components/schemas`.
fn is_record(name: &str, value: &impl serde::Serialize) -> Value {
    let doc = document();
    let json = serde_json::to_value(value).expect("serializes");
    if let Err(e) = check(&doc, &records::r(name), &json, name) {
        panic!("{e}\n{json:#}");
    }
    json
}

fn refuses(name: &str, value: Value) {
    let doc = document();
    assert!(
        check(&doc, &records::r(name), &value, name).is_err(),
        "{name} accepts {value:#}"
    );
}

#[test]
fn the_validator_refuses_what_the_schema_forbids() {
    let doc = json!({ "components": { "schemas": { "T": records::object(&["a", "n"], json!({
        "a": records::one_of(&["x", "y"]), "n": { "type": ["integer", "null"] },
        "l": records::array(records::integer()), "o": records::nullable_ref("T"),
    })) } } });
    let t = records::r("T");
    let ok = |v: Value| check(&doc, &t, &v, "$");
    assert_eq!(ok(json!({ "a": "x", "n": null })), Ok(()));
    assert_eq!(
        ok(json!({ "a": "y", "n": 3, "l": [1, 2], "o": null, "extra": true })),
        Ok(())
    );
    assert_eq!(ok(json!({ "a": "x", "n": 1, "o": { "a": "x", "n": null } })), Ok(()));
    for bad in [
        json!({ "n": 1 }),
        json!({ "a": "z", "n": 1 }),
        json!({ "a": "x", "n": "1" }),
        json!({ "a": "x", "n": 1.5 }),
        json!({ "a": "x", "n": 1, "l": [1, "2"] }),
        json!({ "a": "x", "n": 1, "o": { "a": "x" } }),
        json!([]),
    ] {
        assert!(ok(bad.clone()).is_err(), "accepted {bad}");
    }
}

// ---- the table ----

/// Operations with a JSON success body: all but the 204s and the feedback link's page.
fn json_operations() -> impl Iterator<Item = &'static Op> {
    OPS.iter()
        .filter(|o| o.ok != 204 && !(o.method == "GET" && o.path == "/api/feedback"))
}

#[test]
fn every_json_operation_has_its_answer() {
    let missing: Vec<String> = json_operations()
        .filter(|o| !answers_of(o.method, o.path).any(|a| a.status == o.ok))
        .map(|o| format!("{} {} {}", o.method, o.path, o.ok))
        .collect();
    assert!(
        missing.is_empty(),
        "add their answers to ANSWERS (openapi/responses.rs): {missing:#?}"
    );
}

#[test]
fn every_answer_is_of_an_operation_and_listed_once() {
    let mut seen = BTreeSet::new();
    for a in ANSWERS {
        let op = OPS.iter().find(|o| o.method == a.method && o.path == a.path);
        let op = op.unwrap_or_else(|| panic!("{} {} is not an operation", a.method, a.path));
        assert_ne!(op.ok, 204, "{} {} answers no body", a.method, a.path);
        assert!((200..300).contains(&a.status), "{} {} {}", a.method, a.path, a.status);
        assert!(
            seen.insert((a.method, a.path, a.status)),
            "{} {} twice",
            a.method,
            a.path
        );
    }
}

#[test]
fn no_success_answer_is_a_bare_object() {
    let doc = document();
    for o in json_operations() {
        for a in answers_of(o.method, o.path) {
            let schema = answer_schema(&doc, o.method, o.path, a.status);
            let resolved = match schema.get("$ref").and_then(Value::as_str) {
                Some(reference) => resolve(&doc, reference).clone(),
                None => schema,
            };
            assert!(
                resolved["properties"].as_object().is_some_and(|p| !p.is_empty()),
                "{} {} {}: {resolved}",
                o.method,
                o.path,
                a.status
            );
        }
    }
}

fn refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.insert(r.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_and_every_record_is_used() {
    let doc = document();
    let mut all = BTreeSet::new();
    refs(&doc, &mut all);
    for r in &all {
        resolve(&doc, r);
    }
    for name in doc["components"]["schemas"].as_object().expect("schemas").keys() {
        assert!(
            all.contains(&format!("#/components/schemas/{name}")),
            "{name} is unused"
        );
    }
}

#[test]
fn other_success_statuses_are_documented() {
    let doc = document();
    let accept = &doc["paths"]["/api/auth/accept-invite"]["post"]["responses"];
    assert!(accept["200"]["content"]["application/json"].is_object());
    assert!(accept["201"]["content"]["application/json"].is_object());
    let delivery = &doc["paths"]["/api/webhooks/{provider}/{orgSlug}"]["post"]["responses"];
    assert!(delivery["200"]["content"].is_object() && delivery["202"]["content"].is_object());
    let vote = &doc["paths"]["/api/feedback"]["post"]["responses"]["200"]["content"];
    assert!(vote["application/json"].is_object() && vote["text/html"].is_object());
    assert!(doc["paths"]["/api/auth/logout"]["post"]["responses"]["204"]["content"].is_null());
    assert_eq!(
        doc["paths"]["/api/feedback"]["get"]["responses"]["200"]["content"]["text/html"]["schema"],
        json!({ "type": "string" })
    );
}

/// The installation routes answer their records and the picker's page as documented.
#[test]
fn installations_and_the_picker_are_as_documented() {
    use crate::services::installations::{PickerPage, PickerRepository};
    use crate::store::InstallationRecord;
    let record = InstallationRecord {
        id: 7,
        app_id: 42,
        app_slug: "agnus-acme".into(),
        account: "acme".into(),
        repository_selection: "selected".into(),
        bot_login: "agnus-acme[bot]".into(),
        key_fingerprint: "SHA256:abc".into(),
        created_at: 1_700_000_000,
        created_by: "user".into(),
        key_ciphertext: vec![1, 2, 3],
    };
    let json = is_record("Installation", &record);
    assert!(json.get("keyCiphertext").is_none(), "the sealed key is never answered");
    conforms(
        "POST",
        "/api/orgs/{slug}/installations",
        201,
        &json!({ "installation": json }),
    );
    conforms(
        "GET",
        "/api/orgs/{slug}/installations",
        200,
        &json!({ "installations": [json] }),
    );
    refuses("Installation", json!({ "id": "7" }));
    for next_page in [None, Some(2)] {
        let page = PickerPage {
            repositories: vec![
                PickerRepository {
                    full_name: "acme/api".into(),
                    private: true,
                    connected_repo_id: None,
                },
                PickerRepository {
                    full_name: "acme/web".into(),
                    private: false,
                    connected_repo_id: Some("r1".into()),
                },
            ],
            total_count: 2,
            page: 1,
            next_page,
        };
        let page = serde_json::to_value(&page).unwrap();
        conforms(
            "GET",
            "/api/orgs/{slug}/installations/{installationId}/repositories",
            200,
            &page,
        );
    }
}

#[path = "responses_records_tests.rs"]
mod records_tests;
