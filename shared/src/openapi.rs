//! The OpenAPI 3.1 description of every JSON route, served at `GET /api/openapi.json`
//! (console function). Built from [`crate::routes::ROUTES`] plus one entry per route
//! ([`OPS`], in `openapi/ops.rs`: summary, who may call it, body fields, success status)
//! and its success answers ([`ANSWERS`], in `openapi/responses.rs`, over the records of
//! `openapi/records.rs` in `components/schemas`); tests/tests/routes.rs proves the document
//! lists exactly the `/api` routes of the route table, no more, no fewer, and a unit test
//! that every JSON operation has its answer.

use serde_json::{Map, Value, json};

use crate::routes::ROUTES;

mod ops;
mod records;
pub mod responses;
pub mod schemas;

pub use ops::OPS;
pub use responses::ANSWERS;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Anyone (rate-limited where it matters).
    Public,
    /// A logged-in person (session cookie); API keys are refused.
    Person,
    /// A member of the org: session cookie, or an API key of that org (`Authorization: Bearer agn_…`).
    Member,
    /// A version-control provider: the delivery's signature under the org's webhook secret.
    Provider,
    /// Whoever holds a link the service signed (no session).
    SignedLink,
}

/// A JSON body field: name, its schema (`schemas`, built from the validators' constants),
/// required.
type Field = (&'static str, fn() -> Value, bool);

/// One operation's description.
#[derive(Debug, Clone, Copy)]
pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub caller: Caller,
    pub body: &'static [Field],
    /// The success status.
    pub ok: u16,
    /// Lists take `limit` (1–100) and `cursor` (the previous page's `nextCursor`).
    pub paged: bool,
    /// The body refuses fields it does not know (400 `unknown_field`/`invalid_field`).
    pub closed: bool,
    /// A body with no field at all is refused (400 `nothing_to_change`).
    pub non_empty: bool,
}

const fn op(method: &'static str, path: &'static str, summary: &'static str, caller: Caller, ok: u16) -> Op {
    Op {
        method,
        path,
        summary,
        caller,
        body: &[],
        ok,
        paged: false,
        closed: false,
        non_empty: false,
    }
}

const fn with(mut o: Op, body: &'static [Field]) -> Op {
    o.body = body;
    o
}

const fn paged(mut o: Op) -> Op {
    o.paged = true;
    o
}

/// The body refuses unknown fields (`additionalProperties: false`).
const fn closed(mut o: Op) -> Op {
    o.closed = true;
    o
}

/// The body must name at least one field (`minProperties: 1`).
const fn non_empty(mut o: Op) -> Op {
    o.non_empty = true;
    o
}

use Caller::{Member, Person, Provider, Public, SignedLink};

fn security(caller: Caller) -> Value {
    match caller {
        Public | Provider | SignedLink => json!([]),
        Person => json!([{ "session": [] }]),
        Member => json!([{ "session": [] }, { "apiKey": [] }]),
    }
}

/// The schema of path parameter `name` of `path`.
fn path_param(path: &str, name: &str) -> Value {
    match name {
        "slug" | "orgSlug" => schemas::slug_in_path(),
        "userId" => schemas::uuid(),
        "installationId" => schemas::installation_id_in_path(),
        "repoId" => schemas::repo_id(),
        "token" => schemas::link_token(),
        "provider" => schemas::provider(),
        "id" if path.starts_with("/api/auth/sessions") => schemas::uuid(),
        "id" if path.starts_with("/api/repos") => schemas::repo_id(),
        "id" => schemas::hex_id(),
        _ => schemas::string(),
    }
}

