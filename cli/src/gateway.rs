//! `agnus gateway`: the local HTTP entry of `make dev`, in the place API Gateway holds in AWS.
//!
//! cargo-lambda's own server answers its Invoke API (`/2015-03-31/functions/{fn}/invocations`,
//! any content type, so a `text/plain` POST from any web page) on the same port as its
//! router. This gateway is the only thing on the port browsers and providers use: it serves
//! exactly the routes of [`agnus_shared::routes::ROUTES`], builds the HTTP API (payload 2.0)
//! event itself (binary bodies base64-encoded, the caller's address from the socket, never
//! from a header) and invokes the function on cargo-lambda's private loopback port. Anything
//! else gets the JSON 404/405 API Gateway gives.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use agnus_shared::routes::{self, Matched};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use serde_json::{Map, Value, json};

/// API Gateway HTTP APIs refuse request bodies over 10 MB.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Where the functions run: cargo-lambda's Invoke API on a loopback port only this
/// process and the local event-source mappings know.
#[derive(Debug, Clone)]
pub struct Gateway {
    invoke_base: String,
    client: reqwest::Client,
}

impl Gateway {
    pub fn new(invoke_base: impl Into<String>) -> Self {
        Self {
            invoke_base: invoke_base.into().trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
        }
    }

    /// Answers one request: routes it, invokes the function, translates its answer.
    pub async fn handle(&self, peer: SocketAddr, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_owned();
        let route = match routes::resolve(parts.method.as_str(), &path) {
            Matched::Route(route, params) => (route, params),
            Matched::WrongMethod => return method_not_allowed(&path),
            Matched::NotFound => return error(StatusCode::NOT_FOUND, "not_found", "no such route"),
        };
        let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "request body too large",
                );
            }
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "could not read the request body",
                );
            }
        };
        let event = event(
            &parts.method,
            &parts.uri,
            &parts.headers,
            &body,
            peer,
            route.0,
            &route.1,
        );
        let url = format!(
            "{}/2015-03-31/functions/{}/invocations",
            self.invoke_base, route.0.function
        );
        let answer = match self.client.post(&url).json(&event).send().await {
            Ok(r) if r.status().is_success() => r.json::<Value>().await.map_err(|e| e.to_string()),
            Ok(r) => Err(format!("invoke answered {}", r.status())),
            // cargo-lambda is not listening yet (make dev is still starting).
            Err(e) if e.is_connect() => {
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "starting",
                    "the functions are starting; retry",
                );
            }
            Err(e) => Err(e.to_string()),
        };
        match answer.and_then(|v| response(&v)) {
            Ok(resp) => resp,
            Err(e) => {
                tracing::error!(function = route.0.function, error = %e, "function failed");
                error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
            }
        }
    }
}

/// Serves `gateway` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, gateway: Arc<Gateway>) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let gateway = Arc::clone(&gateway);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let gateway = Arc::clone(&gateway);
                async move { Ok::<_, Infallible>(gateway.handle(peer, req).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await
            {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
}

/// The API Gateway HTTP API payload 2.0 event for one request (the shape AWS documents under
/// "Working with AWS Lambda proxy integrations for HTTP APIs").
pub fn event(
    method: &Method,
    uri: &http::Uri,
    headers: &HeaderMap,
    body: &[u8],
    peer: SocketAddr,
    route: routes::Route,
    params: &std::collections::HashMap<String, String>,
) -> Value {
    let mut joined: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == header::COOKIE {
            cookies.extend(value.split(';').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()));
            continue;
        }
        joined
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let raw_query = uri.query().unwrap_or("");
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in url_pairs(raw_query) {
        query
            .entry(k)
            .and_modify(|e| {
                e.push(',');
                e.push_str(&v);
            })
            .or_insert(v);
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let route_key = format!("{} {}", route.method, route.path);
    let (body, is_base64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) if !is_binary(headers) => (Value::String(text.to_owned()), false),
        _ => (Value::String(BASE64.encode(body)), true),
    };
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": uri.path(),
        "rawQueryString": raw_query,
        "headers": joined,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method.as_str(),
                "path": uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": peer.ip().to_string(),
                "userAgent": headers.get(header::USER_AGENT).and_then(|h| h.to_str().ok()).unwrap_or(""),
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": route_key,
            "stage": "$default",
            "timeEpoch": u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
        },
        "isBase64Encoded": is_base64,
    });
    let obj = event.as_object_mut().expect("an object literal");
    if !cookies.is_empty() {
        obj.insert("cookies".into(), json!(cookies));
    }
    if !query.is_empty() {
        obj.insert("queryStringParameters".into(), json!(query));
    }
    if !params.is_empty() {
        obj.insert("pathParameters".into(), json!(params));
    }
    if !body.is_null() {
        obj.insert("body".into(), body);
    }
    event
}

/// API Gateway passes text bodies as they are and base64-encodes the others.
fn is_binary(headers: &HeaderMap) -> bool {
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    mime == "application/octet-stream"
        || mime.starts_with("image/")
        || mime.starts_with("audio/")
        || mime.starts_with("video/")
        || mime == "application/zip"
        || mime == "application/gzip"
}

/// `a=1&b=x%20y` → pairs, percent-decoded (`+` is a space, as in forms).
fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match (
                    bytes.get(i + 1).copied().and_then(hex),
                    bytes.get(i + 2).copied().and_then(hex),
                ) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// The function's answer (payload 2.0 response: `statusCode`, `headers`,
