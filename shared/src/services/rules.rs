//! Review rules (product §9): members read them, owners and admins create, edit,
//! enable/disable and delete them. The field rules (what a create needs, what an edit may
//! change, what `null` clears), the admin rule, the per-org limit and the audit entry of
//! each write are here once; every write is one transaction.

use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::rules::{MAX_NAME_CHARS, PathGlob, RuleCategory, RuleDescription};
use crate::services::access::require_admin;
use crate::store::{OrgScope, Page, PageRequest, RuleFields, RuleRecord, Store, valid_rule_id};

/// The org's rules, a page at a time (any member may read them).
pub async fn list_rules(store: &Store, scope: &OrgScope, page: &PageRequest) -> Result<Page<RuleRecord>, ApiError> {
    Ok(store.rules(scope, page).await?)
}

/// One of the org's rules, or 404 `rule_not_found` (also for an id that cannot be one).
pub async fn find_rule(store: &Store, scope: &OrgScope, id: &str) -> Result<RuleRecord, ApiError> {
    let not_found = || ApiError::NotFoundWhat {
        code: "rule_not_found",
        message: "no such rule in this organization".into(),
    };
    if !valid_rule_id(id) {
        return Err(not_found());
    }
    store.rule(scope, id).await?.ok_or_else(not_found)
}

/// A new rule's fields from a create body (checked before the org is looked up): name,
/// description and category required, the repository and path optional, enabled unless
/// said otherwise.
pub fn new_rule(body: &Map<String, Value>) -> Result<RuleFields, ApiError> {
    apply(None, body)
}

/// Creates a rule (admins only; at most `max_rules` in the org, the repository one of the
/// org's: both checked in the transaction), with its `rule.created` entry.
pub async fn create_rule(
    store: &Store,
    scope: &OrgScope,
    fields: RuleFields,
    max_rules: u32,
) -> Result<RuleRecord, ApiError> {
    require_admin(scope)?;
    let event = scope.audit("rule.created").details(json!({
        "name": fields.name,
        "category": fields.category,
        "repoId": fields.repo_id,
        "pathGlob": fields.path_glob,
        "enabled": fields.enabled,
    }));
    Ok(store.create_rule(scope, fields, max_rules, &event).await?)
}

/// Edits a rule (admins only): only the fields in `changes` change, checked after the rule
/// is found. A change of `enabled` alone is audited as `rule.enabled` / `rule.disabled`,
/// anything else as `rule.updated`.
pub async fn update_rule(
    store: &Store,
    scope: &OrgScope,
    id: &str,
    changes: &Map<String, Value>,
) -> Result<RuleRecord, ApiError> {
    require_admin(scope)?;
    let current = find_rule(store, scope, id).await?;
    let fields = apply(Some(current.fields.clone()), changes)?;
    let changed: Vec<&String> = changes.keys().collect();
    let event = scope
        .audit(audit_action(changes, fields.enabled))
        .target(&current.id)
        .details(json!({ "name": fields.name, "changed": changed }));
    Ok(store.update_rule(scope, &current, fields, &event).await?)
}

/// Deletes a rule (admins only), with its `rule.deleted` entry.
pub async fn delete_rule(store: &Store, scope: &OrgScope, id: &str) -> Result<(), ApiError> {
    require_admin(scope)?;
    let current = find_rule(store, scope, id).await?;
    let event = scope
        .audit("rule.deleted")
        .target(&current.id)
        .details(json!({ "name": current.fields.name }));
    store.delete_rule(scope, &current.id, &event).await?;
    Ok(())
}

/// The audit action of an edit: switching a rule on or off is told apart from editing it.
fn audit_action(changes: &Map<String, Value>, enabled: bool) -> &'static str {
    if changes.keys().all(|k| k == "enabled") {
        if enabled { "rule.enabled" } else { "rule.disabled" }
    } else {
        "rule.updated"
    }
}

