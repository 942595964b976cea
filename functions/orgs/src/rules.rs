//! Review rules (`/api/orgs/{slug}/rules`): members read them, owners and admins create,
//! edit, enable/disable and delete them. Every write is audited in its transaction.

use agnus_shared::error::ApiError;
use agnus_shared::http::{json_body, json_response, page_json, page_request};
use agnus_shared::rules::{MAX_NAME_CHARS, PathGlob, RuleCategory, RuleDescription};
use agnus_shared::store::{OrgScope, RuleFields, RuleRecord, valid_rule_id};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Map, Value, json};

use crate::{Ctx, no_content, ok, require_admin};

pub(crate) async fn list(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let page = ctx.state.store.rules(&scope, &page_request(ctx.req)?).await?;
    ok(&page_json("rules", &page))
}

pub(crate) async fn get(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let rule = find(ctx, &scope).await?;
    ok(&json!({ "rule": rule }))
}

pub(crate) async fn create(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let body: Map<String, Value> = json_body(ctx.req)?;
    let fields = apply(None, &body)?;
    let scope = ctx.scope(false).await?;
    require_admin(&scope)?;
    let event = scope.audit("rule.created").details(json!({
        "name": fields.name,
        "category": fields.category,
        "repoId": fields.repo_id,
        "pathGlob": fields.path_glob,
        "enabled": fields.enabled,
    }));
    let rule = ctx
        .state
        .store
        .create_rule(&scope, fields, ctx.state.config.rules_per_org, &event)
        .await?;
    Ok(json_response(StatusCode::CREATED, &json!({ "rule": rule })))
}

pub(crate) async fn update(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let body: Map<String, Value> = json_body(ctx.req)?;
    let scope = ctx.scope(false).await?;
    require_admin(&scope)?;
    let current = find(ctx, &scope).await?;
    let fields = apply(Some(current.fields.clone()), &body)?;
    let changed: Vec<&String> = body.keys().collect();
    let event = scope
        .audit(if body.keys().all(|k| k == "enabled") {
            if fields.enabled {
                "rule.enabled"
            } else {
                "rule.disabled"
            }
        } else {
            "rule.updated"
        })
        .target(&current.id)
        .details(json!({ "name": fields.name, "changed": changed }));
    let rule = ctx.state.store.update_rule(&scope, &current, fields, &event).await?;
    ok(&json!({ "rule": rule }))
}

pub(crate) async fn delete(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    require_admin(&scope)?;
    let current = find(ctx, &scope).await?;
    let event = scope
        .audit("rule.deleted")
        .target(&current.id)
        .details(json!({ "name": current.fields.name }));
    ctx.state.store.delete_rule(&scope, &current.id, &event).await?;
    no_content()
}

pub(crate) async fn find(ctx: &Ctx<'_>, scope: &OrgScope) -> Result<RuleRecord, ApiError> {
    let id = ctx.param("id");
    let not_found = || ApiError::NotFoundWhat {
        code: "rule_not_found",
        message: "no such rule in this organization".into(),
    };
    if !valid_rule_id(id) {
        return Err(not_found());
    }
    ctx.state.store.rule(scope, id).await?.ok_or_else(not_found)
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
        .map(|n| agnus_shared::domain::display_name(n, MAX_NAME_CHARS))
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
