//! The org's credentials: webhook secrets (list with delivery health, rotate: the new secret
//! shown once) and API keys (create: shown once; list; revoke; the use cases in `services::apikeys`).

use agnus_shared::domain::Provider;
use agnus_shared::error::ApiError;
use agnus_shared::http::{json_body, json_response, page_json, page_request};
use agnus_shared::services::apikeys::{self, NewApiKey};
use agnus_shared::services::webhooks::{list_webhooks, rotate_secret};
use agnus_shared::webhooks;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Ctx, no_content, ok};

pub(crate) async fn webhooks(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let base = ctx.state.config.public_base_url.as_deref();
    let hooks = list_webhooks(&ctx.state.store, &scope).await?;
    let now = ctx.state.store.now_secs();
    let hooks: Vec<Value> = hooks
        .iter()
        .map(|h| {
            json!({
                "provider": h.provider,
                "url": webhooks::webhook_url(base, h.provider, &scope.org().slug),
                "secretPreview": h.preview,
                "createdAt": h.created_at,
                "rotatedAt": h.rotated_at,
                "previousSecretValidUntil": h.previous_valid_until.filter(|u| *u > now),
                "lastDelivery": h.last_delivery_at.map(|at| json!({
                    "at": at,
                    "outcome": h.last_delivery_outcome,
                    "deliveryId": h.last_delivery_id,
                })),
                "lastRejected": h.last_rejected_at.map(|at| json!({ "at": at, "reason": h.last_rejected_reason })),
                "rejectedCount": h.rejected_count,
            })
        })
        .collect();
    ok(&json!({ "webhooks": hooks }))
}

#[derive(Deserialize)]
struct RotateBody {
    provider: String,
}

pub(crate) async fn rotate_webhook(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let body: RotateBody = json_body(ctx.req)?;
    let provider: Provider = body.provider.parse()?;
    let scope = ctx.scope(false).await?;
    let state = ctx.state;
    let rotated = rotate_secret(
        &state.store,
        &state.sealer,
        &scope,
        provider,
        state.config.rotation_overlap,
    )
    .await?;
    ok(&json!({
        "provider": provider,
        "url": webhooks::webhook_url(state.config.public_base_url.as_deref(), provider, &scope.org().slug),
        // Shown in full this once.
        "secret": rotated.secret.expose(),
        "previousSecretValidUntil": rotated.previous_valid_until,
    }))
}

pub(crate) async fn list_api_keys(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let page = apikeys::list_api_keys(&ctx.state.store, &scope, &page_request(ctx.req)?).await?;
    ok(&page_json("apiKeys", &page))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateApiKeyBody {
    name: String,
    role: String,
    #[serde(default, deserialize_with = "agnus_shared::whole::optional")]
    expires_in_days: Option<u32>,
}

pub(crate) async fn create_api_key(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let body: CreateApiKeyBody = json_body(ctx.req)?;
    let request = NewApiKey::parse(&body.name, &body.role, body.expires_in_days)?;
    let scope = ctx.scope(false).await?;
    let minted = apikeys::create_api_key(&ctx.state.store, &scope, &request).await?;
    Ok(json_response(
        StatusCode::CREATED,
        // The key itself is shown this once; only its hash is stored.
        &json!({ "apiKey": minted.record, "key": minted.key }),
    ))
}

pub(crate) async fn revoke_api_key(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    apikeys::revoke_api_key(&ctx.state.store, &scope, ctx.param("id")).await?;
    no_content()
}
