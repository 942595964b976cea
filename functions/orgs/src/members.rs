//! Members: list, change role, remove, leave, transfer ownership (people only, never API
//! keys: `manages_people_or_keys`). Rights are checked by the store inside each transaction.

use agnus_shared::domain::{Email, Role, UserId};
use agnus_shared::email::Mail;
use agnus_shared::error::ApiError;
use agnus_shared::http::{json_body, page_json, page_request};
use agnus_shared::store::{Conflict, StoreError};
use lambda_http::{Body, Response};
use serde::Deserialize;
use serde_json::json;

use crate::{Ctx, no_content, ok, require_admin};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransferBody {
    user_id: String,
}

pub(crate) async fn transfer(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let body: TransferBody = json_body(ctx.req)?;
    let to: UserId = body.user_id.parse()?;
    let scope = ctx.scope(false).await?;
    if !scope.is_owner() {
        return Err(StoreError::Conflict(Conflict::NotOwner).into());
    }
    if Some(to) == ctx.me() {
        return Err(ApiError::bad_request(
            "already_owner",
            "you already own this organization",
        ));
    }
    // The new owner's address, read before the change (for the mail that reports it).
    let new_owner = ctx.state.store.member(&scope, &to).await?;
    let event = scope.audit("org.ownership_transferred").target(to);
    ctx.state.store.transfer_ownership(&scope, &to, &event).await?;
    let org = scope.org();
    let url = ctx.state.org_url(org);
    if let Some(new_owner) = new_owner.as_ref().and_then(|m| Email::parse(&m.email).ok()) {
        ctx.state
            .notify(Mail::ownership_transferred(&new_owner, org.name.as_str(), &url))
            .await;
        if let Ok(old_owner) = ctx.person() {
            ctx.state
                .notify(Mail::ownership_handed_over(
                    &old_owner.email,
                    org.name.as_str(),
                    new_owner.as_str(),
                    &url,
                ))
                .await;
        }
    }
    ok(&json!({ "ownerId": to }))
}

pub(crate) async fn list_members(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let page = ctx.state.store.members_page(&scope, &page_request(ctx.req)?).await?;
    ok(&page_json("members", &page))
}

pub(crate) fn assignable_role(raw: &str) -> Result<Role, ApiError> {
    match raw.parse::<Role>()? {
        Role::Owner => Err(ApiError::bad_request(
            "invalid_role",
            "ownership moves only with POST /api/orgs/{slug}/transfer; use admin or member",
        )),
        role => Ok(role),
    }
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
    require_admin(&scope)?;
    if Some(target) == ctx.me() {
        return Err(ApiError::Forbidden {
            code: "own_role",
            message: "you cannot change your own role".into(),
        });
    }
    let event = scope
        .audit("member.role_changed")
        .target(target)
        .details(json!({ "role": role }));
    ctx.state
        .store
        .change_member_role(&scope, &target, role, &event)
        .await?;
    ok(&json!({ "member": { "userId": target, "role": role } }))
}

pub(crate) async fn remove_member(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let target = ctx.user_param()?;
    let scope = ctx.scope(false).await?;
    require_admin(&scope)?;
    if Some(target) == ctx.me() {
        return Err(ApiError::bad_request(
            "use_leave",
            "to remove yourself, use POST /api/orgs/{slug}/leave",
        ));
    }
    let removed = ctx.state.store.member(&scope, &target).await?;
    let event = scope.audit("member.removed").target(target);
    ctx.state.store.remove_member(&scope, &target, &event).await?;
    if let Some(to) = removed.as_ref().and_then(|m| Email::parse(&m.email).ok()) {
        ctx.state
            .notify(Mail::member_removed(&to, scope.org().name.as_str()))
            .await;
    }
    no_content()
}

pub(crate) async fn leave(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    if scope.via_system_admin() {
        return Err(ApiError::bad_request(
            "not_a_member",
            "you are not a member of this organization",
        ));
    }
    let event = scope
        .audit("member.left")
        .target(ctx.me().map(|u| u.to_string()).unwrap_or_default());
    ctx.state.store.leave_org(&scope, &event).await?;
    no_content()
}
