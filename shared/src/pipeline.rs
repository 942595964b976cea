//! One HTTP pipeline for the JSON functions (auth, orgs, invites, repos): the request span,
//! routing on the function's own route enum, the CSRF rule, the error → JSON mapping and
//! the closing log line, written once. A function supplies only its dispatch, an
//! exhaustive `match` on its route enum (see [`crate::routes`]).
//!
//! The intake keeps its own short path (no session, no CSRF, a delivery id in its span):
//! it is the hot path and its benchmark guards it.

use std::collections::HashMap;
use std::future::Future;

use lambda_http::{Body, Request, Response};
use tracing::Instrument;

use crate::crypto::SessionTokens;
use crate::error::ApiError;
use crate::routes::{FunctionRoutes, Matched, allowed_methods, find_typed};
use crate::services::access::{self, Reading};
use crate::store::{OrgScope, Principal, Store};

/// A routed request: its route, path parameters and the raw request.
#[derive(Debug)]
pub struct Call<'r, R> {
    pub req: &'r Request,
    pub route: R,
    params: HashMap<String, String>,
}

impl<R: FunctionRoutes> Call<'_, R> {
    /// A path parameter (`""` when the route has none by that name).
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).map(String::as_str).unwrap_or_default()
    }

    pub fn params(&self) -> &HashMap<String, String> {
        &self.params
    }

    /// The session or API key of the request (401 without one); the span gets the user.
    pub async fn principal(&self, store: &Store, tokens: &SessionTokens) -> Result<Principal, ApiError> {
        let principal = crate::session::require(store, tokens, self.req).await?;
        if let Some(user) = principal.user() {
            tracing::Span::current().record("user_id", tracing::field::display(user.id));
        }
        Ok(principal)
    }

    /// The org of the `{slug}` path parameter, if `principal` may act in it (404
    /// otherwise); a system admin's read is audited.
    pub async fn org_scope(
        &self,
        store: &Store,
        principal: &Principal,
        include_deleted: bool,
    ) -> Result<OrgScope, ApiError> {
        access::org_scope(store, principal, self.param("slug"), include_deleted, self.reading()).await
    }

    /// The active org of a route without `{slug}` (header, API key, or only org).
    pub async fn active_scope(&self, store: &Store, principal: &Principal) -> Result<OrgScope, ApiError> {
        access::active_scope(store, principal, self.req, self.reading()).await
    }

    fn reading(&self) -> Reading<'_> {
        Reading {
            is_read: self.route.route().method == "GET",
            path: self.req.uri().path(),
        }
    }
}

/// Runs `dispatch` for the route of `req` among the routes `R`, inside the request span.
/// Paths are never logged (some carry tokens): the span has the route's pattern.
pub async fn serve<'r, R, F, Fut>(req: &'r Request, dispatch: F) -> Response<Body>
where
    R: FunctionRoutes,
    F: FnOnce(Call<'r, R>) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let span = tracing::info_span!(
        "request",
        function = R::FUNCTION,
        request_id = %crate::http::request_id(req),
        method = %req.method(),
        route = tracing::field::Empty,
        user_id = tracing::field::Empty,
        org_id = tracing::field::Empty,
    );
    async move {
        let result = match find_typed::<R>(req.method().as_str(), req.uri().path()) {
            Matched::Route(route, params) => {
                tracing::Span::current().record("route", route.route().path);
                // A signed-link route reads no ambient credential (see SIGNED_LINK_ROUTES).
                let signed_link = crate::routes::SIGNED_LINK_ROUTES.contains(&route.route());
                match if signed_link {
                    Ok(())
                } else {
                    crate::http::check_csrf(req)
                } {
                    Ok(()) => dispatch(Call { req, route, params }).await,
                    Err(e) => Err(e),
                }
            }
            Matched::WrongMethod => Err(ApiError::MethodNotAllowed),
            Matched::NotFound => Err(ApiError::NotFound),
        };
        let mut response = result.unwrap_or_else(ApiError::into_response);
        if response.status() == lambda_http::http::StatusCode::METHOD_NOT_ALLOWED {
            // A 405 says which methods the path takes (RFC 9110 §15.5.6).
            let allow = allowed_methods(req.uri().path()).join(", ");
            if let Ok(allow) = lambda_http::http::HeaderValue::from_str(&allow) {
                response.headers_mut().insert(lambda_http::http::header::ALLOW, allow);
            }
        }
        tracing::info!(status = response.status().as_u16(), "handled");
        response
    }
    .instrument(span)
    .await
}
