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

use agnus_shared::crypto::{FeedbackKey, KmsError};
use agnus_shared::error::ApiError;
use agnus_shared::feedback::{FeedbackLink, Signal};
use agnus_shared::http::{client_ip, json_response, security_headers};
use agnus_shared::store::{RateDecision, SignalRecorded};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;

use crate::{Ctx, OrgsState, ok};

/// Most violations one rule's view lists.
const VIOLATIONS_SHOWN: i32 = 200;

fn link_error(code: &'static str, message: &str) -> ApiError {
    ApiError::BadSignature {
        code,
        message: message.into(),
    }
}

/// Verifies a link and records its signal.
async fn record(state: &OrgsState, req: &Request) -> Result<(Signal, SignalRecorded), ApiError> {
    let query = req.query_string_parameters();
    let link = FeedbackLink::parse(|k| query.first(k).map(str::to_owned))
        .map_err(|e| ApiError::bad_request("invalid_feedback_link", e.to_string()))?;
    if let RateDecision::Limited { retry_after_secs } = state
        .store
        .rate_limit_hit("feedback-ip", &client_ip(req), state.config.feedback_per_ip)
        .await?
    {
        return Err(ApiError::RateLimited { retry_after_secs });
    }
    tracing::Span::current().record("org_id", tracing::field::display(link.org));
    // The same answer for an unknown org, a deleted one and a forged signature.
    let forged = || link_error("invalid_signature", "this feedback link is not valid");
    let target = state.store.feedback_target(&link).await?.ok_or_else(forged)?;
    let key = match FeedbackKey::open(&state.sealer, target.org_id(), target.sealed_key()).await {
        Ok(key) => key,
        Err(KmsError::Invalid) => return Err(ApiError::Internal("the org's feedback key does not open".into())),
        Err(e @ KmsError::Unavailable(_)) => return Err(ApiError::Unavailable(e.to_string())),
    };
    let scope = target.verify(&key, &link).ok_or_else(forged)?;
    if link.comment.link_expired(state.store.now_secs()) {
        return Err(ApiError::Gone {
            code: "feedback_link_expired",
            message: "feedback links work for 90 days after the review".into(),
        });
    }
    let outcome = state.store.record_signal(&scope, &link.comment, link.signal).await?;
    if outcome == SignalRecorded::UnknownComment {
        return Err(ApiError::NotFoundWhat {
            code: "comment_not_found",
            message: "this review comment is no longer known".into(),
        });
    }
    tracing::info!(comment_id = %link.comment, signal = %link.signal, ?outcome, "feedback recorded");
    Ok((link.signal, outcome))
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
    let stats = ctx.state.store.feedback_stats(&scope).await?;
    let (repos, rules): (Vec<_>, Vec<_>) = stats.into_iter().partition(|s| s.kind == "repo");
    ok(&json!({ "repos": repos, "rules": rules }))
}

/// `GET /api/orgs/{slug}/rules/{id}/violations`: the last 30 days, newest first.
pub(crate) async fn violations(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let rule = crate::rules::find(ctx, &scope).await?;
    let id = rule.id.as_str();
    let violations = ctx.state.store.rule_violations(&scope, id, VIOLATIONS_SHOWN).await?;
    ok(&json!({ "ruleId": id, "days": 30, "violations": violations }))
}