/// A create (`current` = None: name, description and category required) or a partial edit
/// (only the fields present change; `repoId`/`pathGlob` null clear them).
fn apply(current: Option<RuleFields>, body: &Map<String, Value>) -> Result<RuleFields, ApiError> {
    const KNOWN: [&str; 6] = ["name", "description", "category", "repoId", "pathGlob", "enabled"];
    if let Some(unknown) = body.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::bad_request(
            "unknown_field",
            format!("unknown field {unknown:?}; a rule has {}", KNOWN.join(", ")),
        ));
    }
    let text = |name: &str| -> Result<Option<&str>, ApiError> {
        match body.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::bad_request(
                "invalid_field",
                format!("{name} must be a string"),
            )),
        }
    };
    let nullable = |name: &str| -> Result<Option<Option<&str>>, ApiError> {
        match body.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s))),
            Some(_) => Err(ApiError::bad_request(
                "invalid_field",
                format!("{name} must be a string or null"),
            )),
        }
    };
    let missing = |name: &str| ApiError::bad_request("missing_field", format!("{name} is required"));
    let name = text("name")?
        .map(|n| crate::domain::display_name(n, MAX_NAME_CHARS))
        .transpose()?;
    let description = text("description")?.map(RuleDescription::parse).transpose()?;
    let category = text("category")?.map(str::parse::<RuleCategory>).transpose()?;
    let repo_id = nullable("repoId")?
        .map(|r| r.map(parse_repo_id).transpose())
        .transpose()?;
    let path_glob = nullable("pathGlob")?
        .map(|g| g.map(PathGlob::parse).transpose())
        .transpose()?;
    let enabled = match body.get("enabled") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(ApiError::bad_request("invalid_field", "enabled must be true or false")),
    };
    Ok(match current {
        None => RuleFields {
            name: name.ok_or_else(|| missing("name"))?,
            description: description.ok_or_else(|| missing("description"))?,
            category: category.ok_or_else(|| missing("category"))?,
            repo_id: repo_id.flatten(),
            path_glob: path_glob.flatten(),
            enabled: enabled.unwrap_or(true),
        },
        Some(c) => RuleFields {
            name: name.unwrap_or(c.name),
            description: description.unwrap_or(c.description),
            category: category.unwrap_or(c.category),
            repo_id: repo_id.unwrap_or(c.repo_id),
            path_glob: path_glob.unwrap_or(c.path_glob),
            enabled: enabled.unwrap_or(c.enabled),
        },
    })
}

fn parse_repo_id(raw: &str) -> Result<String, ApiError> {
    if raw.is_empty() || raw.len() > 64 || !raw.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ApiError::NotFoundWhat {
            code: "repo_not_found",
            message: "no such repository in this organization".into(),
        });
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_create_needs_name_description_and_category() {
        let ok = apply(
            None,
            &body(json!({"name": "No SQL by hand", "description": "Use the query builder.", "category": "security"})),
        )
        .unwrap();
        assert!(ok.enabled);
        assert!(ok.repo_id.is_none() && ok.path_glob.is_none());
        for (missing, b) in [
            ("name", json!({"description": "d", "category": "style"})),
            ("description", json!({"name": "n", "category": "style"})),
            ("category", json!({"name": "n", "description": "d"})),
        ] {
            let err = apply(None, &body(b)).unwrap_err();
            assert!(err.to_string().contains(missing), "{err}");
        }
        assert!(
            apply(
                None,
                &body(json!({"name": "n", "description": "d", "category": "style", "owner": 1}))
            )
            .is_err()
        );
        assert!(
            apply(
                None,
                &body(json!({"name": "n", "description": "d", "category": "nope"}))
            )
            .is_err()
        );
        assert!(
            apply(
                None,
                &body(json!({"name": "n", "description": "d", "category": "style", "enabled": "yes"}))
            )
            .is_err()
        );
    }

    #[test]
    fn switching_on_or_off_alone_is_its_own_audit_action() {
        assert_eq!(audit_action(&body(json!({"enabled": false})), false), "rule.disabled");
        assert_eq!(audit_action(&body(json!({"enabled": true})), true), "rule.enabled");
        assert_eq!(
            audit_action(&body(json!({"enabled": true, "name": "n"})), true),
            "rule.updated"
        );
    }

    #[test]
    fn an_edit_changes_only_what_it_names_and_null_clears() {
        let current = apply(
            None,
            &body(json!({"name": "n", "description": "d", "category": "style", "repoId": "abc", "pathGlob": "src/**"})),
        )
        .unwrap();
        let edited = apply(Some(current.clone()), &body(json!({"enabled": false, "repoId": null}))).unwrap();
        assert!(!edited.enabled);
        assert_eq!(edited.repo_id, None);
        assert_eq!(edited.path_glob, current.path_glob);
        assert_eq!(edited.name, "n");
    }
}
