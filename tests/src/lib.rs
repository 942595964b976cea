//! Harness for the black-box tests: makes sure the AWS emulator is running and
//! provisioned (starting it with the project's own scripts when needed), builds function
//! state against it, and drives the HTTP handlers with API Gateway-shaped requests.

use std::collections::HashMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use agnus_auth::AuthState;
use agnus_shared::config::AuthConfig;
use aws_sdk_dynamodb::config::{Credentials, Region};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::http::{self, HeaderMap, Method};
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use serde_json::Value;

pub mod logs;
pub mod review;
pub use logs::CapturedLogs;

pub const JWT_SECRET: &str = "test-only-jwt-key-0123456789abcdef0123456789";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The emulator endpoint: `AWS_ENDPOINT_URL` if set, else the default local one.
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| "http://127.0.0.1:4566".to_owned())
}

fn prefix() -> String {
    std::env::var("AGNUS_PREFIX").unwrap_or_else(|_| "agnus-local".to_owned())
}

pub fn table_name() -> String {
    format!("{}-main", prefix())
}

fn run_script(args: &[&str]) {
    let status = Command::new("bash")
        .args(args)
        .current_dir(repo_root())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"));
    assert!(status.success(), "{args:?} failed with {status}");
}

/// Starts (if needed) and provisions the emulator, once per test binary.
pub fn ensure_emulator() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        // Function logs show up with a failing test's output (RUST_LOG to change the level).
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter(filter).try_init();
        let url = endpoint();
        let hostport = url.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let reachable = hostport
            .parse()
            .ok()
            .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok());
        if !reachable {
            run_script(&["localstack/start.sh"]);
        }
        run_script(&[
            "-c",
            "source localstack/config.sh && \"$AGNUS_VENV/bin/python\" localstack/provision.py --env-out \"$AGNUS_STATE_DIR/outputs.env\" >/dev/null",
        ]);
    });
}

/// The provisioned resources (table, queue, bucket, key) as the functions' env variables,
/// from where `localstack/config.sh` told provisioning to write them: `$AGNUS_STATE_DIR`
/// when the shell sets it (as the scripts honour it), else the checkout's `.local/`.
pub fn outputs() -> HashMap<String, String> {
    ensure_emulator();
    let state = std::env::var_os("AGNUS_STATE_DIR").map_or_else(|| repo_root().join(".local"), PathBuf::from);
    let path = state.join("outputs.env");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("provisioning should have written {}: {e}", path.display()));
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Shared SDK configuration pointed at the emulator.
pub async fn sdk() -> aws_config::SdkConfig {
    ensure_emulator();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "agnus-tests"))
        .load()
        .await
}

/// A fresh, empty SQS queue for one test (so tests never see each other's messages).
pub async fn fresh_queue() -> String {
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    sqs.create_queue()
        .queue_name(format!("test-{}", uuid::Uuid::new_v4().simple()))
        .attributes(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout, "30")
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("queue url")
}

/// Every message currently on `queue` (received and deleted).
pub async fn drain(queue: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    let mut all = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .wait_time_seconds(0)
            .send()
            .await
            .expect("receive");
        let batch = out.messages.unwrap_or_default();
        if batch.is_empty() {
            return all;
        }
        for m in &batch {
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
        all.extend(batch);
    }
}

/// A DynamoDB client pointed at the emulator (for inspecting what the functions wrote).
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk().await)
}

/// Configuration as the functions would read it, plus overrides.
pub fn auth_config(overrides: &[(&str, &str)]) -> AuthConfig {
    AuthConfig::from_source(&env_map(overrides)).expect("test config is valid")
}

/// The auth function's state against the emulator.
pub async fn auth_state(overrides: &[(&str, &str)]) -> Arc<AuthState> {
    let sdk = sdk().await;
    Arc::new(AuthState::new(
        auth_config(overrides),
        aws_sdk_dynamodb::Client::new(&sdk),
        aws_sdk_kms::Client::new(&sdk),
    ))
}

