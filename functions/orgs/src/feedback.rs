//! The feedback loop's routes.
//!
//! `GET /api/feedback?o=&c=&s=&sig=` is the link on every posted review comment. It
//! changes nothing (mail scanners and link previews fetch it): it answers a small page
//! saying what is being rated, whose form POSTs the same parameters. No store access, so
//! opening a link costs no read, no KMS call and no rate-limit count.
//!
//! `POST /api/feedback` records the vote: no session (a developer comes from the pull
//! request), the parameters in a form body (the page), a JSON body or the query string,
//! signed with the org's own key (HMAC over org, comment and signal; `crypto::feedback`),
//! idempotent (the last signal wins; a replay changes nothing), rate-limited per source
//! address, 410 after 90 days. A browser gets a small HTML page; any other client JSON.
//! The signature is the capability, so the CSRF rule does not apply
//! (`routes::SIGNED_LINK_ROUTES`).
//!
//! `GET /api/orgs/{slug}/feedback` (per repository and rule: helpful / not helpful) and
//! `GET /api/orgs/{slug}/rules/{id}/violations` (comments attributed to the rule over the
//! last 30 days) are for members, in the console.
//!
//! The use cases and their rules are in `services::feedback`; this parses the link and
//! shapes the answers (HTML or JSON).

use std::collections::HashMap;

use agnus_shared::error::ApiError;
use agnus_shared::feedback::{FeedbackLink, Signal};
use agnus_shared::http::{client_ip, json_response, security_headers};
use agnus_shared::services::feedback;
use agnus_shared::store::SignalRecorded;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, RequestPayloadExt, Response};
use serde_json::json;

use crate::{Ctx, OrgsState, ok};

/// The largest vote body read (four short parameters).
const MAX_VOTE_BODY: usize = 4_096;

fn invalid(e: impl ToString) -> ApiError {
    ApiError::bad_request("invalid_feedback_link", e.to_string())
}

/// The link's parameters from the query string.
fn link_from_query(req: &Request) -> Result<FeedbackLink, ApiError> {
    let query = req.query_string_parameters();
    FeedbackLink::parse(|k| query.first(k).map(str::to_owned)).map_err(invalid)
}

/// The vote's parameters: a form or JSON body when there is one, else the query string.
fn link_from_vote(req: &Request) -> Result<FeedbackLink, ApiError> {
    if req.body().len() > MAX_VOTE_BODY {
        return Err(ApiError::PayloadTooLarge { limit: MAX_VOTE_BODY });
    }
    match req.payload::<HashMap<String, String>>() {
        Ok(Some(fields)) => FeedbackLink::parse(|k| fields.get(k).cloned()).map_err(invalid),
        Ok(None) if req.body().is_empty() => link_from_query(req),
        Ok(None) => Err(invalid(
            "the body is a form (application/x-www-form-urlencoded) or JSON",
        )),
        Err(e) => Err(invalid(format!("unreadable body: {e}"))),
    }
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

/// A page without script or style from anywhere (the API's CSP: `default-src 'none'`);
/// `body` is HTML, already escaped.
fn html_page(status: StatusCode, title: &str, body: &str) -> Response<Body> {
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} · AgnusAI</title></head><body><main><h1>{t}</h1>{body}</main></body></html>\n",
        t = escape(title),
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

fn html(status: StatusCode, title: &str, message: &str) -> Response<Body> {
    html_page(status, title, &format!("<p>{}</p>", escape(message)))
}

fn label(signal: Signal) -> &'static str {
    match signal {
        Signal::Helpful => "helpful",
        Signal::NotHelpful => "not helpful",
    }
}

/// `GET /api/feedback` (see the module docs): what is being rated and a form that POSTs
/// the same signed parameters. Never writes.
pub(crate) fn page(req: &Request) -> Response<Body> {
    let link = match link_from_query(req) {
        Ok(link) => link,
        Err(e) => return html(e.status(), "Feedback link not valid", &e.to_string()),
    };
    let field =
        |name: &str, value: &str| format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", escape(value));
    let label = label(link.signal);
    let body = format!(
        "<p>Mark AgnusAI's review comment <code>{c}</code> as <strong>{label}</strong>? Nothing is \
         recorded until you press the button.</p>\
         <form method=\"post\" action=\"/api/feedback\">{o}{cf}{s}{sig}\
         <button type=\"submit\">Mark as {label}</button></form>\
         <p>Changed your mind later? Use the other link on the comment; the last answer counts.</p>",
        c = escape(link.comment.as_str()),
        o = field("o", &link.org.to_string()),
        cf = field("c", link.comment.as_str()),
        s = field("s", link.signal.as_str()),
        sig = field("sig", &link.sig),
    );
    let mut response = html_page(StatusCode::OK, "Rate this review comment", &body);
    // The form may post to this origin only; still no script, style or frame.
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    );
    response
}

/// Parses the vote and records its signal (`services::feedback`).
async fn record(state: &OrgsState, req: &Request) -> Result<(Signal, SignalRecorded), ApiError> {
    let link = link_from_vote(req)?;
    feedback::record_signal(
        &state.store,
        &state.sealer,
        state.config.feedback_per_ip,
        &client_ip(req),
        &link,
        state.embedder.as_ref(),
    )
    .await
}

/// `POST /api/feedback` (see the module docs).
pub(crate) async fn vote(state: &OrgsState, req: &Request) -> Response<Body> {
    let html_wanted = wants_html(req);
    match record(state, req).await {
        Ok((signal, outcome)) => {
            if html_wanted {
                html(
                    StatusCode::OK,
                    "Thanks for the feedback",
                    &format!(
                        "This review comment is recorded as {}. Changed your mind? Use the other link \
                         on the comment; the last answer counts.",
                        label(signal)
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

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::aws_lambda_events::query_map::QueryMap;

    fn get(query: &[(&str, &str)]) -> Request {
        let map: HashMap<String, String> = query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Request::default().with_query_string_parameters(QueryMap::from(map))
    }

    fn text(r: &Response<Body>) -> String {
        match r.body() {
            Body::Text(t) => t.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_page_escapes_the_link_posts_it_and_runs_no_script() {
        let org = agnus_shared::domain::OrgId::new().to_string();
        let comment = agnus_shared::feedback::CommentId::new(1_732_000_000_000).to_string();
        let evil = "\"><script>alert(1)</script>";
        let r = page(&get(&[
            ("o", &org),
            ("c", &comment),
            ("s", "not_helpful"),
            ("sig", evil),
        ]));
        assert_eq!(r.status(), StatusCode::OK);
        let html = text(&r);
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""),
            "{html}"
        );
        assert!(html.contains("<form method=\"post\" action=\"/api/feedback\">"));
        assert!(html.contains(&format!("name=\"c\" value=\"{comment}\"")));
        assert!(html.contains("<strong>not helpful</strong>"));
        let csp = r.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.starts_with("default-src 'none'; form-action 'self'"), "{csp}");
        // A malformed link (a multi-byte character in the comment id): a 400 page.
        let bad = page(&get(&[
            ("o", &org),
            ("c", "c111111111111€aaaaaaaaaaaaaa"),
            ("s", "helpful"),
            ("sig", "x"),
        ]));
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    }
}
