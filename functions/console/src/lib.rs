//! The web console: one HTML shell for every console page, plus the ES modules and the
//! stylesheet it loads, all embedded in the binary. The browser renders each page from
//! the JSON API on the same origin (session cookie + the CSRF rule: JSON bodies), so every
//! right is enforced once, by the API; the console only reflects the role the API returns.
//!
//! Every answer carries the security headers (strict CSP without inline script, no
//! framing, `Referrer-Policy: same-origin` because invitation URLs carry a token).
//! Pages are `no-store` (they show secrets and tokens); assets are revalidated by ETag.

use std::sync::OnceLock;

use agnus_shared::routes::{self, Matched};
use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Request, Response};

pub const FUNCTION: &str = "console";

/// One embedded file under `/assets/`.
#[derive(Debug)]
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";

macro_rules! asset {
    ($name:literal, $ty:expr) => {
        Asset {
            name: $name,
            content_type: $ty,
            body: include_bytes!(concat!("../assets/", $name)),
        }
    };
}

/// Everything the console loads. No other origin is ever contacted.
pub const ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("layout.js", JS),
    asset!("pages-auth.js", JS),
    asset!("pages-org.js", JS),
    asset!("pages-admin.js", JS),
    asset!("pages-review.js", JS),
    asset!("pages-index.js", JS),
    asset!("pages-install.js", JS),
    asset!("index-text.js", JS),
    asset!("review-report.js", JS),
    asset!("safe.js", JS),
    asset!("session.js", JS),
    asset!("icon.svg", "image/svg+xml"),
];

/// The shell every console page starts from; the modules render the page into `#main`.
const SHELL: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AgnusAI console</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<div id="top"></div>
<main id="main" tabindex="-1"><p class="loading">Loading…</p><noscript><p>The AgnusAI console needs JavaScript.</p></noscript></main>
</body>
</html>
"##;

/// `script-src 'self'` and no `'unsafe-inline'` anywhere: no inline script or style
/// attribute can run. Only this origin is contacted.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; manifest-src 'self'";

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn etags() -> &'static [String] {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    TAGS.get_or_init(|| ASSETS.iter().map(|a| format!("\"{:016x}\"", fnv1a(a.body))).collect())
}

fn with_security_headers(mut resp: Response<Body>) -> Response<Body> {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    resp
}

fn build(status: StatusCode, content_type: &'static str, cache: &'static str, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    with_security_headers(resp)
}

fn text(status: StatusCode, msg: &'static str) -> Response<Body> {
    build(
        status,
        "text/plain; charset=utf-8",
        "no-store",
        Body::Text(msg.to_owned()),
    )
}

/// The answer to `method path` (`if_none_match`: the request's `If-None-Match`). Pure:
/// tests and the benchmark call it directly.
pub fn respond(method: &Method, path: &str, if_none_match: Option<&str>) -> Response<Body> {
    let head = method == Method::HEAD;
    let lookup = if head { "GET" } else { method.as_str() };
    let (route, params) = match routes::find(FUNCTION, lookup, path) {
        Matched::Route(route, params) => (route, params),
        Matched::WrongMethod => {
            let mut resp = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return resp;
        }
        Matched::NotFound => return text(StatusCode::NOT_FOUND, "not found\n"),
    };
    if route.path == "/api/openapi.json" {
        static DOC: OnceLock<String> = OnceLock::new();
        let doc = DOC.get_or_init(|| agnus_shared::openapi::document().to_string());
        let body = if head { Body::Empty } else { Body::Text(doc.clone()) };
        return build(StatusCode::OK, "application/json", "no-cache", body);
    }
    if route.path == "/assets/{file}" {
        let name = params.get("file").map(String::as_str).unwrap_or_default();
        let Some(i) = ASSETS.iter().position(|a| a.name == name) else {
            return text(StatusCode::NOT_FOUND, "no such asset\n");
        };
        let asset = &ASSETS[i];
        let etag = &etags()[i];
        let fresh = if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
        let (status, body) = if fresh {
            (StatusCode::NOT_MODIFIED, Body::Empty)
        } else if head {
            (StatusCode::OK, Body::Empty)
        } else {
            (StatusCode::OK, Body::Binary(asset.body.to_vec()))
        };
        // Revalidated on every use (304 when unchanged): a deploy is seen at once.
        let mut resp = build(status, asset.content_type, "no-cache", body);
        if let Ok(v) = HeaderValue::from_str(etag) {
            resp.headers_mut().insert(header::ETAG, v);
        }
        return resp;
    }
    let body = if head {
        Body::Empty
    } else {
        Body::Text(SHELL.to_owned())
    };
    // Pages show secrets and tokens (shown-once webhook secrets, API keys, invitation
    // links): never stored by a browser or a proxy.
    build(StatusCode::OK, "text/html; charset=utf-8", "no-store", body)
}

/// The Lambda handler.
pub fn handle(req: &Request) -> Response<Body> {
    let inm = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    let resp = respond(req.method(), req.uri().path(), inm);
    tracing::info!(
        path_kind = kind(req.uri().path()),
        status = resp.status().as_u16(),
        "console"
    );
    resp
}

/// The kind of path, for logs: never the path itself (an invitation path carries a token).
fn kind(path: &str) -> &'static str {
    if path.starts_with("/assets/") {
        "asset"
    } else if path.starts_with("/invite/") || path.starts_with("/verify-email/") || path.starts_with("/reset-password/")
    {
        "token-page"
    } else {
        "page"
    }
}

#[cfg(test)]
mod tests;