/// The error statuses an operation answers besides its success (each with the JSON
/// error body), from who calls it and what it reads.
fn error_statuses(o: &Op) -> Vec<u16> {
    let read = o.method == "GET";
    let mut statuses = vec![503];
    if !(read && o.path == "/api/openapi.json") {
        statuses.push(400);
    }
    if !read {
        // 403: the CSRF rule; 409: a uniqueness or state rule; 401: bad credentials.
        statuses.extend([401, 403, 409, 413, 429]);
    }
    if o.caller != Public {
        statuses.extend([401, 403, 404]);
    }
    if o.path.contains('{') || o.body.iter().any(|f| f.0 == "token") {
        // Unknown ids and links; links past their time.
        statuses.extend([404, 410]);
    }
    if o.caller == SignedLink {
        statuses.extend([401, 410, 429]);
    }
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

fn body_schema(o: &Op) -> Value {
    let mut props = Map::new();
    for (name, schema, _) in o.body {
        props.insert((*name).to_owned(), schema());
    }
    let required: Vec<&str> = o.body.iter().filter(|f| f.2).map(|f| f.0).collect();
    let mut schema = json!({ "type": "object", "properties": props, "required": required });
    if o.closed {
        schema["additionalProperties"] = json!(false);
    }
    if o.non_empty {
        schema["minProperties"] = json!(1);
    }
    if o.path == "/api/repos" && o.method == "POST" {
        // The repository's full name, shaped as its provider's (`url`, the clone or web
        // URL, is kept as the repository's link; the API also reads the name from it when
        // `fullName` is absent, which the document leaves out).
        // A token, or (GitHub only) an installation of the org: one of the two.
        schema["allOf"] = json!([
            { "oneOf": schemas::repo_full_name_by_provider() },
            { "oneOf": [
                { "required": ["token"], "not": { "required": ["installationId"] } },
                { "required": ["installationId"], "not": { "required": ["token"] },
                  "properties": { "provider": { "enum": ["github"] } } },
            ] },
        ]);
    }
    schema
}

fn operation(o: &Op) -> Value {
    let mut params: Vec<Value> = o
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": path_param(o.path, name) }))
        .collect();
    if o.paged {
        params.push(json!({ "name": "limit", "in": "query", "schema": {
            "type": "integer", "minimum": 1, "maximum": crate::store::PageRequest::MAX_LIMIT,
        } }));
        params.push(json!({ "name": "cursor", "in": "query",
            "description": "opaque: the previous page's nextCursor; any other string is 400 invalid_cursor",
            "schema": { "type": "string", "pattern": "^[A-Za-z0-9_-]{0,1368}$" } }));
    }
    if o.path.ends_with("/installations/{installationId}/repositories") {
        params.push(
            json!({ "name": "page", "in": "query", "description": "1-based; the answer's nextPage", "schema": {
            "type": "integer", "minimum": 1, "maximum": crate::services::installations::MAX_PICKER_PAGE,
        } }),
        );
    }
    if o.path == "/api/admin/orgs" {
        params.push(json!({ "name": "q", "in": "query", "description": "searches slug and name (the first 100 characters)", "schema": { "type": "string" } }));
    }
    if o.path.starts_with("/api/repos") {
        params.push(json!({ "name": "x-org-slug", "in": "header", "description": "the org, for a session (an API key names its own)", "schema": schemas::slug_in_path() }));
    }
    // The feedback link's parameters: the GET's query; the POST's form or JSON body, or
    // the query string when the body is empty.
    let feedback_link = o.path == "/api/feedback";
    if feedback_link {
        let required = o.method == "GET";
        for name in ["o", "c", "s", "sig"] {
            params.push(json!({ "name": name, "in": "query", "required": required, "schema": { "type": "string" } }));
        }
    }
    let description = match o.caller {
        Provider => {
            "Authenticated by the provider's signature under the org's webhook secret (GitHub `X-Hub-Signature-256`, GitLab `X-Gitlab-Token` or Standard Webhooks, Azure DevOps basic auth, Bitbucket `X-Hub-Signature`)."
        }
        SignedLink => "Authenticated by the link's HMAC signature under the org's feedback key; 410 after 90 days.",
        _ => "",
    };
    let mut responses = Map::new();
    let html = json!({ "text/html": { "schema": { "type": "string" } } });
    if feedback_link && o.method == "GET" {
        responses.insert(
            o.ok.to_string(),
            json!({ "description": ok_description(o.ok), "content": html }),
        );
    } else if o.ok == 204 {
        responses.insert(o.ok.to_string(), json!({ "description": ok_description(o.ok) }));
    } else {
        // An operation `ANSWERS` misses keeps a bare object (the unit test
        // `every_json_operation_has_its_answer` fails on it).
        responses.insert(
            o.ok.to_string(),
            json!({ "description": ok_description(o.ok), "content": { "application/json": { "schema": { "type": "object" } } } }),
        );
    }
    for answer in responses::answers_of(o.method, o.path) {
        let mut content = json!({ "application/json": { "schema": (answer.schema)() } });
        if feedback_link {
            // The vote answers a page to a browser (`Accept: text/html`).
            content["text/html"] = html["text/html"].clone();
        }
        responses.insert(
            answer.status.to_string(),
            json!({ "description": ok_description(answer.status), "content": content }),
        );
    }
    for status in error_statuses(o) {
        responses
            .entry(status.to_string())
            .or_insert_with(|| json!({ "$ref": "#/components/responses/Error" }));
    }
    let mut op = json!({
        "summary": o.summary,
        "operationId": operation_id(o),
        "security": security(o.caller),
        "parameters": params,
        "responses": responses,
    });
    if !description.is_empty() {
        op["description"] = json!(description);
    }
    if feedback_link && o.method == "POST" {
        let link = json!({ "type": "object", "properties": {
            "o": { "type": "string" }, "c": { "type": "string" }, "s": { "type": "string" }, "sig": { "type": "string" },
        } });
        op["requestBody"] = json!({
            "required": false,
            "content": { "application/x-www-form-urlencoded": { "schema": link }, "application/json": { "schema": link } },
        });
    }
    if !o.body.is_empty() {
        op["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": body_schema(o) } },
        });
    }
    op
}

