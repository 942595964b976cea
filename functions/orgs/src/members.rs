//! Members: list, change role, remove, leave, transfer ownership (people only, never API
//! keys: `manages_people_or_keys`). The use cases and their rules are in
//! `services::members`; this parses the requests and shapes the answers.

use agnus_shared::domain::UserId;
use agnus_shared::error::ApiError;
use agnus_shared::http::{json_body, page_json, page_request};
use agnus_shared::services::members::{Members, assignable_role};
use lambda_http::{Body, Response};
use serde::Deserialize;
use serde_json::json;

use crate::{Ctx, no_content, ok};

fn members<'a>(ctx: &'a Ctx<'_>) -> Members<'a> {
    let state = ctx.state;
    Members {
        store: &state.store,
        mailer: state.mailer.as_ref(),
        app_base_url: state.config.app_base_url.as_deref().unwrap_or_default(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransferBody {
    user_id: String,
}

pub(crate) async fn transfer(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let body: TransferBody = json_body(ctx.req)?;
    let to: UserId = body.user_id.parse()?;
    let scope = ctx.scope(false).await?;
    members(ctx).transfer_ownership(&scope, ctx.person()?, to).await?;
    ok(&json!({ "ownerId": to }))
}

pub(crate) async fn list_members(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let page = members(ctx).list(&scope, &page_request(ctx.req)?).await?;
    ok(&page_json("members", &page))
}

#[derive(Deserialize)]
struct RoleBody {
    role: String,
}

pub(crate) async fn change_role(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let body: RoleBody = json_body(ctx.req)?;
    let role = assignable_role(&body.role)?;
    let target = ctx.user_param()?;
    let scope = ctx.scope(false).await?;
    members(ctx).change_role(&scope, target, role).await?;
    ok(&json!({ "member": { "userId": target, "role": role } }))
}

pub(crate) async fn remove_member(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let target = ctx.user_param()?;
    let scope = ctx.scope(false).await?;
    members(ctx).remove(&scope, target).await?;
    no_content()
}

pub(crate) async fn leave(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    members(ctx).leave(&scope).await?;
    no_content()
}