/// `multiValueHeaders`, `cookies`, `body`, `isBase64Encoded`) as an HTTP response.
pub fn response(answer: &Value) -> Result<Response<Full<Bytes>>, String> {
    let status = answer
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| format!("not an HTTP answer: {}", truncate(answer)))?;
    let mut builder = Response::builder().status(status);
    let empty = Map::new();
    let single = answer.get("headers").and_then(Value::as_object).unwrap_or(&empty);
    let multi = answer
        .get("multiValueHeaders")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (name, values) in multi {
        for v in values.as_array().into_iter().flatten().filter_map(Value::as_str) {
            builder = builder.header(name.as_str(), v);
        }
    }
    for (name, v) in single {
        if multi.contains_key(name) {
            continue;
        }
        if let Some(v) = v.as_str() {
            builder = builder.header(name.as_str(), v);
        }
    }
    for cookie in answer.get("cookies").and_then(Value::as_array).into_iter().flatten() {
        if let Some(c) = cookie.as_str() {
            builder = builder.header(header::SET_COOKIE, c);
        }
    }
    let body = match answer.get("body").and_then(Value::as_str) {
        None => Bytes::new(),
        Some(b) if answer.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) => {
            Bytes::from(BASE64.decode(b).map_err(|e| format!("bad base64 body: {e}"))?)
        }
        Some(b) => Bytes::from(b.to_owned()),
    };
    builder.body(Full::new(body)).map_err(|e| e.to_string())
}

fn truncate(v: &Value) -> String {
    let s = v.to_string();
    s.chars().take(200).collect()
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body = json!({ "error": { "code": code, "message": message } }).to_string();
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    agnus_shared::http::security_headers(headers);
    resp
}

fn method_not_allowed(path: &str) -> Response<Full<Bytes>> {
    let mut resp = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed",
    );
    if let Ok(allow) = HeaderValue::from_str(&routes::allowed_methods(path).join(", ")) {
        resp.headers_mut().insert(header::ALLOW, allow);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str) -> (routes::Route, std::collections::HashMap<String, String>) {
        match routes::resolve(method, path) {
            Matched::Route(r, p) => (r, p),
            other => panic!("{method} {path}: {other:?}"),
        }
    }

    fn peer() -> SocketAddr {
        "127.0.0.9:5555".parse().unwrap()
    }

    #[test]
    fn the_event_is_payload_2_0_with_the_socket_address() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; agnus_session=xyz"));
        h.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4"));
        h.append("x-multi", HeaderValue::from_static("one"));
        h.append("x-multi", HeaderValue::from_static("two"));
        let uri: http::Uri = "/api/orgs/acme/audit?limit=5&action=member%2Eadded&x=a+b"
            .parse()
            .unwrap();
        let (r, p) = route("GET", uri.path());
        let e = event(&Method::GET, &uri, &h, b"", peer(), r, &p);
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["routeKey"], "GET /api/orgs/{slug}/audit");
        assert_eq!(e["pathParameters"]["slug"], "acme");
        assert_eq!(e["cookies"], json!(["a=1", "agnus_session=xyz"]));
        assert!(e["headers"].get("cookie").is_none());
        assert_eq!(e["headers"]["x-multi"], "one,two");
        assert_eq!(e["requestContext"]["http"]["sourceIp"], "127.0.0.9");
        assert_eq!(e["queryStringParameters"]["action"], "member.added");
        assert_eq!(e["queryStringParameters"]["x"], "a b");
        assert_eq!(e["rawQueryString"], "limit=5&action=member%2Eadded&x=a+b");
        assert!(e.get("body").is_none());
        assert_eq!(e["isBase64Encoded"], false);
    }

    #[test]
    fn bodies_that_are_not_utf8_are_base64_encoded() {
        let uri: http::Uri = "/api/webhooks/github/acme".parse().unwrap();
        let (r, p) = route("POST", uri.path());
        let e = event(
            &Method::POST,
            &uri,
            &HeaderMap::new(),
            &[0xff, 0xfe, b'{'],
            peer(),
            r,
            &p,
        );
        assert_eq!(e["isBase64Encoded"], true);
        assert_eq!(BASE64.decode(e["body"].as_str().unwrap()).unwrap(), [0xff, 0xfe, b'{']);
        let e = event(&Method::POST, &uri, &HeaderMap::new(), b"{}", peer(), r, &p);
        assert_eq!(e["body"], "{}");
        assert_eq!(e["isBase64Encoded"], false);
    }

    #[test]
    fn the_functions_answer_becomes_the_response() {
        let resp = response(&json!({
            "statusCode": 201,
            "headers": {"content-type": "application/json", "x-one": "1"},
            "multiValueHeaders": {"x-one": ["1"], "vary": ["a", "b"]},
            "cookies": ["s=1; HttpOnly", "t=2"],
            "body": "eyJvayI6dHJ1ZX0=",
            "isBase64Encoded": true
        }))
        .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        assert_eq!(resp.headers().get_all(header::SET_COOKIE).iter().count(), 2);
        assert_eq!(resp.headers().get_all("vary").iter().count(), 2);
        assert_eq!(resp.headers().get_all("x-one").iter().count(), 1);
        assert_eq!(resp.headers()["content-type"], "application/json");
        assert!(response(&json!({"errorType": "Panic"})).is_err());
    }

    #[test]
    fn unknown_paths_and_methods_answer_json() {
        let r = error(StatusCode::NOT_FOUND, "not_found", "no such route");
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        let r = method_not_allowed("/api/orgs/acme/members");
        assert_eq!(r.status(), 405);
        assert_eq!(r.headers()[header::ALLOW], "GET, POST");
    }

    #[test]
    fn percent_decoding_survives_bad_input() {
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%e2%82%ac"), "€");
    }
}