/// A random client IP, so tests never share rate-limit windows.
pub fn random_ip() -> String {
    let b = uuid::Uuid::new_v4().into_bytes();
    format!("10.{}.{}.{}", b[0], b[1], b[2])
}

/// A unique, valid email for one test.
pub fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// A unique, valid slug for one test.
pub fn unique_slug(tag: &str) -> String {
    format!("{tag}-{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

/// An API Gateway (HTTP API, payload 2.0) request as Lambda hands it to the function.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub source_ip: String,
}

impl Call {
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.parse().expect("method"),
            path: path.to_owned(),
            headers: Vec::new(),
            body: None,
            source_ip: random_ip(),
        }
    }
    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }
    pub fn post(path: &str) -> Self {
        Self::new("POST", path)
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    /// JSON body with the JSON content type.
    pub fn json(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .raw_body(body.to_string().into_bytes())
    }
    pub fn raw_body(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }
    pub fn cookie(self, cookie: &str) -> Self {
        self.header("cookie", cookie)
    }
    pub fn from_ip(mut self, ip: &str) -> Self {
        ip.clone_into(&mut self.source_ip);
        self
    }

    pub fn into_request(self) -> lambda_http::Request {
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(self.path.clone());
        for (k, v) in &self.headers {
            builder = builder.header(k, v);
        }
        let body = match self.body {
            Some(b) => Body::Binary(b),
            None => Body::Empty,
        };
        let (path, query) = match self.path.split_once('?') {
            Some((p, q)) => (p.to_owned(), q.to_owned()),
            None => (self.path.clone(), String::new()),
        };
        let query: HashMap<String, String> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let mut ctx = ApiGatewayV2httpRequestContext::default();
        ctx.request_id = Some(uuid::Uuid::new_v4().to_string());
        ctx.http.method = self.method;
        ctx.http.path = Some(path);
        ctx.http.protocol = Some("HTTP/1.1".to_owned());
        ctx.http.source_ip = Some(self.source_ip);
        ctx.http.user_agent = Some("agnus-tests".to_owned());
        builder
            .body(body)
            .expect("request")
            .with_query_string_parameters(query)
            .with_request_context(RequestContext::ApiGatewayV2(ctx))
    }
}

/// A handler's answer, decoded.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn from_response(r: lambda_http::Response<Body>) -> Self {
        let (parts, body) = r.into_parts();
        Self {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: body.as_ref().to_vec(),
        }
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
    }
    /// The session cookie (`agnus_session=…`) from `Set-Cookie`, ready for a `Cookie` header.
    pub fn session_cookie(&self) -> Option<String> {
        self.set_cookie().and_then(|c| c.split(';').next().map(str::to_owned))
    }
    pub fn set_cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("agnus_session="))
            .map(str::to_owned)
    }
}

/// Calls the auth handler directly.
pub async fn call_auth(state: &AuthState, call: Call) -> Answer {
    Answer::from_response(Box::pin(agnus_auth::handle(state, call.into_request())).await)
}

/// Signs up a fresh user with their own org; returns (email, password, slug, cookie).
pub async fn signup(state: &AuthState) -> (String, String, String, String) {
    let email = unique_email("user");
    let slug = unique_slug("org");
    let password = "correct horse battery staple".to_owned();
    let a = call_auth(
        state,
        Call::post("/api/auth/signup").json(&serde_json::json!({
            "email": email, "password": password, "orgName": "Test Org", "orgSlug": slug
        })),
    )
    .await;
    assert_eq!(a.status, 201, "signup failed: {}", String::from_utf8_lossy(&a.body));
    let cookie = a.session_cookie().expect("signup sets the session cookie");
    (email, password, slug, cookie)
}

