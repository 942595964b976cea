//! Review settings (`/api/orgs/{slug}/review-settings[/{repoId}]`): the org default and a
//! repository's override; and the org's review usage against its limits
//! (`/api/orgs/{slug}/usage`). The use cases and their rules are in `services::settings`; this
//! parses the requests and shapes the answers.

use agnus_shared::error::ApiError;
use agnus_shared::http::json_body;
use agnus_shared::services::settings;
use lambda_http::{Body, Response};
use serde_json::{Map, Value, json};

use crate::{Ctx, ok};

fn repo_param<'a>(ctx: &'a Ctx<'_>) -> Option<&'a str> {
    ctx.call.params().get("repoId").map(String::as_str)
}

pub(crate) async fn get(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let found = settings::review_settings(&ctx.state.store, &scope, repo_param(ctx)).await?;
    match found.org_default {
        None => ok(&json!({ "settings": found.layer })),
        Some(org_default) => ok(&json!({ "settings": found.layer, "orgDefault": org_default })),
    }
}

pub(crate) async fn update(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let body: Map<String, Value> = json_body(ctx.req)?;
    let scope = ctx.scope(false).await?;
    let layer = settings::update_review_settings(&ctx.state.store, &scope, repo_param(ctx), &body).await?;
    ok(&json!({ "settings": layer }))
}

pub(crate) async fn usage(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let usage = settings::review_usage(&ctx.state.store, &scope, &ctx.state.config.review_limits).await?;
    ok(&json!({ "usage": usage }))
}
