//! Review rules (`/api/orgs/{slug}/rules`): members read them, owners and admins create,
//! edit, enable/disable and delete them. The use cases and their rules are in
//! `services::rules`; this parses the requests and shapes the answers.

use agnus_shared::error::ApiError;
use agnus_shared::http::{json_body, json_response, page_json, page_request};
use agnus_shared::services::rules;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Map, Value, json};

use crate::{Ctx, no_content, ok};

pub(crate) async fn list(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let page = rules::list_rules(&ctx.state.store, &scope, &page_request(ctx.req)?).await?;
    ok(&page_json("rules", &page))
}

pub(crate) async fn get(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let rule = rules::find_rule(&ctx.state.store, &scope, ctx.param("id")).await?;
    ok(&json!({ "rule": rule }))
}

pub(crate) async fn create(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let body: Map<String, Value> = json_body(ctx.req)?;
    let fields = rules::new_rule(&body)?;
    let scope = ctx.scope(false).await?;
    let rule = rules::create_rule(&ctx.state.store, &scope, fields, ctx.state.config.rules_per_org).await?;
    Ok(json_response(StatusCode::CREATED, &json!({ "rule": rule })))
}

pub(crate) async fn update(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let body: Map<String, Value> = json_body(ctx.req)?;
    let scope = ctx.scope(false).await?;
    let rule = rules::update_rule(&ctx.state.store, &scope, ctx.param("id"), &body).await?;
    ok(&json!({ "rule": rule }))
}

pub(crate) async fn delete(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    rules::delete_rule(&ctx.state.store, &scope, ctx.param("id")).await?;
    no_content()
}