/// Configuration map shared by every function in tests (plus overrides).
pub fn env_map(overrides: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env = outputs();
    env.insert("AGNUS_JWT_SECRET".to_owned(), JWT_SECRET.to_owned());
    env.insert("AGNUS_S3_FORCE_PATH_STYLE".to_owned(), "true".to_owned());
    for (k, v) in overrides {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    env
}

/// Every HTTP function's state, sharing one configuration, dispatched by the route table
/// the way API Gateway would.
#[derive(Debug, Clone)]
pub struct Api {
    pub auth: Arc<AuthState>,
    pub orgs: Arc<agnus_orgs::OrgsState>,
    pub intake: Arc<agnus_intake::IntakeState>,
    pub invites: Arc<agnus_invites::InvitesState>,
    pub repos: Arc<agnus_repos::ReposState>,
    pub worker: Arc<agnus_worker::WorkerState>,
    /// Every function's clock: a test moves time forward (`api.clock.advance(..)`) to
    /// expire things, instead of editing items.
    pub clock: agnus_shared::clock::Clock,
}

impl Api {
    pub async fn new(overrides: &[(&str, &str)]) -> Self {
        let sdk = sdk().await;
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        let kms = aws_sdk_kms::Client::new(&sdk);
        let mut env = env_map(overrides);
        // Provider APIs (connecting a repository checks its token there): the process's
        // stand-in unless the test brings its own.
        for (name, path) in review::PROVIDER_URLS {
            if !env.contains_key(name) {
                env.insert(name.to_owned(), format!("{}{path}", review::shared_standin().url));
            }
        }
        let intake_config = agnus_shared::config::IntakeConfig::from_source(&env).expect("intake config");
        let clock = agnus_shared::clock::Clock::manual();
        let timed = |store: &mut agnus_shared::store::Store| *store = store.clone().with_clock(clock.clone());
        Self {
            auth: Arc::new({
                let mut s = AuthState::new(
                    AuthConfig::from_source(&env).expect("auth config"),
                    ddb.clone(),
                    kms.clone(),
                );
                timed(&mut s.store);
                s
            }),
            orgs: Arc::new({
                let mut s = agnus_orgs::OrgsState::new(
                    agnus_shared::config::OrgsConfig::from_source(&env).expect("orgs config"),
                    ddb.clone(),
                    kms.clone(),
                )
                .with_embeddings(&sdk);
                timed(&mut s.store);
                s
            }),
            repos: Arc::new({
                let mut s = agnus_repos::ReposState::new(
                    agnus_shared::config::ReposConfig::from_source(&env).expect("repos config"),
                    ddb.clone(),
                    kms.clone(),
                    agnus_shared::aws::sqs_sender(&sdk).expect("SQS sender"),
                );
                timed(&mut s.store);
                s
            }),
            worker: {
                let store = agnus_shared::store::Store::new(ddb.clone(), table_name()).with_clock(clock.clone());
                Arc::new(agnus_worker::WorkerState::new(
                    agnus_shared::config::WorkerConfig::from_source(&env).expect("worker config"),
                    store.clone(),
                    agnus_shared::aws::s3(&sdk, true),
                    Arc::new(agnus_shared::reviewer::QueueReviewer::new(
                        store,
                        aws_sdk_sqs::Client::new(&sdk),
                        env["AGNUS_REVIEW_JOBS_QUEUE_URL"].clone(),
                    )),
                    agnus_shared::index_jobs::IndexJobs::new(
                        agnus_shared::aws::sqs_sender(&sdk).expect("SQS sender"),
                        env["AGNUS_INDEX_JOBS_QUEUE_URL"].clone(),
                    ),
                ))
            },
            invites: Arc::new({
                let mut s = agnus_invites::InvitesState::new(
                    agnus_shared::config::InvitesConfig::from_source(&env).expect("invites config"),
                    ddb.clone(),
                    Arc::new(agnus_shared::email::NoEmailSender),
                );
                timed(&mut s.store);
                s
            }),
            intake: Arc::new({
                let mut s = agnus_intake::IntakeState::new(
                    intake_config,
                    ddb,
                    kms,
                    agnus_shared::aws::sqs_sender(&sdk).expect("SQS sender"),
                    agnus_shared::aws::s3(&sdk, true),
                );
                timed(&mut s.store);
                s
            }),
            clock,
        }
    }

    pub async fn call(&self, call: Call) -> Answer {
        use agnus_shared::routes::{Matched, ROUTES, find};
        let path = call.path.split('?').next().unwrap_or_default().to_owned();
        // The function serving this method and path; else one that knows the path (405).
        let serves = |want_route: bool| {
            ROUTES
                .iter()
                .map(|r| r.function)
                .find(|f| match find(f, call.method.as_str(), &path) {
                    Matched::Route(..) => true,
                    Matched::WrongMethod => !want_route,
                    Matched::NotFound => false,
                })
        };
        let function = serves(true).or_else(|| serves(false)).unwrap_or("auth");
        let request = call.into_request();
        let response = match function {
            // Boxed: the handlers' futures are large for a test thread's stack.
            "orgs" => Box::pin(agnus_orgs::handle(&self.orgs, request)).await,
            "intake" => Box::pin(agnus_intake::handle(&self.intake, request)).await,
            "invites" => Box::pin(agnus_invites::handle(&self.invites, request)).await,
            "repos" => Box::pin(agnus_repos::handle(&self.repos, request)).await,
            _ => Box::pin(agnus_auth::handle(&self.auth, request)).await,
        };
        Answer::from_response(response)
    }

    /// Signs up a fresh user (with their own org).
    pub async fn user(&self) -> TestUser {
        let email = unique_email("user");
        let slug = unique_slug("org");
        let password = "correct horse battery staple".to_owned();
        let a = self
            .call(Call::post("/api/auth/signup").json(&serde_json::json!({
                "email": email, "password": password, "orgName": "Test Org", "orgSlug": slug
            })))
            .await;
        assert_eq!(a.status, 201, "signup failed: {}", String::from_utf8_lossy(&a.body));
        let secrets = a.json()["webhooks"]
            .as_array()
            .expect("signup shows the webhook secrets once")
            .iter()
            .map(|w| {
                (
                    w["provider"].as_str().unwrap_or_default().to_owned(),
                    w["secret"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        TestUser {
            id: a.json()["user"]["id"].as_str().expect("user id").to_owned(),
            cookie: a.session_cookie().expect("cookie"),
            email,
            password,
            slug,
            secrets,
        }
    }

    /// A system admin (seeded like ADMIN_EMAIL/ADMIN_PASSWORD would), logged in.
    /// `user` with a fresh session (after the clock moved past the old one's end).
    pub async fn log_in_again(&self, user: TestUser) -> TestUser {
        let a = self
            .call(Call::post("/api/auth/login").json(&serde_json::json!({
                "email": user.email, "password": user.password
            })))
            .await;
        assert_eq!(a.status, 200, "login failed: {}", String::from_utf8_lossy(&a.body));
        TestUser {
            cookie: a.session_cookie().expect("cookie"),
            ..user
        }
    }

    pub async fn system_admin(&self) -> TestUser {
        let email = unique_email("root");
        let password = "system admin password".to_owned();
        let seeded = auth_state(&[("ADMIN_EMAIL", &email), ("ADMIN_PASSWORD", &password)]).await;
        agnus_auth::bootstrap_admin(&seeded).await.expect("seed admin");
        let a = self
            .call(Call::post("/api/auth/login").json(&serde_json::json!({"email": email, "password": password})))
            .await;
        assert_eq!(a.status, 200);
        TestUser {
            id: a.json()["user"]["id"].as_str().expect("id").to_owned(),
            cookie: a.session_cookie().expect("cookie"),
            email,
            password,
            slug: String::new(),
            secrets: HashMap::new(),
        }
    }

    /// The actions of the org's latest audit entries (up to 100), newest first.
    pub async fn audit_actions(&self, slug: &str, who: &TestUser) -> Vec<String> {
        let audit = self
            .call(Call::get(&format!("/api/orgs/{slug}/audit?limit=100")).cookie(&who.cookie))
            .await
            .json();
        audit["events"]
            .as_array()
            .expect("audit events")
            .iter()
            .filter_map(|e| e["action"].as_str().map(str::to_owned))
            .collect()
    }

    /// `user` joins `slug` with `role`: `admin` adds them (an invitation) and they accept
    /// it with their session.
    pub async fn add_member(&self, admin: &TestUser, slug: &str, user: &TestUser, role: &str) {
        let a = self
            .call(
                Call::post(&format!("/api/orgs/{slug}/members"))
                    .cookie(&admin.cookie)
                    .json(&serde_json::json!({"email": user.email, "role": role})),
            )
            .await;
        assert_eq!(a.status, 201, "add member: {}", String::from_utf8_lossy(&a.body));
        let token = invite_token(&a);
        let accepted = self
            .call(
                Call::post("/api/auth/accept-invite")
                    .cookie(&user.cookie)
                    .json(&serde_json::json!({ "token": token })),
            )
            .await;
        assert_eq!(
            accepted.status,
            200,
            "accept: {}",
            String::from_utf8_lossy(&accepted.body)
        );
    }
}

/// The token of the accept link in an invitation answer.
pub fn invite_token(a: &Answer) -> String {
    a.json()["acceptUrl"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("acceptUrl")
        .to_owned()
}

/// A signed-up user in tests.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub password: String,
    /// The org created at signup.
    pub slug: String,
    pub cookie: String,
    /// The webhook secrets of the signup org, by provider (shown once at signup).
    pub secrets: HashMap<String, String>,
}

/// Every item of the table (paginated scan), for "nothing secret at rest" checks.
pub async fn scan_all() -> Vec<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    scan_table(&table_name()).await
}

/// Every item of one table (paginated scan).
pub async fn scan_table(table: &str) -> Vec<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let ddb = dynamodb().await;
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = ddb
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        items.extend(out.items.unwrap_or_default());
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return items,
        }
    }
}

/// The stored user item for an email (through the unique email claim).
pub async fn user_item(email: &str) -> HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let ddb = dynamodb().await;
    let claim = ddb
        .get_item()
        .table_name(table_name())
        .key("pk", AttributeValue::S(format!("EMAIL#{email}")))
        .key("sk", AttributeValue::S("EMAIL".into()))
        .send()
        .await
        .expect("get")
        .item
        .expect("email claim");
    let user_id = claim["user_id"].as_s().expect("user id").clone();
    ddb.get_item()
        .table_name(table_name())
        .key("pk", AttributeValue::S(format!("USER#{user_id}")))
        .key("sk", AttributeValue::S("PROFILE".into()))
        .send()
        .await
        .expect("get")
        .item
        .expect("user item")
}

/// Runs the worker in process, as the event-source mapping's invoker.
#[derive(Debug, Clone)]
pub struct InProcessWorker(pub Arc<agnus_worker::WorkerState>);

impl agnus_cli::esm::Invoker for InProcessWorker {
    fn invoke(&self, event: aws_lambda_events::sqs::SqsEvent) -> agnus_cli::esm::InvokeFuture<'_> {
        Box::pin(async move { Ok(agnus_worker::handle(&self.0, event).await) })
    }
}

/// A throwaway PostgreSQL (`tests/pg/start.sh`: initdb + postgres on a free loopback
/// port, data under `target/`), started once per test binary and stopped (its data
/// removed) by the script's watchdog when the binary exits. Answers its connection URL.
pub fn postgres_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let out = Command::new("bash")
            .args(["tests/pg/start.sh", "--owner-pid", &std::process::id().to_string()])
            .current_dir(repo_root())
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run tests/pg/start.sh");
        assert!(out.status.success(), "tests/pg/start.sh failed");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("DATABASE_URL="))
            .expect("start.sh prints DATABASE_URL")
            .to_owned()
    })
    .clone()
}
