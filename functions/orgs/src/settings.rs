//! Review settings (`/api/orgs/{slug}/review-settings[/{repoId}]`): the org default and a
//! repository's override, each holding only the fields set there (the review engine
//! falls back repository → org → the system's `AGNUS_REVIEW_*`). Members read; owners and
//! admins change them; `null` clears a field.

use agnus_shared::error::ApiError;
use agnus_shared::http::json_body;
use agnus_shared::review_settings;
use lambda_http::{Body, Response};
use serde_json::{Map, Value, json};

use crate::{Ctx, ok, require_admin};

fn repo_param<'a>(ctx: &'a Ctx<'_>) -> Result<Option<&'a str>, ApiError> {
    match ctx.call.params().get("repoId").map(String::as_str) {
        None => Ok(None),
        Some(id) if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric()) => Ok(Some(id)),
        Some(_) => Err(ApiError::NotFoundWhat {
            code: "repo_not_found",
            message: "no such repository in this organization".into(),
        }),
    }
}

pub(crate) async fn get(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let repo = repo_param(ctx)?;
    let store = &ctx.state.store;
    let org_default = store.settings_layer(&scope, None).await?;
    match repo {
        None => ok(&json!({ "settings": org_default })),
        Some(repo_id) => {
            store
                .repo(&scope, repo_id)
                .await?
                .ok_or_else(|| ApiError::NotFoundWhat {
                    code: "repo_not_found",
                    message: "no such repository in this organization".into(),
                })?;
            let layer = store.settings_layer(&scope, Some(repo_id)).await?;
            ok(&json!({ "settings": layer, "orgDefault": org_default }))
        }
    }
}

pub(crate) async fn update(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let body: Map<String, Value> = json_body(ctx.req)?;
    let scope = ctx.scope(false).await?;
    require_admin(&scope)?;
    let repo = repo_param(ctx)?;
    let current = ctx.state.store.settings_layer(&scope, repo).await?;
    let layer = review_settings::patch(current, &body)?;
    let changed: Vec<&String> = body.keys().collect();
    let mut event = scope
        .audit("review_settings.updated")
        .details(json!({ "changed": changed, "repoId": repo }));
    if let Some(repo_id) = repo {
        event = event.target(repo_id);
    }
    ctx.state.store.put_settings_layer(&scope, repo, &layer, &event).await?;
    ok(&json!({ "settings": layer }))
}