fn ok_description(status: u16) -> &'static str {
    match status {
        201 => "created",
        202 => "accepted",
        204 => "done (no body)",
        _ => "ok",
    }
}

fn operation_id(o: &Op) -> String {
    let mut id = o.method.to_ascii_lowercase();
    for seg in o.path.trim_start_matches("/api/").split(['/', '-', '.']) {
        let seg = seg.trim_start_matches('{').trim_end_matches('}');
        let mut chars = seg.chars();
        if let Some(c) = chars.next() {
            id.push(c.to_ascii_uppercase());
            id.extend(chars);
        }
    }
    id
}

/// The document (built once per process by the caller).
pub fn document() -> Value {
    let mut paths = Map::new();
    for o in OPS {
        let entry = paths.entry(o.path.to_owned()).or_insert_with(|| json!({}));
        entry[o.method.to_ascii_lowercase()] = operation(o);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "AgnusAI control plane",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Organizations, members, invitations, webhook intake, repositories, review rules and settings, and the review feedback loop. Errors are `{\"error\": {\"code\", \"message\"}}`. State-changing requests with a session cookie must be JSON (`Content-Type: application/json`) and same-site.",
        },
        "servers": [{ "url": "/" }],
        "paths": paths,
        "components": {
            "schemas": records::components(),
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": crate::http::SESSION_COOKIE },
                "apiKey": { "type": "http", "scheme": "bearer", "description": "an org API key (`agn_…`)" },
            },
            "responses": {
                "Error": {
                    "description": "an error: 400 invalid input, 401 not authenticated, 403 not allowed (or the CSRF rule), 404 not found, 409 conflict, 410 gone, 413 too large, 429 rate limited (Retry-After), 503 retry later",
                    "content": { "application/json": { "schema": {
                        "type": "object",
                        "required": ["error"],
                        "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": {
                            "code": { "type": "string" }, "message": { "type": "string" },
                        } } },
                    } } },
                },
            },
        },
    })
}

/// The `/api` routes of the route table, as (method, path): what [`OPS`] must describe.
pub fn api_routes() -> Vec<(&'static str, &'static str)> {
    ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/api/"))
        .map(|r| (r.method, r.path))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_unique_and_readable() {
        let ids: std::collections::BTreeSet<String> = OPS.iter().map(operation_id).collect();
        assert_eq!(ids.len(), OPS.len());
        assert!(ids.contains("postOrgsSlugWebhooksRotate"), "{ids:?}");
        assert!(ids.contains("getOpenapiJson"));
    }

    #[test]
    fn bodies_and_parameters_are_described() {
        let doc = document();
        let rotate = &doc["paths"]["/api/orgs/{slug}/webhooks/rotate"]["post"];
        assert_eq!(
            rotate["requestBody"]["content"]["application/json"]["schema"]["required"],
            json!(["provider"])
        );
        assert_eq!(rotate["parameters"][0]["name"], "slug");
        let settings = &doc["paths"]["/api/orgs/{slug}/review-settings"]["patch"]["requestBody"]["content"]["application/json"]
            ["schema"];
        assert_eq!(
            settings["properties"]["maxComments"],
            json!({ "anyOf": [{ "type": "integer", "minimum": 1, "maximum": 100 }, { "type": "null" }] })
        );
        assert_eq!(settings["additionalProperties"], json!(false));
        assert_eq!(
            doc["paths"]["/api/auth/logout"]["post"]["responses"]["204"]["description"],
            "done (no body)"
        );
    }
    #[test]
    fn constraints_are_stated() {
        let doc = document();
        let body = |path: &str, method: &str| {
            doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"].clone()
        };
        let signup = body("/api/auth/signup", "post");
        assert_eq!(signup["properties"]["password"]["minLength"], 12);
        assert_eq!(signup["properties"]["email"]["format"], "email");
        let key = body("/api/orgs/{slug}/api-keys", "post");
        assert_eq!(key["properties"]["role"]["enum"], json!(["admin", "member"]));
        let update = body("/api/orgs/{slug}", "patch");
        assert_eq!(update["additionalProperties"], json!(false));
        assert_eq!(update["minProperties"], json!(1));
        assert_eq!(
            body("/api/orgs/{slug}/rules", "post")["required"],
            json!(["name", "description", "category"])
        );
        let slug = &doc["paths"]["/api/orgs/{slug}"]["get"]["parameters"][0]["schema"];
        assert_eq!(slug["pattern"], schemas::SLUG_PATTERN);
        let login = &doc["paths"]["/api/auth/login"]["post"]["responses"];
        for status in ["200", "400", "401", "403", "429"] {
            assert!(login.get(status).is_some(), "login lacks {status}");
        }
        assert!(login.get("default").is_none());
    }
}
