//! HTTP plumbing shared by the API functions: JSON in and out, the session cookie, the
//! CSRF rule, the client IP from the API Gateway request context.

use std::time::{Duration, SystemTime};

use lambda_http::http::{HeaderMap, HeaderValue, Method, header};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::store::{Page, PageRequest};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "agnus_session";
/// Largest JSON body an API route accepts.
pub const MAX_JSON_BODY: usize = 64 * 1024;

pub use crate::response::{empty_response, json_response, security_headers};

/// The caller's IP as API Gateway saw it (never a client-supplied header such as
/// `X-Forwarded-For`, which anyone can set).
pub fn client_ip(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.identity.source_ip.clone(),
        _ => None,
    }
    .filter(|ip| !ip.is_empty())
    .unwrap_or_else(|| "unknown".to_owned())
}

/// API Gateway's request id, for correlating logs.
pub fn request_id(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
    .unwrap_or_default()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The CSRF rule (product §3), for cookie-authenticated requests only: a state-changing
/// request must not come from another site (`Sec-Fetch-Site: cross-site`) and, when it
/// carries a body, must be JSON — a cross-site HTML form can send neither a JSON content
/// type nor (without CORS preflight) a DELETE or PATCH. A request authenticated by an
/// `Authorization: Bearer` API key carries no ambient credential a browser would attach,
/// so the rule does not apply to it.
pub fn check_csrf(req: &Request) -> Result<(), ApiError> {
    if !is_state_changing(req.method()) || has_bearer(req.headers()) {
        return Ok(());
    }
    let cross_site = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"));
    if cross_site {
        return Err(ApiError::CsrfRejected);
    }
    // A body-less DELETE cannot be sent cross-site without a CORS preflight we never grant.
    let bodyless_delete = *req.method() == Method::DELETE && req.body().as_ref().is_empty();
    if !bodyless_delete && !is_json(req.headers()) {
        return Err(ApiError::CsrfRejected);
    }
    Ok(())
}

fn has_bearer(headers: &HeaderMap) -> bool {
    bearer_token(headers).is_some()
}

/// The `Authorization: Bearer …` credential, if any. The one parser of that header: a
/// request it finds a bearer in is authenticated by that bearer alone (never the cookie),
/// which is what lets the CSRF rule skip it.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

/// Parses the JSON body into `T`: 413 over [`MAX_JSON_BODY`], 400 for empty or malformed
/// JSON and for missing or mistyped fields.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_JSON_BODY {
        return Err(ApiError::PayloadTooLarge { limit: MAX_JSON_BODY });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("missing_body", "a JSON object body is required"));
    }
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => {
            // serde's message names the field ("missing field `email`"); drop the position.
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or("invalid field").to_owned();
            ApiError::bad_request("invalid_field", msg)
        }
        _ => ApiError::bad_request("invalid_json", "the body is not valid JSON"),
    })
}

/// `limit` (1–100, default 50) and `cursor` from the query string.
pub fn page_request(req: &Request) -> Result<PageRequest, ApiError> {
    let params = req.query_string_parameters();
    let limit = match params.first("limit") {
        None => PageRequest::DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<i32>()
            .ok()
            .filter(|l| (1..=PageRequest::MAX_LIMIT).contains(l))
            .ok_or_else(|| ApiError::bad_request("invalid_limit", "limit must be an integer from 1 to 100"))?,
    };
    let cursor = params.first("cursor").filter(|c| !c.is_empty()).map(str::to_owned);
    Ok(PageRequest { limit, cursor })
}

/// A page of items as JSON: `{"<name>": [...], "nextCursor": "…" | null}`.
pub fn page_json<T: Serialize>(name: &str, page: &Page<T>) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    map.insert(name.to_owned(), serde_json::to_value(&page.items).unwrap_or_default());
    map.insert(
        "nextCursor".to_owned(),
        serde_json::to_value(&page.next_cursor).unwrap_or_default(),
    );
    serde_json::Value::Object(map)
}

/// The session token from the `Cookie` header(s), if any.
pub fn session_token(req: &Request) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for a new session: HttpOnly, Secure, SameSite=Lax, Path=/, with expiry.
pub fn session_cookie(token: &str, ttl: Duration) -> HeaderValue {
    let expires = httpdate::fmt_http_date(SystemTime::now() + ttl);
    let value = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age={}; Expires={expires}",
        ttl.as_secs()
    );
    // A JWT is base64url + dots, always a valid header value.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("agnus_session=; Path=/"))
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(t)
}

