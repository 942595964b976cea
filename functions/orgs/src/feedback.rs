//! The feedback loop's routes.
//!
//! `GET /api/feedback?o=&c=&s=&sig=` is the link on every posted review comment: no
//! session (a developer clicks it from the pull request), signed with the org's own key
//! (HMAC over org, comment and signal; `crypto::feedback`), idempotent (the last signal
//! wins; a replay changes nothing), rate-limited per source address, 410 after 90 days.
//! A browser gets a small HTML page; any other client JSON.
//!
//! `GET /api/orgs/{slug}/feedback` (per repository and rule: helpful / not helpful) and
//! `GET /api/orgs/{slug}/rules/{id}/violations` (comments attributed to the rule over the
//! last 30 days) are for members, in the console.
//!
//! The use cases and their rules are in `services::feedback`; this parses the link and
//! shapes the answers (HTML or JSON).

use agnus_shared::error::ApiError;
use agnus_shared::feedback::{FeedbackLink, Signal};
use agnus_shared::http::{client_ip, json_response, security_headers};
use agnus_shared::services::feedback;
use agnus_shared::store::SignalRecorded;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;

use crate::{Ctx, OrgsState, ok};

/// Parses the link from the query and records its signal (`services::feedback`).
async fn record(state: &OrgsState, req: &Request) -> Result<(Signal, SignalRecorded), ApiError> {
    let query = req.query_string_parameters();
    let link = FeedbackLink::parse(|k| query.first(k).map(str::to_owned))
        .map_err(|e| ApiError::bad_request("invalid_feedback_link", e.to_string()))?;
    feedback::record_signal(
        &state.store,
        &state.sealer,
        state.config.feedback_per_ip,
        &client_ip(req),
        &link,
    )
    .await
}

fn wants_html(req: &Request) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A page without script or style from anywhere (the API's CSP: `default-src 'none'`).
fn html(status: StatusCode, title: &str, message: &str) -> Response<Body> {
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} · AgnusAI</title></head><body><main><h1>{t}</h1><p>{m}</p></main></body></html>\n",
        t = escape(title),
        m = escape(message),
    );
    let mut response = Response::new(Body::Text(page));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    security_headers(headers);
    response
}

/// `GET /api/feedback` (see the module docs).
pub(crate) async fn handle(state: &OrgsState, req: &Request) -> Response<Body> {
    let html_wanted = wants_html(req);
    match record(state, req).await {
        Ok((signal, outcome)) => {
            if html_wanted {
                let label = match signal {
                    Signal::Helpful => "helpful",
                    Signal::NotHelpful => "not helpful",
                };
                html(
                    StatusCode::OK,
                    "Thanks for the feedback",
                    &format!(
                        "This review comment is recorded as {label}. Changed your mind? Use the other link \
                         on the comment; the last answer counts."
                    ),
                )
            } else {
                json_response(
                    StatusCode::OK,
                    &json!({
                        "signal": signal.as_str(),
                        "changed": outcome == SignalRecorded::Recorded,
                    }),
                )
            }
        }
        Err(e) if html_wanted => {
            let status = e.status();
            tracing::info!(error.code = e.code(), status = status.as_u16(), "feedback refused");
            let mut response = html(status, "Feedback not recorded", &e.to_string());
            if let ApiError::RateLimited { retry_after_secs } = e {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
            }
            response
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /api/orgs/{slug}/feedback`: helpful / not-helpful counts per repository and rule.
pub(crate) async fn stats(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let stats = feedback::feedback_stats(&ctx.state.store, &scope).await?;
    ok(&json!({ "repos": stats.repos, "rules": stats.rules }))
}

/// `GET /api/orgs/{slug}/rules/{id}/violations`: the last 30 days, newest first.
pub(crate) async fn violations(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let (id, violations) = feedback::rule_violations(&ctx.state.store, &scope, ctx.param("id")).await?;
    ok(&json!({ "ruleId": id, "days": 30, "violations": violations }))
}
