//! Connecting a repository (`POST /api/repos`) first asks its provider whether the token
//! may write reviews there. Four GET requests, made over the AWS SDK's own HTTP client
//! (hyper, rustls over aws-lc) that every function already links: the repos function
//! carries no second HTTP and TLS stack (`reqwest`) for them — that stack alone put its
//! bootstrap over the 6 MB budget (BENCHMARKS.md, "Bootstrap sizes").
//!
//! The request semantics are the review engine's `reqwest` client's: one overall timeout
//! (`AGNUS_PROVIDER_TIMEOUT_SECS`), a 10 s connect timeout, up to 10 redirects followed
//! (credentials dropped when one leaves the origin), and the same classification of a
//! refusal ([`crate::provider_api::classify`]).

use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_http_client::Connector;
use aws_smithy_http_client::tls::Provider as Tls;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorSettings};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::Uri;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::ProviderApis;
use crate::domain::Provider;
use crate::provider_api::{CallError, azure_repository, classify, decode, encode, gitlab_api};
use crate::trigger::TokenIdentity;

const USER_AGENT: &str = concat!("agnus-repos/", env!("CARGO_PKG_VERSION"));
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most a provider answer read here may hold.
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;
/// What `reqwest` follows by default; one more is a network error.
const MAX_REDIRECTS: usize = 10;
/// Azure DevOps REST version of every call.
const AZURE_API_VERSION: &str = "api-version=7.1";
/// GitLab's Developer role: may comment on and push to merge requests.
const GITLAB_DEVELOPER: u32 = 30;

/// The providers' API roots and the HTTP connector of the access check.
#[derive(Debug)]
pub struct RepoAccess {
    github: String,
    gitlab: String,
    azure: String,
    bitbucket: String,
    timeout: Duration,
    /// Built on first use: only connecting a repository needs it, so a cold start does
    /// not load the TLS roots for requests that never check access.
    connector: OnceLock<Connector>,
}