/// `Set-Cookie` that removes the session cookie from the browser.
pub fn cleared_session_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "agnus_session=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::{Body, http};

    fn req(method: &str, headers: &[(&str, &str)], body: &str) -> Request {
        let mut b = http::Request::builder().method(method).uri("/api/auth/login");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Body::from(body.to_owned())).unwrap()
    }

    #[test]
    fn csrf_rule() {
        let json = ("content-type", "application/json; charset=utf-8");
        assert!(check_csrf(&req("POST", &[json], "{}")).is_ok());
        assert!(check_csrf(&req("POST", &[("content-type", "Application/JSON")], "{}")).is_ok());
        assert!(matches!(
            check_csrf(&req("POST", &[], "{}")),
            Err(ApiError::CsrfRejected)
        ));
        assert!(check_csrf(&req("POST", &[("content-type", "text/plain")], "{}")).is_err());
        assert!(
            check_csrf(&req(
                "POST",
                &[("content-type", "application/x-www-form-urlencoded")],
                "a=b"
            ))
            .is_err()
        );
        assert!(check_csrf(&req("POST", &[json, ("sec-fetch-site", "cross-site")], "{}")).is_err());
        assert!(check_csrf(&req("POST", &[json, ("sec-fetch-site", "same-origin")], "{}")).is_ok());
        assert!(check_csrf(&req("GET", &[("sec-fetch-site", "cross-site")], "")).is_ok());
        // Bearer-key requests carry no ambient credential: the rule is for cookies.
        let bearer = ("authorization", "Bearer agn_x");
        assert!(check_csrf(&req("POST", &[bearer], "{}")).is_ok());
        assert!(check_csrf(&req("POST", &[bearer, ("content-type", "text/plain")], "{}")).is_ok());
        // A body-less DELETE needs no content type; a cross-site one is still refused.
        assert!(check_csrf(&req("DELETE", &[], "")).is_ok());
        assert!(check_csrf(&req("DELETE", &[("sec-fetch-site", "cross-site")], "")).is_err());
        assert!(check_csrf(&req("DELETE", &[("content-type", "text/plain")], "x")).is_err());
    }

    #[derive(Debug, serde::Deserialize)]
    struct Login {
        #[allow(dead_code)]
        email: String,
    }

    #[test]
    fn json_body_errors() {
        let e = json_body::<Login>(&req("POST", &[], "{")).unwrap_err();
        assert_eq!(e.code(), "invalid_json");
        let e = json_body::<Login>(&req("POST", &[], "{}")).unwrap_err();
        assert_eq!(e.code(), "invalid_field");
        assert!(e.to_string().contains("email"), "{e}");
        assert!(!e.to_string().contains("line"), "{e}");
        let e = json_body::<Login>(&req("POST", &[], "")).unwrap_err();
        assert_eq!(e.code(), "missing_body");
        let big = format!("{{\"email\":\"{}\"}}", "a".repeat(MAX_JSON_BODY));
        assert_eq!(
            json_body::<Login>(&req("POST", &[], &big)).unwrap_err().code(),
            "payload_too_large"
        );
    }

    #[test]
    fn session_cookie_has_the_flags() {
        let c = session_cookie("abc.def.ghi", Duration::from_secs(3600));
        let c = c.to_str().unwrap();
        for flag in [
            "agnus_session=abc.def.ghi",
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=3600",
            "Expires=",
        ] {
            assert!(c.contains(flag), "{c} lacks {flag}");
        }
    }

    #[test]
    fn session_token_is_found_among_cookies() {
        let r = req("GET", &[("cookie", "a=1; agnus_session=tok; b=2")], "");
        assert_eq!(session_token(&r).as_deref(), Some("tok"));
        let r = req("GET", &[("cookie", "agnus_session_x=1")], "");
        assert_eq!(session_token(&r), None);
    }

    #[test]
    fn client_ip_ignores_forwarded_headers() {
        let r = req("GET", &[("x-forwarded-for", "6.6.6.6")], "");
        assert_eq!(client_ip(&r), "unknown");
    }

    use proptest::prelude::*;

    proptest! {
        /// Cookie and Authorization headers of any bytes, `limit` and `cursor` of any text.
        #[test]
        fn any_credential_header_or_page_query_parses_or_is_refused(
            cookie in prop::collection::vec(any::<u8>(), 0..120),
            authorization in prop_oneof![prop::collection::vec(any::<u8>(), 0..80), "(Bearer|bearer|Basic) ?\\PC{0,40}".prop_map(String::into_bytes)],
            limit in prop_oneof![any::<String>(), "-?[0-9]{1,12}"],
            cursor in any::<String>(),
        ) {
            let mut r = req("GET", &[], "");
            if let Ok(v) = HeaderValue::from_bytes(&cookie) {
                r.headers_mut().insert(header::COOKIE, v);
            }
            if let Ok(v) = HeaderValue::from_bytes(&authorization) {
                r.headers_mut().insert(header::AUTHORIZATION, v);
            }
            if let Some(token) = session_token(&r) {
                prop_assert!(!token.is_empty() && token.len() <= cookie.len());
            }
            if let Some(bearer) = bearer_token(r.headers()) {
                prop_assert!(bearer.len() <= authorization.len());
            }
            let query: std::collections::HashMap<String, String> =
                [("limit".to_owned(), limit), ("cursor".to_owned(), cursor)].into();
            let r = r.with_query_string_parameters(query);
            if let Ok(page) = page_request(&r) {
                prop_assert!((1..=PageRequest::MAX_LIMIT).contains(&page.limit));
            }
        }
    }
}