/// One request header (name, value).
pub(crate) type Header = (&'static str, String);

impl RepoAccess {
    pub fn new(apis: &ProviderApis) -> Self {
        Self {
            github: apis.github_api_url.trim_end_matches('/').to_owned(),
            gitlab: gitlab_api(&apis.gitlab_url),
            azure: apis.azure_devops_url.trim_end_matches('/').to_owned(),
            bitbucket: apis.bitbucket_api_url.trim_end_matches('/').to_owned(),
            timeout: apis.timeout,
            connector: OnceLock::new(),
        }
    }

    /// May `token` write to the repository `full_name` at `provider` (what posting a
    /// review needs)? `Ok(false)`: it can read only; 401/403/404: it cannot see it.
    pub async fn can_write(
        &self,
        provider: Provider,
        full_name: &str,
        token: &SecretString,
    ) -> Result<bool, CallError> {
        let bearer = || ("authorization", format!("Bearer {}", token.expose_secret()));
        match provider {
            // `GET /repos/{owner}/{repo}`: push, maintain or admin permission.
            Provider::Github => {
                let url = format!("{}/repos/{full_name}", self.github);
                let headers = [
                    bearer(),
                    ("accept", "application/vnd.github+json".into()),
                    ("x-github-api-version", "2022-11-28".into()),
                ];
                let repo: GithubRepository = decode(&self.get(url, &headers).await?, "GitHub")?;
                let p = repo.permissions;
                Ok(p.push || p.maintain || p.admin)
            }
            // `GET /projects/:id`: the project or group access level is Developer or more.
            Provider::Gitlab => {
                let url = format!("{}/projects/{}", self.gitlab, encode(full_name));
                let project: GitlabProject = decode(&self.get(url, &[bearer()]).await?, "GitLab")?;
                let p = project.permissions;
                let level = |a: Option<GitlabAccess>| a.map_or(0, |a| a.access_level);
                Ok(level(p.project_access).max(level(p.group_access)) >= GITLAB_DEVELOPER)
            }
            // The repository answered for the token (Azure DevOps shows no per-repository
            // write permission to a personal access token). HTTP Basic, empty user name.
            Provider::Azure => {
                let url = format!("{}?{AZURE_API_VERSION}", azure_repository(&self.azure, full_name));
                let basic = STANDARD.encode(format!(":{}", token.expose_secret()));
                self.get(url, &[("authorization", format!("Basic {basic}"))]).await?;
                Ok(true)
            }
            // `GET /user/permissions/repositories?q=repository.full_name="ws/repo"`:
            // `write` or `admin`.
            Provider::Bitbucket => {
                let q = encode(&format!("repository.full_name=\"{full_name}\""));
                let url = format!("{}/user/permissions/repositories?q={q}", self.bitbucket);
                let found: BitbucketPermissions = decode(&self.get(url, &[bearer()]).await?, "Bitbucket")?;
                Ok(found
                    .values
                    .iter()
                    .any(|v| v.permission == "write" || v.permission == "admin"))
            }
        }
    }

    /// Who `token` acts as at `provider` (what the engine's own comments are authored
    /// by): GitHub `GET /user`, GitLab `GET /user`, Bitbucket `GET /user`, Azure DevOps
    /// `GET /{organization}/_apis/connectionData` (its `authenticatedUser`).
    pub async fn identity(
        &self,
        provider: Provider,
        full_name: &str,
        token: &SecretString,
    ) -> Result<TokenIdentity, CallError> {
        let bearer = || ("authorization", format!("Bearer {}", token.expose_secret()));
        let id = |v: &serde_json::Value, k: &str| match &v[k] {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let login = |v: &serde_json::Value, k: &str| v[k].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        Ok(match provider {
            Provider::Github => {
                let headers = [
                    bearer(),
                    ("accept", "application/vnd.github+json".into()),
                    ("x-github-api-version", "2022-11-28".into()),
                ];
                let me: serde_json::Value =
                    decode(&self.get(format!("{}/user", self.github), &headers).await?, "GitHub")?;
                TokenIdentity {
                    id: id(&me, "id"),
                    login: login(&me, "login"),
                }
            }
            Provider::Gitlab => {
                let me: serde_json::Value =
                    decode(&self.get(format!("{}/user", self.gitlab), &[bearer()]).await?, "GitLab")?;
                TokenIdentity {
                    id: id(&me, "id"),
                    login: login(&me, "username"),
                }
            }
            Provider::Bitbucket => {
                let me: serde_json::Value = decode(
                    &self.get(format!("{}/user", self.bitbucket), &[bearer()]).await?,
                    "Bitbucket",
                )?;
                TokenIdentity {
                    id: id(&me, "uuid").or_else(|| id(&me, "account_id")),
                    login: login(&me, "nickname"),
                }
            }
            Provider::Azure => {
                let organization = full_name.split('/').next().unwrap_or_default();
                let url = format!("{}/{}/_apis/connectionData", self.azure, encode(organization));
                let basic = STANDARD.encode(format!(":{}", token.expose_secret()));
                let data: serde_json::Value = decode(
                    &self.get(url, &[("authorization", format!("Basic {basic}"))]).await?,
                    "Azure DevOps",
                )?;
                let me = &data["authenticatedUser"];
                TokenIdentity {
                    id: id(me, "id"),
                    login: login(me, "providerDisplayName"),
                }
            }
        })
    }

    fn connector(&self) -> &Connector {
        self.connector.get_or_init(|| direct_connector(CONNECT_TIMEOUT))
    }

    /// The body of a success, within the overall timeout.
    async fn get(&self, url: String, headers: &[Header]) -> Result<Vec<u8>, CallError> {
        self.send("GET", url, headers, None).await
    }

    /// The GitHub REST API's root (GitHub App calls, `github_app::client`).
    pub(crate) fn github_api(&self) -> &str {
        &self.github
    }

    /// One call (`GET` follows redirects; other methods do not), within the overall
    /// timeout: the body of a success.
    pub(crate) async fn send(
        &self,
        method: &'static str,
        url: String,
        headers: &[Header],
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, CallError> {
        tokio::time::timeout(self.timeout, self.follow(method, url, headers, body))
            .await
            .map_err(|_| CallError::network("timed out"))?
    }

    /// Sends `method url`, following redirects of GETs; credentials go only to the first
    /// URL's origin.
    async fn follow(
        &self,
        method: &'static str,
        mut url: String,
        headers: &[Header],
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, CallError> {
        let first = origin(&url);
        for _ in 0..=MAX_REDIRECTS {
            let mut request = match &body {
                Some(bytes) => {
                    let mut r = HttpRequest::new(SdkBody::from(bytes.clone()));
                    r.set_uri(url.as_str()).map_err(CallError::network)?;
                    r.headers_mut()
                        .try_insert("content-type", "application/json")
                        .map_err(CallError::network)?;
                    r
                }
                None => HttpRequest::get(&url).map_err(CallError::network)?,
            };
            request.set_method(method).map_err(CallError::network)?;
            let same_origin = first.is_some() && origin(&url) == first;
            request
                .headers_mut()
                .try_insert("user-agent", USER_AGENT)
                .map_err(CallError::network)?;
            for (name, value) in headers {
                if *name == "authorization" && !same_origin {
                    continue;
                }
                request
                    .headers_mut()
                    .try_insert(*name, value.clone())
                    .map_err(|_| CallError::network(format!("{name} is not a valid header value")))?;
            }
            let response = self.connector().call(request).await.map_err(CallError::network)?;
            let status = response.status().as_u16();
            let location = response.headers().get("location").map(str::to_owned);
            if let (301 | 302 | 303 | 307 | 308, Some(location), "GET") = (status, location, method) {
                url = resolve(&url, &location);
                continue;
            }
            let response = response.try_into_http1x().map_err(CallError::network)?;
            if !response.status().is_success() {
                return Err(classify(response.status(), response.headers()));
            }
            // Read as it streams, at most MAX_ANSWER_BYTES (the answers read here are small
            // JSON documents: a repository, a permission list, an installation, one page
            // of 100 repositories).
            let mut stream = ByteStream::new(response.into_body());
            let mut body = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(CallError::network)?;
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(CallError::TooLarge {
                        limit: MAX_ANSWER_BYTES,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(body);
        }
        Err(CallError::network("too many redirects"))
    }
}

/// An HTTPS connector of the AWS SDK's HTTP client (hyper, rustls over aws-lc) for calls
/// outside the SDK: the access check here, the embeddings client (`embeddings`).
pub(crate) fn direct_connector(connect_timeout: Duration) -> Connector {
    Connector::builder()
        .connector_settings(
            HttpConnectorSettings::builder()
                .connect_timeout(connect_timeout)
                .build(),
        )
        .tls_provider(Tls::Rustls(CryptoMode::AwsLc))
        .build()
}

/// Scheme, host and port of an absolute URL.
fn origin(url: &str) -> Option<(String, String, Option<u16>)> {
    let uri: Uri = url.parse().ok()?;
    Some((uri.scheme_str()?.to_owned(), uri.host()?.to_owned(), uri.port_u16()))
}

/// A `Location` against the URL that answered it: absolute, origin-relative (`/…`) or
/// relative to the answering path.
fn resolve(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_owned();
    }
    let Ok(uri) = base.parse::<Uri>() else {
        return location.to_owned();
    };
    let root = format!(
        "{}://{}",
        uri.scheme_str().unwrap_or("https"),
        uri.authority().map(|a| a.as_str()).unwrap_or_default()
    );
    if location.starts_with('/') {
        return format!("{root}{location}");
    }
    let dir = uri.path().rsplit_once('/').map_or("", |(dir, _)| dir);
    format!("{root}{dir}/{location}")
}

#[derive(Debug, Default, Deserialize)]
struct GithubPermissions {
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    maintain: bool,
    #[serde(default)]
    push: bool,
}

#[derive(Debug, Deserialize)]
struct GithubRepository {
    #[serde(default)]
    permissions: GithubPermissions,
}

#[derive(Debug, Deserialize)]
struct GitlabAccess {
    #[serde(default)]
    access_level: u32,
}

#[derive(Debug, Default, Deserialize)]
struct GitlabPermissions {
    #[serde(default)]
    project_access: Option<GitlabAccess>,
    #[serde(default)]
    group_access: Option<GitlabAccess>,
}

#[derive(Debug, Deserialize)]
struct GitlabProject {
    #[serde(default)]
    permissions: GitlabPermissions,
}

#[derive(Debug, Deserialize)]
struct BitbucketPermission {
    #[serde(default)]
    permission: String,
}

#[derive(Debug, Deserialize)]
struct BitbucketPermissions {
    #[serde(default)]
    values: Vec<BitbucketPermission>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;

    /// A one-request HTTP/1.1 server: sends each request's header lines to `seen` and
    /// answers `response`.
    fn serve_once(response: String) -> (String, mpsc::Receiver<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut lines = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                lines.push(line.trim_end().to_ascii_lowercase());
            }
            tx.send(lines).unwrap();
            (&stream).write_all(response.as_bytes()).unwrap();
        });
        (url, rx)
    }

    fn apis(github: &str) -> ProviderApis {
        ProviderApis {
            github_api_url: github.into(),
            gitlab_url: github.into(),
            azure_devops_url: github.into(),
            bitbucket_api_url: github.into(),
            timeout: Duration::from_secs(5),
        }
    }

    /// As reqwest did: a redirect is followed, and the token does not go to another origin.
    #[tokio::test]
    async fn redirects_are_followed_without_the_token_leaving_the_origin() {
        let body = r#"{"permissions":{"push":true}}"#;
        let (moved, moved_seen) = serve_once(format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ));
        let (first, first_seen) = serve_once(format!(
            "HTTP/1.1 301 Moved Permanently\r\nlocation: {moved}/repositories/42\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        ));
        let access = RepoAccess::new(&apis(&first));
        let token = SecretString::from("t0ken".to_owned());
        assert_eq!(access.can_write(Provider::Github, "o/r", &token).await, Ok(true));
        let first = first_seen.recv().unwrap();
        assert_eq!(first[0], "get /repos/o/r http/1.1");
        assert!(first.contains(&"authorization: bearer t0ken".to_owned()));
        assert!(first.iter().any(|l| l.starts_with("user-agent: agnus-repos/")));
        let moved = moved_seen.recv().unwrap();
        assert_eq!(moved[0], "get /repositories/42 http/1.1");
        assert!(!moved.iter().any(|l| l.starts_with("authorization")));
    }

    #[tokio::test]
    async fn an_answer_over_the_cap_is_too_large_not_read_whole() {
        let big = "x".repeat(MAX_ANSWER_BYTES + 1);
        let (url, _seen) = serve_once(format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{big}",
            big.len()
        ));
        let access = RepoAccess::new(&apis(&url));
        let token = SecretString::from("t".to_owned());
        assert_eq!(
            access.can_write(Provider::Github, "o/r", &token).await,
            Err(CallError::TooLarge {
                limit: MAX_ANSWER_BYTES
            })
        );
    }

    #[tokio::test]
    async fn refusals_and_unreachable_hosts_are_classified() {
        let (url, _seen) =
            serve_once("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into());
        let token = SecretString::from("t".to_owned());
        let access = RepoAccess::new(&apis(&url));
        assert_eq!(
            access.can_write(Provider::Gitlab, "g/p", &token).await,
            Err(CallError::NotFound)
        );
        // The listener is gone: connection refused, retry later (no HTTP status).
        let access = RepoAccess::new(&apis(&url));
        let err = access.can_write(Provider::Bitbucket, "w/r", &token).await.unwrap_err();
        assert!(matches!(err, CallError::RetryLater { status: 0, .. }), "{err:?}");
    }

    #[test]
    fn redirects_resolve_against_the_answering_url() {
        let base = "https://api.example/2.0/repositories/ws/r?q=1";
        assert_eq!(resolve(base, "https://other.example/x"), "https://other.example/x");
        assert_eq!(resolve(base, "/y/z"), "https://api.example/y/z");
        assert_eq!(resolve(base, "s"), "https://api.example/2.0/repositories/ws/s");
        assert_eq!(
            origin("http://127.0.0.1:8080/a"),
            Some(("http".into(), "127.0.0.1".into(), Some(8080)))
        );
        assert_ne!(origin("https://a.example/x"), origin("https://b.example/x"));
    }
}
